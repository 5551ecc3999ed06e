"""A key the schema does not know.

Unknown keys are errors rather than being ignored, because a misspelt key (``enableSSL`` for
``enableSsl``) would otherwise silently leave the default in force. The hint names the closest
known key at that place in the file.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "unknown-key", Severity.ERROR)
