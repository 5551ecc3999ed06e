"""A value breaks the settings schema: wrong type, missing required key, or out of range.

The schema is ``schema/smtp-settings.v1.schema.json`` (also printed by ``smtp-gitops schema``);
editors that understand the ``yaml-language-server`` modeline check it as you type. Types are
strict: a quoted ``"587"`` is a string, not a port number.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "schema", Severity.ERROR)
