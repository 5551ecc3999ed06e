"""More than one set is enabled for the same use; only the first of them is used.

The portal uses the first enabled set and ignores the others, so a second enabled set is at best
dead configuration and at worst a sign that someone expected it to be used. The message names the
set that wins. Disable the others, or reorder the sets if the wrong one is first.

With ``apiVersion: smtp-gitops/v2`` this holds per email category (administration, general,
notifications): the first enabled set of each category is used, so the warning is about two
enabled sets of the same category, and names that category.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.behaviour import SettingsFileV2Behaviour
from smtp_gitops.settings.diagnostics import Diagnostic, Severity
from smtp_gitops.settings.vocabulary import CATEGORIES

RULE = rule(__doc__, "multiple-enabled", Severity.WARNING)

HINT = "set `enabled: false` on the sets that should not be used"


def _message(enabled: list[str], category: str | None) -> str:
    ignored = ", ".join(repr(name) for name in enabled[1:])
    what = f"sets of category {category!r}" if category else "sets"
    return (
        f"{len(enabled)} {what} are enabled; the portal uses the first, {enabled[0]!r}, "
        f"and ignores {ignored}"
    )


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    sets = context.settings.sets()
    by_category = isinstance(context.settings, SettingsFileV2Behaviour)
    for category in CATEGORIES if by_category else (None,):
        enabled = [
            (i, s.name)
            for i, s in enumerate(sets)
            if s.enabled and (category is None or s.category == category)
        ]
        if len(enabled) >= 2:
            yield context.report(
                RULE,
                ("spec", "sets", enabled[1][0], "enabled"),
                _message([name for _, name in enabled], category),
                hint=HINT,
            )
