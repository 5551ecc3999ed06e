"""The same address appears twice in a set's ``reportEmails``.

Addresses are compared without regard to case. The second entry either duplicates every report
or, if the two disagree on ``enabled``, leaves it unclear which was meant.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "duplicate-report-email", Severity.WARNING)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        seen: set[str] = set()
        for position, report in enumerate(smtp_set.reportEmails):
            address = report.email.lower()
            if address in seen:
                yield context.report(
                    RULE,
                    ("spec", "sets", index, "reportEmails", position, "email"),
                    f"set {smtp_set.name!r} lists {report.email!r} more than once",
                )
            seen.add(address)
