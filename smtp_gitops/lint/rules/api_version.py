"""``apiVersion`` or ``kind`` is missing or unsupported.

Every settings file starts with ``apiVersion: smtp-gitops/v1`` and ``kind: SmtpSettings`` so that
a later format can be told apart. A file of an unsupported version is not checked further, since
every other message would be noise.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "api-version", Severity.ERROR)
