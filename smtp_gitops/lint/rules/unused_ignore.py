"""An inline ignore comment that has no reason, names an unknown rule, or suppresses nothing.

``# smtp-gitops: ignore[RULE] -- reason`` on the offending line (or on its own line just
above it) suppresses that rule's findings there. Every ignore must say why after ``--``, so the
next reader knows whether it still applies. An ignore that suppresses nothing has outlived its
purpose (the problem was fixed, or the line moved) and would silently hide a future problem on
that line, so it is reported too: delete it, or move it next to the finding it is meant for.
An ignore naming a rule that is switched off for the run (``--select``, ``--ignore``, or
``off`` in the configuration) is not reported as unused, since that rule did not run.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "unused-ignore", Severity.WARNING)
