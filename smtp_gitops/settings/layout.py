"""Where settings live: ``<root>/<environment>/smtp.yaml`` (or ``smtp.yml``), with an optional
``<root>/base/smtp.yaml`` merged under every environment.

Every command finds files through this module, so validate, render, plan, deploy, status, init
and migrate always agree on which file is an environment's and which base it is merged over.
"""

from __future__ import annotations

import os
from collections.abc import Callable

DEFAULT_ROOT = "environments"
BASE = "base"
# The first name is the one ``init`` writes; the others are read the same way.
SETTINGS_NAMES = ("smtp.yaml", "smtp.yml")
_YAML_SUFFIXES = (".yaml", ".yml")

Exists = Callable[[str], bool]


def is_settings_name(name: str) -> bool:
    return name in SETTINGS_NAMES


def environment_of(path: str) -> str:
    """The environment a settings file belongs to: the name of its folder."""
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def is_base(path: str) -> bool:
    return environment_of(path) == BASE


def new_settings_path(root: str, environment: str) -> str:
    """Where ``init`` writes a new environment."""
    return os.path.join(root, environment, SETTINGS_NAMES[0])


def settings_file(folder: str, exists: Exists = os.path.isfile) -> str | None:
    """The settings file of an environment (or base) folder, if it has one."""
    for name in SETTINGS_NAMES:
        candidate = os.path.join(folder, name)
        if exists(candidate):
            return candidate
    return None


def stray_settings(settings_path: str) -> list[str]:
    """Other YAML files beside an environment's settings file (``smtp.yml`` next to
    ``smtp.yaml``, ``extra.yaml``, ``Smtp.yaml``): one settings file per environment folder, or
    a command would read one and a reviewer another."""
    folder = os.path.dirname(settings_path) or "."
    chosen = os.path.basename(settings_path)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(
        name
        for name in names
        if name != chosen
        and not name.startswith(".")
        and name.lower().endswith((".yaml", ".yml"))
        and os.path.isfile(os.path.join(folder, name))
    )


def stray_reason(settings_path: str, strays: list[str]) -> str:
    """What is wrong with the folder holding ``settings_path``, said after its name."""
    return (
        f"holds {', '.join(strays)} beside {os.path.basename(settings_path)}: one settings file "
        "per environment folder; remove or move the others"
    )


def stray_message(settings_path: str, strays: list[str]) -> str:
    return f"{os.path.dirname(settings_path) or '.'} {stray_reason(settings_path, strays)}"


def base_file(root: str, exists: Exists = os.path.isfile) -> str | None:
    return settings_file(os.path.join(root, BASE), exists)


def base_file_for(path: str, exists: Exists = os.path.isfile) -> str | None:
    """The base an environment's settings file is merged over, if there is one: the
    ``base`` folder next to its own, whichever settings name either file uses."""
    if is_base(path):
        return None
    root = os.path.normpath(os.path.join(os.path.dirname(path) or ".", os.pardir))
    return base_file(root, exists)


def is_overlay(path: str, exists: Exists = os.path.isfile) -> bool:
    """True for a file that is merged with a base: the base itself, or an environment beside
    one. Such a file may leave out keys (the merged document must be complete), so its editor
    modeline names the overlay schema."""
    return is_base(path) or base_file_for(path, exists) is not None


def environment_file(root: str, environment: str, exists: Exists = os.path.isfile) -> str | None:
    """The settings file of the environment called ``environment`` (never the base)."""
    if environment == BASE:
        return None
    return settings_file(os.path.join(root, environment), exists)


def environments(root: str) -> dict[str, str]:
    """Every environment under ``root`` (the base excluded), by name, with its settings file."""
    if not os.path.isdir(root):
        return {}
    found: dict[str, str] = {}
    for name in sorted(os.listdir(root)):
        path = environment_file(root, name)
        if path is not None:
            found[name] = path
    return found


def environments_in(files: list[str] | set[str], root: str) -> dict[str, str]:
    """The environments among ``files`` (paths as ``<root>/<env>/<name>``), by name."""
    found: dict[str, str] = {}
    for path in sorted(files):
        parts = os.path.relpath(path, root).split(os.sep)
        if len(parts) == 2 and is_settings_name(parts[1]) and parts[0] != BASE:
            found.setdefault(parts[0], path)
    return found


def misnamed_files(folder: str) -> list[str]:
    """YAML files in ``folder`` that look meant as its settings file but are not named so."""
    if not os.path.isdir(folder) or settings_file(folder) is not None:
        return []
    return sorted(
        name
        for name in os.listdir(folder)
        if name.endswith(_YAML_SUFFIXES) and os.path.isfile(os.path.join(folder, name))
    )
