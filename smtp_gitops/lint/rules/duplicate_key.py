"""A mapping repeats a key.

YAML parsers disagree on which of two equal keys wins, so a repeated key means the file does not
say what its author thinks. The later value is used for the remaining checks, so the rest of the
file is still validated in the same run.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "duplicate-key", Severity.ERROR)
