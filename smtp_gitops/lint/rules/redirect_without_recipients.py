"""``redirectToReportEmails`` is true but no report email is enabled.

With redirection on, every portal mail goes to the enabled report emails instead of its real
recipient; with none enabled, every mail is lost.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "redirect-without-recipients", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.redirectToReportEmails and not any(r.enabled for r in smtp_set.reportEmails):
            yield context.report(
                RULE,
                ("spec", "sets", index, "redirectToReportEmails"),
                f"set {smtp_set.name!r} redirects all mail to its report emails, "
                "but none is enabled: every mail would be lost",
                hint="add an enabled report email, or set `redirectToReportEmails: false`",
            )
