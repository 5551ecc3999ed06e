"""The diagnostic record every check produces, and the report that collects them."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

# Past this many findings in one file the rest are counted, not listed: a generated or mangled
# file can hold hundreds of thousands, and listing them all costs minutes and gigabytes while
# helping nobody.
MAX_PER_FILE = 100


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


@dataclass(frozen=True, slots=True)
class Omitted(Diagnostic):
    """Stands for ``count`` findings that were counted but not listed (past the per-file cap);
    the mark is the first of them."""

    count: int = 0


def error_count(diagnostics: Iterable[Diagnostic]) -> int:
    """Errors among ``diagnostics``, counting those an ``Omitted`` stands for."""
    return sum(
        d.count if isinstance(d, Omitted) else 1
        for d in diagnostics
        if d.severity is Severity.ERROR
    )


class Capped:
    """Keeps the first ``limit`` diagnostics by position and only counts the rest (by rule and
    severity), so a check costs the same memory whether it finds a hundred problems or a
    million, and what is listed does not depend on the order the checks ran in."""

    def __init__(self, limit: int = MAX_PER_FILE) -> None:
        self.limit = limit
        self.kept: list[Diagnostic] = []  # sorted by position
        self._counted: dict[tuple[str, Severity], tuple[Mark, int]] = {}

    def wants(self, mark: Mark) -> bool:
        """Whether a diagnostic at ``mark`` would be kept: the caller may skip building it."""
        return len(self.kept) < self.limit or mark < self.kept[-1].mark

    def count(self, rule: str, severity: Severity, mark: Mark) -> None:
        first, count = self._counted.get((rule, severity), (mark, 0))
        self._counted[(rule, severity)] = (min(first, mark), count + 1)

    def add(self, diagnostic: Diagnostic) -> None:
        if not self.wants(diagnostic.mark):
            self.count(diagnostic.rule, diagnostic.severity, diagnostic.mark)
            return
        bisect.insort(self.kept, diagnostic, key=Diagnostic.sort_key)
        if len(self.kept) > self.limit:
            dropped = self.kept.pop()
            self.count(dropped.rule, dropped.severity, dropped.mark)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:  # a generator is consumed one at a time, never listed
            self.add(diagnostic)

    def result(self) -> list[Diagnostic]:
        omitted = [
            Omitted(rule, severity, mark, f"{count} more {rule} findings not shown", count=count)
            for (rule, severity), (mark, count) in self._counted.items()
        ]
        return self.kept + omitted


@dataclass(frozen=True, slots=True)
class PathProblem:
    """A path given (or found) that could not be checked: missing, a folder without a settings
    file, an unreadable file. The command line reports these as usage problems (exit 2)."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(slots=True)
class Report:
    """Everything one validation run found, in a stable order: the files read, the
    diagnostics (at most ``MAX_PER_FILE`` per file, then one saying how many more there are),
    and the paths that could not be checked at all."""

    files: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Findings counted but not listed, over all files.
    hidden: Counter[Severity] = field(default_factory=Counter)
    problems: list[PathProblem] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self._listed(Severity.ERROR) + self.hidden[Severity.ERROR]

    @property
    def warnings(self) -> int:
        return self._listed(Severity.WARNING) + self.hidden[Severity.WARNING]

    def _listed(self, severity: Severity) -> int:
        return sum(
            1 for d in self.diagnostics if d.severity is severity and not isinstance(d, Omitted)
        )

    def add(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    def finish(self) -> None:
        """Drop repeats (a base-file problem seen through several environments), sort, and cap
        each file's list."""
        unique = {(d.sort_key(), d.severity, isinstance(d, Omitted)): d for d in self.diagnostics}
        by_file: dict[str, list[Diagnostic]] = {}
        for d in sorted(unique.values(), key=Diagnostic.sort_key):
            by_file.setdefault(d.file, []).append(d)
        self.diagnostics = []
        for found in by_file.values():
            self.diagnostics += self._capped(found)

    def _capped(self, found: list[Diagnostic]) -> list[Diagnostic]:
        listed = [d for d in found if not isinstance(d, Omitted)]
        shown, hidden = listed[:MAX_PER_FILE], listed[MAX_PER_FILE:]
        counts: Counter[Severity] = Counter(d.severity for d in hidden)
        rules: Counter[str] = Counter(d.rule for d in hidden)
        for d in found:
            if isinstance(d, Omitted):
                counts[d.severity] += d.count
                rules[d.rule] += d.count
        if not counts:
            return shown
        self.hidden += counts
        first = hidden[0] if hidden else next(d for d in found if isinstance(d, Omitted))
        errors, warnings = counts[Severity.ERROR], counts[Severity.WARNING]
        note = Omitted(
            rules.most_common(1)[0][0],
            Severity.ERROR if errors else Severity.WARNING,
            first.mark,
            f"{errors + warnings} more diagnostics in this file not shown "
            f"({errors} errors, {warnings} warnings)",
            hint=f"only the first {MAX_PER_FILE} per file are listed; fix those and run again",
            count=errors + warnings,
        )
        return [*shown, note]

    def exit_code(self, *, strict: bool) -> int:
        if self.errors or (strict and self.warnings):
            return 1
        return 0
