"""What a rule is, and what a semantic rule gets to look at."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtp_gitops.settings.diagnostics import Diagnostic, Mark, Severity
from smtp_gitops.settings.yamlnodes import MapNode, Path, locate, named_path

if TYPE_CHECKING:
    from smtp_gitops.settings.model import Settings


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    doc: str

    def diagnostic(
        self,
        mark: Mark,
        message: str,
        *,
        hint: str | None = None,
        end: Mark | None = None,
        where: str | None = None,
    ) -> Diagnostic:
        return Diagnostic(self.id, self.severity, mark, message, hint, end, where)


def plain_text(doc: str) -> str:
    """A doc string as users read it (``--explain``, ``--list-rules``, SARIF): reST's
    ````literal```` becomes `literal`, as messages and hints write it."""
    return doc.replace("``", "`")


def rule(module_doc: str | None, rule_id: str, severity: Severity) -> Rule:
    """Build a rule whose summary is the first line of its module's doc string."""
    doc = plain_text((module_doc or "").strip())
    return Rule(rule_id, severity, doc.splitlines()[0] if doc else rule_id, doc)


@dataclass(frozen=True, slots=True)
class SettingsContext:
    """A merged settings document that passed the schema, with the place of every value."""

    settings: Settings
    root: MapNode
    folder: str
    # ``metadata.production``, or the environment matched the configured production names.
    production: bool = False
    # The repository the settings file belongs to: where ``fromSops`` files are looked up.
    repository: str = "."

    def report(
        self, rule: Rule, path: Path, message: str, *, hint: str | None = None, key: bool = False
    ) -> Diagnostic:
        start, end = locate(self.root, path, key=key)
        return rule.diagnostic(
            start, message, hint=hint, end=end, where=named_path(self.root, path)
        )
