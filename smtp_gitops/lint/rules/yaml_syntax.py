"""The file is not valid YAML.

The parser stopped at the position shown: an unclosed bracket or quote, a tab used for
indentation (YAML indents with spaces only), a key with inconsistent indentation, or several
documents in one file. Nothing else in the file is checked until it parses.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "yaml-syntax", Severity.ERROR)
