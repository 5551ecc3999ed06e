"""``redirectToReportEmails`` is true in a production environment.

Redirection is a testing aid: it sends every portal mail (password recovery, notices) to the
report emails instead of the real recipients. In a production environment (``production:
true``, or a name matching the configured ``production-environments``) that is almost always a
leftover from testing.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "redirect-in-production", Severity.WARNING)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    if not context.production:
        return
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.redirectToReportEmails:
            yield context.report(
                RULE,
                ("spec", "sets", index, "redirectToReportEmails"),
                f"set {smtp_set.name!r} redirects every mail to the report emails "
                "in a production environment",
                hint="set `redirectToReportEmails: false` before going live",
            )
