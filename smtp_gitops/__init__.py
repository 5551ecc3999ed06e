"""smtp-gitops: keep a portal's outgoing-mail (SMTP) settings in git.

The library API (see the README's *Library* section)::

    from smtp_gitops import validate_paths

    report = validate_paths(["environments"])
    for d in report.diagnostics:
        print(f"{d.file}:{d.line}:{d.column}: {d.severity} {d.rule}: {d.message}")

Names are loaded on first use, so ``import smtp_gitops`` (which the command line does first)
costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from smtp_gitops.version import __version__

__all__ = [
    "Config",
    "Diagnostic",
    "EnvironmentNotFound",
    "InvalidSettings",
    "Loaded",
    "Mark",
    "PathProblem",
    "RenderError",
    "Report",
    "SecretError",
    "SettingsRefused",
    "Severity",
    "__version__",
    "load_config",
    "load_environment",
    "render_environment",
    "validate_paths",
]

# Each exported name, and the module that defines it.
_HOMES = {
    "Config": "smtp_gitops.lint.config",
    "load_config": "smtp_gitops.lint.config",
    "Diagnostic": "smtp_gitops.settings.diagnostics",
    "Mark": "smtp_gitops.settings.diagnostics",
    "PathProblem": "smtp_gitops.settings.diagnostics",
    "Report": "smtp_gitops.settings.diagnostics",
    "Severity": "smtp_gitops.settings.diagnostics",
    "EnvironmentNotFound": "smtp_gitops.environment",
    "InvalidSettings": "smtp_gitops.environment",
    "Loaded": "smtp_gitops.environment",
    "SettingsRefused": "smtp_gitops.environment",
    "load_environment": "smtp_gitops.environment",
    "RenderError": "smtp_gitops.render.render",
    "SecretError": "smtp_gitops.render.secrets",
    "render_environment": "smtp_gitops.api",
    "validate_paths": "smtp_gitops.api",
}

if TYPE_CHECKING:
    from smtp_gitops.api import render_environment, validate_paths
    from smtp_gitops.environment import (
        EnvironmentNotFound,
        InvalidSettings,
        Loaded,
        SettingsRefused,
        load_environment,
    )
    from smtp_gitops.lint.config import Config, load_config
    from smtp_gitops.render.render import RenderError
    from smtp_gitops.render.secrets import SecretError
    from smtp_gitops.settings.diagnostics import Diagnostic, Mark, PathProblem, Report, Severity


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'smtp_gitops' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
