"""No set is enabled, so the portal could not send any mail.

Password recovery, subscription notices and records by email all stop. Enable one set (the
first enabled set is the one used).
"""

from collections.abc import Iterator

from smtp_gitops.diagnostics import Diagnostic, Severity
from smtp_gitops.rules.base import SettingsContext, rule

RULE = rule(__doc__, "no-enabled-set", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    if context.settings.effective_set() is None:
        count = len(context.settings.sets())
        yield context.report(
            RULE,
            ("spec", "sets"),
            f"none of the {count} sets is enabled; the portal could not send mail"
            if count
            else "no sets are defined; the portal could not send mail",
            hint="set `enabled: true` on the set the portal should use",
            key=True,
        )
