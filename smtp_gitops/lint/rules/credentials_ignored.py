"""``defaultCredentials`` is true, so the set's own credentials are ignored.

The portal uses its default credentials instead of this set's; the ``username`` and ``password``
(v1) or ``username`` and ``auth`` (v2) written here have no effect, which misleads whoever reads
the file.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.behaviour import SetV2Behaviour
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "credentials-ignored", Severity.WARNING)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if not smtp_set.defaultCredentials:
            continue
        login = "auth" if isinstance(smtp_set, SetV2Behaviour) else "password"
        for field in ("username", login):
            if getattr(smtp_set, field) is not None:
                yield context.report(
                    RULE,
                    ("spec", "sets", index, field),
                    f"set {smtp_set.name!r} uses the default credentials, so its {field} "
                    "is ignored",
                    hint=f"remove `{field}`, or set `defaultCredentials: false`",
                    key=True,
                )
