"""Turn the paths a user gives into the settings files to check."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

SETTINGS_NAMES = ("smtp.yaml", "smtp.yml")
DEFAULT_ROOT = "environments"


@dataclass(slots=True)
class Discovery:
    files: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def repository_root(start: str) -> str:
    """The nearest folder above ``start`` holding ``.git``; ``start`` itself if there is none."""
    here = os.path.realpath(start)
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def repository_of(settings_file: str) -> str:
    """The repository a settings file belongs to, found from where the file is *written*.

    ``<repository>/<root>/<env>/smtp.yaml``: the repository holds the root folder (the nearest
    ``.git`` above it, else the root's parent). It is looked up from the path as given, not as
    resolved, so a link cannot move the repository along with its target.
    """
    root_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(settings_file))))
    return repository_root(root_parent)


def resolves_outside(path: str, repository: str) -> bool:
    """True when ``path``, with every symbolic link (file or folder) resolved, leaves
    ``repository``: the one rule validate, plan, render and deploy share."""
    inside = os.path.realpath(repository)
    target = os.path.realpath(path)
    return os.path.commonpath([inside, target]) != inside


def escapes_repository(path: str) -> bool:
    """True for a settings file that resolves outside its repository."""
    return resolves_outside(path, repository_of(path))


def _settings_files_under(folder: str) -> list[str]:
    found: list[str] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        # os.walk lists a linked folder but does not enter it; its settings files are still
        # returned (never silently skipped), so the check on where they resolve reports them.
        linked = [
            os.path.join(current, d, name)
            for d in dirs
            if os.path.islink(os.path.join(current, d))
            for name in SETTINGS_NAMES
            if os.path.lexists(os.path.join(current, d, name))
        ]
        found.extend(
            sorted(
                [os.path.join(current, name) for name in files if name in SETTINGS_NAMES] + linked
            )
        )
    return found


def base_file_for(path: str, exists: Callable[[str], bool] = os.path.isfile) -> str | None:
    """``<root>/base/smtp.yaml`` for ``<root>/<env>/smtp.yaml``, if that base exists."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(folder) == "base":
        return None
    candidate = os.path.join(
        os.path.dirname(path) or ".", os.pardir, "base", os.path.basename(path)
    )
    candidate = os.path.normpath(candidate)
    return candidate if exists(candidate) else None


def environment_folder(path: str) -> str:
    return os.path.basename(os.path.dirname(os.path.abspath(path)))


def discover(paths: list[str]) -> Discovery:
    """Files to check, in a stable order; folders are searched for ``smtp.yaml``.

    A changed ``base`` file brings in its sibling environments, since every one of them is
    merged over it.
    """
    result = Discovery()
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path) if not os.path.islink(path) else os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            result.files.append(path)

    for path in paths or [DEFAULT_ROOT]:
        if os.path.isdir(path):
            found = _settings_files_under(path)
            if not found:
                result.problems.append(
                    f"{path}: no {' or '.join(SETTINGS_NAMES)} found in this folder"
                )
            for file in found:
                add(file)
        elif os.path.isfile(path) or os.path.islink(path):
            add(path)
            if environment_folder(path) == "base":
                siblings = os.path.dirname(os.path.dirname(os.path.abspath(path)))
                for file in _settings_files_under(siblings):
                    if environment_folder(file) != "base" and os.path.basename(
                        file
                    ) == os.path.basename(path):
                        add(os.path.relpath(file) if not os.path.isabs(path) else file)
        else:
            result.problems.append(f"{path}: no such file or folder")
    return result
