"""``defaultCredentials`` is false but the set has no username, or nothing to log in with.

Without ``defaultCredentials`` the portal logs in with the set's own credentials: in v1 its
``username`` and ``password``, in v2 its ``username`` and ``auth`` (a password, or OAuth 2.0
client credentials). With either missing, every message fails to send. Add them, or set
``defaultCredentials: true``.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.behaviour import SetV2Behaviour
from smtp_gitops.settings.diagnostics import Diagnostic, Severity
from smtp_gitops.settings.yamlnodes import Path

RULE = rule(__doc__, "credentials-missing", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.defaultCredentials:
            continue
        login = "auth" if isinstance(smtp_set, SetV2Behaviour) else "password"
        has_login = smtp_set.password is not None or smtp_set.oauth2 is not None
        missing = [
            name
            for name, present in (("username", smtp_set.username is not None), (login, has_login))
            if not present
        ]
        if missing:
            path: Path = ("spec", "sets", index)
            if isinstance(smtp_set, SetV2Behaviour) and smtp_set.auth is not None and not has_login:
                path = (*path, "auth")  # `auth: {}`: point at the empty mapping
            yield context.report(
                RULE,
                path,
                f"set {smtp_set.name!r} has no {' and no '.join(missing)} "
                "and does not use the default credentials",
                hint="add `auth: {password: ...}` or `auth: {oauth2: ...}`, "
                "or set `defaultCredentials: true`"
                if login == "auth" and login in missing
                else "add them, or set `defaultCredentials: true`",
            )
