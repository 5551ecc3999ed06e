"""The file uses YAML features that settings files must not: it is refused before it is used.

Refused: tags outside the YAML core schema (such as ``!!python/object``, which some loaders turn
into code execution), merge keys, aliases that expand to an enormous document ("billion laughs"),
nesting deeper than any settings file needs, files over 1 MiB, bytes that are not UTF-8, and
symbolic links that point outside the repository.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "unsafe-yaml", Severity.ERROR)
