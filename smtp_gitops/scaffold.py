"""``init``: a new environment's settings file that validates clean from the first commit."""

from __future__ import annotations

import os
import re

from smtp_gitops.model import ENVIRONMENT_PATTERN

MODELINE = "# yaml-language-server: $schema=../../schema/smtp-settings.v1.schema.json"


class ScaffoldError(Exception):
    """The environment cannot be created as asked (a usage error)."""


def _variable(environment: str, what: str) -> str:
    return f"{environment.upper().replace('-', '_')}_{what}"


def scaffold_text(environment: str, *, production: bool, over_base: bool) -> str:
    """The new file's YAML. Over a base, it only enables the base's first set."""
    header = (
        f"{MODELINE}\n"
        "apiVersion: smtp-gitops/v1\n"
        "kind: SmtpSettings\n"
        "metadata:\n"
        f"  environment: {environment}\n"
        f"  production: {'true' if production else 'false'}\n"
        "spec:\n"
        "  sets:                  # the FIRST enabled set is the one the portal uses\n"
    )
    if over_base:
        sets = (
            "    - name: primary       # merged over environments/base/smtp.yaml by name\n"
            "      enabled: true\n"
        )
    else:
        sets = (
            "    - name: primary\n"
            "      enabled: true\n"
            "      networkHost: smtp.example.com\n"
            "      port: 587\n"
            "      enableSsl: true\n"
            "      username: portal@example.com\n"
            f"      password: {{fromEnv: {_variable(environment, 'SMTP_PASSWORD')}}}\n"
            "      reportEmails:\n"
            "        - {email: portal-reports@example.com, enabled: true}\n"
        )
    tail = (
        "  render:\n"
        "    template: portal-json\n"
        f"    output: build/{environment}/smtp.json\n"
        "  reload:\n"
        "    targets:\n"
        f"      - https://{environment}-portal.example.com/api/reload-application\n"
        "    secretFromEnv: PORTAL_RELOAD_SECRET\n"
    )
    return header + sets + tail


def scaffold(
    environment: str, root: str, *, production: bool = False, force: bool = False
) -> tuple[str, str]:
    """Write ``<root>/<environment>/smtp.yaml``; returns its path and text."""
    if not re.match(ENVIRONMENT_PATTERN, environment):
        raise ScaffoldError(
            f"{environment!r} is not a valid environment name ([a-z0-9][a-z0-9-]{{0,62}})"
        )
    if environment == "base":
        raise ScaffoldError("`base` is the shared layer, not an environment; write it by hand")
    path = os.path.join(root, environment, "smtp.yaml")
    if os.path.exists(path) and not force:
        raise ScaffoldError(f"{path} already exists (use --force to overwrite)")
    over_base = os.path.isfile(os.path.join(root, "base", "smtp.yaml"))
    text = scaffold_text(environment, production=production, over_base=over_base)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path, text
