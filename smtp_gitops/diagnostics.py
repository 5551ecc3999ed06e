"""The diagnostic record every check produces, and the report that collects them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """A place in a file; line and column are 1-based."""

    file: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Diagnostic:
    rule: str
    severity: Severity
    mark: Mark
    message: str
    hint: str | None = None
    # The end of the offending token, when known, so SARIF regions can span it.
    end: Mark | None = None
    # Where the finding is in the document's terms (``spec.sets[backup].enabled``), when known:
    # unlike the line, it stays put when lines are added above, so SARIF fingerprints use it.
    where: str | None = None

    @property
    def file(self) -> str:
        return self.mark.file

    @property
    def line(self) -> int:
        return self.mark.line

    @property
    def column(self) -> int:
        return self.mark.column

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file, self.line, self.column, self.rule, self.message)

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }
        if self.hint:
            data["hint"] = self.hint
        return data


@dataclass(slots=True)
class Report:
    """Everything one validation run found, in a stable order."""

    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity is Severity.WARNING)

    def add(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    def finish(self) -> None:
        """Drop repeats (a base-file problem seen through several environments) and sort."""
        unique = {(d.sort_key(), d.severity): d for d in self.diagnostics}
        self.diagnostics = sorted(unique.values(), key=Diagnostic.sort_key)

    def exit_code(self, *, strict: bool) -> int:
        if self.errors or (strict and self.warnings):
            return 1
        return 0
