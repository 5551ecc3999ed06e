"""``init``: a new environment's settings file that validates clean from the first commit."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from smtp_gitops.model import ENVIRONMENT_PATTERN, SET_NAME_PATTERN

MODELINE = "# yaml-language-server: $schema=../../schema/smtp-settings.v1.schema.json"


class ScaffoldError(Exception):
    """The environment cannot be created as asked (a usage error)."""


@dataclass(frozen=True, slots=True)
class Scaffolded:
    path: str
    text: str
    base_set: str | None  # the base set the overlay enables; None for a complete file
    password_variable: str | None  # the variable the new file reads its password from


def password_variable(environment: str) -> str:
    return f"{environment.upper().replace('-', '_')}_SMTP_PASSWORD"


def first_base_set(base_path: str) -> str | None:
    """The name of the base's first set, or None when the base cannot be built on."""
    from smtp_gitops.loader import load_file
    from smtp_gitops.yamlnodes import to_plain

    try:
        loaded = load_file(base_path)
    except OSError:
        return None
    if not loaded.ok or loaded.diagnostics or loaded.root is None:
        return None
    document = to_plain(loaded.root)
    spec = document.get("spec") if isinstance(document, dict) else None
    sets = spec.get("sets") if isinstance(spec, dict) else None
    first = sets[0] if isinstance(sets, list) and sets else None
    name = first.get("name") if isinstance(first, dict) else None
    return name if isinstance(name, str) and re.match(SET_NAME_PATTERN, name) else None


def scaffold_text(environment: str, *, production: bool, base_set: str | None) -> str:
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
    if base_set is not None:
        sets = (
            f"    - name: {base_set}       # merged over environments/base/smtp.yaml by name\n"
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
            f"      password: {{fromEnv: {password_variable(environment)}}}\n"
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
) -> Scaffolded:
    """Write ``<root>/<environment>/smtp.yaml``."""
    if not re.match(ENVIRONMENT_PATTERN, environment):
        raise ScaffoldError(
            f"{environment!r} is not a valid environment name ([a-z0-9][a-z0-9-]{{0,62}})"
        )
    if environment == "base":
        raise ScaffoldError("`base` is the shared layer, not an environment; write it by hand")
    path = os.path.join(root, environment, "smtp.yaml")
    if os.path.exists(path) and not force:
        raise ScaffoldError(f"{path} already exists (use --force to overwrite)")
    base_path = os.path.join(root, "base", "smtp.yaml")
    # A base that is broken or has no sets cannot carry an overlay: write a complete file.
    base_set = first_base_set(base_path) if os.path.isfile(base_path) else None
    text = scaffold_text(environment, production=production, base_set=base_set)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return Scaffolded(
        path, text, base_set, None if base_set is not None else password_variable(environment)
    )
