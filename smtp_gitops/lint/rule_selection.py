"""Which rules a run reports, and at which severity: ``--select``/``--ignore``, the configured
severities, and inline ignores, applied to a report before it is finished (and capped).

The checks always run in full; this only filters and re-grades what they found, so the
validator (and its worker processes) stay the same whatever is selected.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from smtp_gitops.lint.rules import ALWAYS_ON, RULE_IDS
from smtp_gitops.settings.diagnostics import Diagnostic, Report, Severity


class UnknownRule(ValueError):
    """A rule id that no rule has (the message lists the known ones)."""


def parse_rule_list(values: Iterable[str], option: str) -> frozenset[str]:
    """Rule ids from repeated options, each possibly a comma-separated list."""
    rules = frozenset(part.strip() for value in values for part in value.split(",") if part.strip())
    for rule_id in sorted(rules):
        if rule_id not in RULE_IDS:
            raise UnknownRule(
                f"{option}: unknown rule {rule_id!r}; known rules: {', '.join(RULE_IDS)}"
            )
    return rules


@dataclass(frozen=True, slots=True)
class RuleSelection:
    # Per rule: "error", "warning" or "off" (from the configuration and --severity).
    severity: Mapping[str, str] = field(default_factory=dict)
    # Only these rules, when given (--select); an explicit select beats "off".
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        refused = sorted(self.ignore & ALWAYS_ON)
        if refused:
            raise UnknownRule(
                f"--ignore: {', '.join(refused)} cannot be switched off (the file was not checked)"
            )

    def enabled(self, rule_id: str) -> bool:
        if rule_id in ALWAYS_ON:
            return True
        if rule_id in self.ignore:
            return False
        if self.select is not None:
            return rule_id in self.select
        return self.severity.get(rule_id) != "off"

    def regrade(self, diagnostic: Diagnostic) -> Diagnostic:
        level = self.severity.get(diagnostic.rule)
        if level in (Severity.ERROR.value, Severity.WARNING.value):
            return dataclasses.replace(diagnostic, severity=Severity(level))
        return diagnostic

    def apply(
        self,
        report: Report,
        checked: Iterable[str],
        read: Callable[[str], bytes] | None = None,
    ) -> list[Diagnostic]:
        """The findings of an unfinished ``report`` after inline ignores, the selection and the
        severities (``validate_files``' ``adjust``).

        Unused ignores are reported only in the files that were ``checked`` (as given on the
        command line, or found in its folders), not in a base read for one environment only:
        an ignore there may be meant for an environment this run did not check. ``read`` reads
        the files where the check read them (default: the disk).
        """
        from smtp_gitops.lint.suppressions import apply_ignores, read_ignores

        diagnostics = apply_ignores(
            report.diagnostics,
            read_ignores(report.files, read) if read else read_ignores(report.files),
            enabled=self.enabled,
            report_unused_in=set(checked),
            files=report.files,
        )
        return self.graded(diagnostics)

    def graded(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """The findings of the selected rules, at their configured severities."""
        return [self.regrade(d) for d in diagnostics if self.enabled(d.rule)]


def as_configured(
    diagnostics: list[Diagnostic],
    severity: Mapping[str, str],
    read: Callable[[str], bytes] | None = None,
) -> list[Diagnostic]:
    """What a command that validates on the way (render, deploy, status, plan, ...) holds
    against an environment: its findings less those inline ignores suppress, at the project's
    configured severities, so it agrees with ``validate``. ``read`` reads the settings files
    where they were checked (a git revision for ``plan``'s base side)."""
    from smtp_gitops.lint.suppressions import without_suppressed

    return RuleSelection(severity).graded(without_suppressed(diagnostics, read))
