"""``defaultCredentials`` is false but the set has no username or no password.

Without ``defaultCredentials`` the portal logs in with the set's own username and password; with
either missing, every message fails to send. Add them, or set ``defaultCredentials: true``.
"""

from collections.abc import Iterator

from smtp_gitops.diagnostics import Diagnostic, Severity
from smtp_gitops.rules.base import SettingsContext, rule

RULE = rule(__doc__, "credentials-missing", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.defaultCredentials:
            continue
        missing = [
            name
            for name, value in (("username", smtp_set.username), ("password", smtp_set.password))
            if value is None
        ]
        if missing:
            yield context.report(
                RULE,
                ("spec", "sets", index),
                f"set {smtp_set.name!r} has no {' and no '.join(missing)} "
                "and does not use the default credentials",
                hint="add them, or set `defaultCredentials: true`",
            )
