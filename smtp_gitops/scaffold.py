"""``init``: a new environment's settings file that validates clean from the first commit."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from smtp_gitops.settings.discovery import repository_of
from smtp_gitops.settings.layout import BASE, base_file, is_overlay, new_settings_path
from smtp_gitops.settings.model import (
    API_VERSION,
    API_VERSION_V2,
    ENVIRONMENT_PATTERN,
    SET_NAME_PATTERN,
)
from smtp_gitops.settings.schema import schema_file_name, schema_file_names, schema_text_for

AUTH_METHODS = ("password", "oauth2")


def schema_folder(settings_file: str) -> str:
    """The repository's ``schema/`` folder, where the modelines of its settings files point."""
    return os.path.join(repository_of(settings_file), "schema")


def modeline(api_version: str, settings_file: str, *, overlay: bool) -> str:
    """The editor's schema line: a relative path from the settings file to the repository's
    own schema of its version and role (``overlay`` for a base, and for a file merged over
    one), so the editor checks against the schema of the version in use, without a network."""
    version = api_version.rsplit("/", 1)[-1]
    local = os.path.join(schema_folder(settings_file), schema_file_name(version, overlay=overlay))
    folder = os.path.dirname(os.path.abspath(settings_file))
    where = os.path.relpath(local, folder).replace(os.sep, "/")
    return f"# yaml-language-server: $schema={where}"


def write_schema_files(folder: str) -> list[str]:
    """Write every schema file (full and overlay, each version) into ``folder``."""
    from smtp_gitops.render.files import write_atomic

    written = []
    for name in schema_file_names():
        path = os.path.join(folder, name)
        write_atomic(path, schema_text_for(name).encode("utf-8"), 0o644, durable=False)
        written.append(path)
    return written


def missing_schema_files(settings_file: str) -> bool:
    folder = schema_folder(settings_file)
    return not all(os.path.isfile(os.path.join(folder, n)) for n in schema_file_names())


class ScaffoldError(Exception):
    """The environment cannot be created as asked (a usage error)."""


@dataclass(frozen=True, slots=True)
class Scaffolded:
    path: str
    text: str
    base_set: str | None  # the base set the overlay enables; None for a complete file
    password_variable: str | None  # the variable the new file reads its secret from
    secret_label: str = "password"  # what that variable holds
    api_version: str = API_VERSION_V2


def client_secret_variable(environment: str) -> str:
    return f"{environment.upper().replace('-', '_')}_SMTP_CLIENT_SECRET"


def password_variable(environment: str) -> str:
    return f"{environment.upper().replace('-', '_')}_SMTP_PASSWORD"


def first_base_set(base_path: str) -> str | None:
    """The name of the base's first set, or None when the base cannot be built on."""
    from smtp_gitops.lint.loader import load_file
    from smtp_gitops.settings.yamlnodes import to_plain

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


def base_secret(base_path: str, set_name: str) -> tuple[str | None, str]:
    """The variable the base set reads its secret from (None when it is not a variable), and
    what the secret is."""
    from smtp_gitops.lint.loader import load_file
    from smtp_gitops.settings.yamlnodes import to_plain

    try:
        loaded = load_file(base_path)
    except OSError:
        return None, "password"
    document = to_plain(loaded.root) if loaded.root is not None else None
    spec = document.get("spec") if isinstance(document, dict) else None
    sets = spec.get("sets") if isinstance(spec, dict) else None
    for item in sets if isinstance(sets, list) else []:
        if not isinstance(item, dict) or item.get("name") != set_name:
            continue
        auth: dict[str, Any] = item["auth"] if isinstance(item.get("auth"), dict) else {}
        oauth2: dict[str, Any] = auth["oauth2"] if isinstance(auth.get("oauth2"), dict) else {}
        if oauth2:
            secret, label = oauth2.get("clientSecret"), "OAuth client secret"
        else:
            secret, label = auth.get("password", item.get("password")), "password"
        variable = secret.get("fromEnv") if isinstance(secret, dict) else None
        return (variable if isinstance(variable, str) else None), label
    return None, "password"


def base_api_version(base_path: str) -> str:
    """The base's apiVersion (an overlay must share it); v2 when it cannot be read."""
    from smtp_gitops.lint.loader import load_file
    from smtp_gitops.lint.schema_check import declared_api_version

    try:
        loaded = load_file(base_path)
    except OSError:
        return API_VERSION_V2
    version = declared_api_version(loaded.root) if loaded.root is not None else None
    return API_VERSION if version == API_VERSION else API_VERSION_V2


def _complete_set(environment: str, auth: str) -> str:
    if auth == "oauth2":
        return (
            "    - name: primary\n"
            "      enabled: true\n"
            "      category: general         # administration | general | notifications\n"
            "      networkHost: smtp.office365.com\n"
            "      port: 587\n"
            "      enableSsl: true\n"
            "      username: portal@example.com     # the mailbox that signs in\n"
            "      email: no-reply@example.com      # the sender address\n"
            "      auth:\n"
            "        oauth2:\n"
            "          provider: microsoft    # microsoft | google | custom (with tokenUrl)\n"
            "          tenantId: 00000000-0000-0000-0000-000000000000\n"
            "          clientId: 00000000-0000-0000-0000-000000000000\n"
            f"          clientSecret: {{fromEnv: {client_secret_variable(environment)}}}\n"
            "      reportEmails:\n"
            "        - {email: portal-reports@example.com, enabled: true}\n"
        )
    return (
        "    - name: primary\n"
        "      enabled: true\n"
        "      category: general         # administration | general | notifications\n"
        "      networkHost: smtp.example.com\n"
        "      port: 587\n"
        "      enableSsl: true\n"
        "      username: portal@example.com\n"
        "      email: portal@example.com        # the sender address\n"
        "      auth:\n"
        f"        password: {{fromEnv: {password_variable(environment)}}}\n"
        "      reportEmails:\n"
        "        - {email: portal-reports@example.com, enabled: true}\n"
    )


def scaffold_text(
    environment: str,
    *,
    production: bool,
    base_set: str | None,
    auth: str = "password",
    api_version: str = API_VERSION_V2,
    settings_file: str,
    overlay: bool,
) -> str:
    """The new file's YAML (to be written at ``settings_file``). Over a base, it only enables
    the base's first set (in the base's apiVersion, which an overlay must share); ``overlay``:
    the file is merged over a base, and its modeline names the overlay schema."""
    header = (
        f"{modeline(api_version, settings_file, overlay=overlay)}\n"
        f"apiVersion: {api_version}\n"
        "kind: SmtpSettings\n"
        "metadata:\n"
        f"  environment: {environment}\n"
        f"  production: {'true' if production else 'false'}\n"
        "spec:\n"
        + (
            "  sets:                  # the FIRST enabled set of each category is the one used\n"
            if api_version == API_VERSION_V2
            else "  sets:                  # the FIRST enabled set is the one the portal uses\n"
        )
    )
    if base_set is not None:
        sets = (
            f"    - name: {base_set}       # merged over environments/base/smtp.yaml by name\n"
            "      enabled: true\n"
        )
    else:
        sets = _complete_set(environment, auth)
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
    environment: str,
    root: str,
    *,
    production: bool = False,
    force: bool = False,
    auth: str | None = None,
) -> Scaffolded:
    """Write ``<root>/<environment>/smtp.yaml``. ``auth`` (password or oauth2) is for a file
    without a base; over one, the base set's own auth is used, and asking for one is refused."""
    if not re.match(ENVIRONMENT_PATTERN, environment):
        raise ScaffoldError(
            f"{environment!r} is not a valid environment name ([a-z0-9][a-z0-9-]{{0,62}})"
        )
    if environment == BASE:
        raise ScaffoldError("`base` is the shared layer, not an environment; write it by hand")
    path = new_settings_path(root, environment)
    if os.path.exists(path) and not force:
        raise ScaffoldError(f"{path} already exists (use --force to overwrite)")
    base_path = base_file(root)
    # A base that is broken or has no sets cannot carry an overlay: write a complete file.
    base_set = first_base_set(base_path) if base_path is not None else None
    if base_set is not None and auth is not None:
        raise ScaffoldError(
            f"--auth {auth} cannot be honoured over a base: the new file enables the base set "
            f"{base_set!r}, whose auth the base decides; change it there"
        )
    api_version = (
        base_api_version(base_path)
        if base_path is not None and base_set is not None
        else API_VERSION_V2
    )
    auth = auth or "password"
    text = scaffold_text(
        environment,
        production=production,
        base_set=base_set,
        auth=auth,
        api_version=api_version,
        settings_file=path,
        overlay=is_overlay(path),
    )
    if missing_schema_files(path):
        # The modeline is a local path: the schemas it names must be there, of this version.
        write_schema_files(schema_folder(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    if base_set is not None and base_path is not None:
        variable, label = base_secret(base_path, base_set)
        return Scaffolded(path, text, base_set, variable, label, api_version=api_version)
    if auth == "oauth2":
        return Scaffolded(
            path, text, None, client_secret_variable(environment), "OAuth client secret"
        )
    return Scaffolded(path, text, None, password_variable(environment))
