"""An environment by name: found under the root, merged over its base, validated, and
refused (with the diagnostics) when it has any error. ``render``, ``deploy``, ``status`` and
``check-connection`` start here."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from smtp_gitops.settings.diagnostics import Diagnostic, Severity
from smtp_gitops.settings.discovery import repository_of
from smtp_gitops.settings.layout import (
    BASE,
    DEFAULT_ROOT,
    SETTINGS_NAMES,
    environment_file,
    environments,
    misnamed_files,
    stray_message,
    stray_settings,
)
from smtp_gitops.settings.model import Settings

if TYPE_CHECKING:
    from smtp_gitops.lint.config import Config


class SettingsRefused(Exception):
    """The environment cannot be used; the message says why."""


class EnvironmentNotFound(SettingsRefused):
    """The ``ENV`` argument names no environment: a usage error."""


class StraySettings(SettingsRefused):
    """The environment's folder holds other YAML beside its settings file: a usage error."""


class InvalidSettings(SettingsRefused):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
        super().__init__(f"the settings have {errors} error(s); fix them before rendering")
        self.diagnostics = diagnostics


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated environment: its settings and the warnings found on the way."""

    path: str
    settings: Settings
    warnings: list[Diagnostic]

    @property
    def repository(self) -> str:
        """Where the settings' user templates must live."""
        return repository_of(self.path)


def settings_path(environment: str, root: str = DEFAULT_ROOT) -> str:
    """``ENV`` as users type it: an environment name, or a path to its settings file."""
    if os.sep in environment or environment.endswith((".yaml", ".yml")):
        return environment
    if environment == BASE:
        raise EnvironmentNotFound("`base` is merged under every environment and is never rendered")
    path = environment_file(root, environment)
    if path is not None:
        return path
    known = list(environments(root))
    misnamed = misnamed_files(os.path.join(root, environment))
    raise EnvironmentNotFound(
        f"no environment {environment!r} under {root}/"
        + (f" (known: {', '.join(known)})" if known else "")
        + (
            f"; {os.path.join(root, environment)} holds {', '.join(misnamed)}, but settings "
            f"files are named {' or '.join(SETTINGS_NAMES)}"
            if misnamed
            else ""
        )
    )


def load_environment(
    environment: str, root: str = DEFAULT_ROOT, config: Config | None = None
) -> Loaded:
    """Merge, validate and return an environment's settings; refuses on any error.

    Findings are held against it as ``validate`` holds them with the project configuration
    ``config``: its production environments, less what inline ignores suppress, at each
    rule's configured severity (``error``, ``warning``, ``off``).
    """
    from smtp_gitops.lint.file_check import UnreadableFile, Validator
    from smtp_gitops.lint.rule_selection import as_configured

    path = settings_path(environment, root)
    strays = stray_settings(path)
    if strays:
        raise StraySettings(stray_message(path, strays))
    try:
        checked = Validator(
            production_environments=config.production_environments if config else ()
        ).check(path)
    except UnreadableFile as error:
        raise SettingsRefused(f"cannot read {error}") from None
    diagnostics = as_configured(checked.diagnostics, config.severity if config else {})
    errors = [d for d in diagnostics if d.severity is Severity.ERROR]
    if errors or checked.settings is None:
        # A document that failed the schema has no settings, whatever was suppressed in it.
        raise InvalidSettings(diagnostics if errors else checked.diagnostics)
    return Loaded(path, checked.settings, diagnostics)
