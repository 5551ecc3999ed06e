"""More than one set is enabled; only the first enabled set is used.

The portal uses the first enabled set and ignores the others, so a second enabled set is at best
dead configuration and at worst a sign that someone expected it to be used. The message names the
set that wins. Disable the others, or reorder the sets if the wrong one is first.
"""

from collections.abc import Iterator

from smtp_gitops.diagnostics import Diagnostic, Severity
from smtp_gitops.rules.base import SettingsContext, rule

RULE = rule(__doc__, "multiple-enabled", Severity.WARNING)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    enabled = [(i, s.name) for i, s in enumerate(context.settings.sets()) if s.enabled]
    if len(enabled) < 2:
        return
    winner = enabled[0][1]
    ignored = ", ".join(repr(name) for _, name in enabled[1:])
    yield context.report(
        RULE,
        ("spec", "sets", enabled[1][0], "enabled"),
        f"{len(enabled)} sets are enabled; the portal uses the first, {winner!r}, "
        f"and ignores {ignored}",
        hint="set `enabled: false` on the sets that should not be used",
    )
