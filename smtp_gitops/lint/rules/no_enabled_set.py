"""No set is enabled, so the portal could not send any mail.

Password recovery, subscription notices and records by email all stop. Enable one set (the
first enabled set is the one used).

With ``apiVersion: smtp-gitops/v2`` a General set must be enabled: administration and
notification mail fall back to the General set when their category has no enabled set of its
own, so without one the portal has nothing to send general mail with. (A category without its
own enabled set is fine as long as General has one.)
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.behaviour import SettingsFileV2Behaviour
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "no-enabled-set", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    if context.settings.effective_set() is not None:
        return
    sets = context.settings.sets()
    enabled = [s.name for s in sets if s.enabled]
    if isinstance(context.settings, SettingsFileV2Behaviour) and enabled:
        yield context.report(
            RULE,
            ("spec", "sets"),
            f"no set of category 'general' is enabled (enabled: {', '.join(enabled)}); "
            "the portal could not send general mail",
            hint="enable a set with `category: general` (the default category)",
            key=True,
        )
        return
    yield context.report(
        RULE,
        ("spec", "sets"),
        f"none of the {len(sets)} sets is enabled; the portal could not send mail"
        if sets
        else "no sets are defined; the portal could not send mail",
        hint="set `enabled: true` on the set the portal should use",
        key=True,
    )
