"""``metadata.environment`` differs from the name of the folder holding the file.

``environments/prod/smtp.yaml`` must say ``environment: prod``. A file copied from another
environment and not updated is the usual cause, and would deploy one environment's mail settings
to another.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "environment-mismatch", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    declared = context.settings.metadata.environment
    if declared != context.folder:
        yield context.report(
            RULE,
            ("metadata", "environment"),
            f"metadata.environment is {declared!r} but the file is in folder {context.folder!r}",
            hint=f"set `environment: {context.folder}` or move the file",
        )
