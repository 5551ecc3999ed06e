"""Two sets share a name.

Set names identify sets in diffs, in ``check-connection --set`` and when layering merges an
environment over ``base``; two sets of the same name make all of these ambiguous.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "duplicate-set-name", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.name in seen:
            yield context.report(
                RULE,
                ("spec", "sets", index, "name"),
                f"set name {smtp_set.name!r} is already used by set #{seen[smtp_set.name] + 1}",
            )
        else:
            seen[smtp_set.name] = index
