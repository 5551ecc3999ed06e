"""Where a user template may come from: a pull request names the path, so it is untrusted.

A template path is relative to the repository's top (as written in a settings file, so it
names the same file whatever folder a command runs in) and must resolve, links included,
inside the repository; it must be a regular UTF-8 file under a size cap. Nothing else is read,
so ``template: /proc/self/environ`` cannot print the environment.
"""

from __future__ import annotations

import os

from smtp_gitops.settings.bounded import UnsafeFile, read_regular_file
from smtp_gitops.settings.discovery import resolves_outside

MAX_TEMPLATE_BYTES = 256 * 1024


class TemplateRefused(Exception):
    """The template path breaks the rules above; the message names the path and the rule."""


def template_path(path: str, repository: str) -> str:
    """Where the template ``path`` (relative to the repository's top) is on disk."""
    return os.path.join(repository, path)


def read_template_bytes(path: str, repository: str) -> bytes:
    if os.path.isabs(path):
        raise TemplateRefused(
            f"template {path!r} is an absolute path; give a path relative to the repository"
        )
    full = template_path(path, repository)
    if resolves_outside(full, repository):
        raise TemplateRefused(
            f"template {path!r} resolves outside the repository or into its .git folder "
            f"({os.path.realpath(repository)})"
        )
    try:
        return read_regular_file(full, MAX_TEMPLATE_BYTES)
    except UnsafeFile as error:
        raise TemplateRefused(f"template {error}") from None
    except OSError as error:
        raise TemplateRefused(f"cannot read template {path!r}: {error.strerror or error}") from None


def read_template(path: str, repository: str) -> str:
    try:
        return read_template_bytes(path, repository).decode("utf-8")
    except UnicodeDecodeError:
        raise TemplateRefused(f"template {path!r} is not UTF-8") from None
