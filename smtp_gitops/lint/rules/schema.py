"""A value breaks the settings schema: wrong type, missing required key, or out of range.

Each apiVersion has its schema in ``schema/``: ``smtp-settings.v1.schema.json`` for
``apiVersion: smtp-gitops/v1`` and ``smtp-settings.v2.schema.json`` for ``smtp-gitops/v2``
(v2 adds ``auth``, ``category`` and ``email``, and moves the password under ``auth``). A
``base`` file and the environments merged over it are checked against the ``.overlay``
variant, which leaves out the required keys; the merged document must then pass the full
schema. ``smtp-gitops schema --api-version v2 [--overlay]`` prints them, and editors that
read the ``yaml-language-server`` modeline check them as you type. Types are strict: a quoted
``"587"`` is a string and ``587.0`` a float, neither is a port number.
"""

from smtp_gitops.lint.rules.base import rule
from smtp_gitops.settings.diagnostics import Severity

RULE = rule(__doc__, "schema", Severity.ERROR)
