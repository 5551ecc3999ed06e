"""A password is written as a literal string.

Anything committed to git is readable by everyone with the repository and stays in its history.
Reference the secret instead: ``{fromEnv: VARIABLE}`` or ``{fromFile: /run/secrets/name}``;
``render`` and ``deploy`` resolve it at deploy time. The message never repeats the value.
"""

from collections.abc import Iterator

from smtp_gitops.diagnostics import Diagnostic, Severity
from smtp_gitops.rules.base import SettingsContext, rule

RULE = rule(__doc__, "plaintext-secret", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if isinstance(smtp_set.password, str):
            variable = f"SMTP_{smtp_set.name.upper().replace('-', '_')}_PASSWORD"
            yield context.report(
                RULE,
                ("spec", "sets", index, "password"),
                f"set {smtp_set.name!r} has a literal password; secrets must not be committed",
                hint=f"use `password: {{fromEnv: {variable}}}` and rotate the exposed password",
            )
