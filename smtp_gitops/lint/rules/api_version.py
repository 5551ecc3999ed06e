"""``apiVersion`` or ``kind`` is missing or unsupported.

Every settings file starts with ``apiVersion`` and ``kind: SmtpSettings``, so that each format
can be told apart. Two versions are read: ``smtp-gitops/v1`` (the portal's classic settings,
``password`` on the set) and ``smtp-gitops/v2`` (per set an authentication method, OAuth 2.0 or
a password under ``auth``, an email ``category`` and a sender ``email``). A ``base`` and the
environments merged over it must say the same version, since the same keys mean different
things in each; ``smtp-gitops migrate`` moves a base and its environments from v1 to v2
together. A file of an unsupported version is not checked further, since every other message
would be noise.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "api-version", Severity.ERROR)
