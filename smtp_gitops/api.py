"""The library API: what ``smtp_gitops`` exports, for tools that check or render settings
without going through the command line.

Unlike the CLI, nothing here forks worker processes unless asked to (``jobs=``), since a
library call may run inside a server, a test runner or a notebook.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from smtp_gitops.settings.diagnostics import PathProblem, Report
from smtp_gitops.settings.layout import DEFAULT_ROOT

if TYPE_CHECKING:
    from smtp_gitops.lint.config import Config


def validate_paths(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] = (),
    config: Config | None = None,
    *,
    jobs: int = 1,
) -> Report:
    """Check settings files and folders (default: the configuration's ``root``).

    ``config`` is a project configuration (``load_config()`` reads the one that applies in the
    working directory, as the command line does); None uses the defaults. Its severities and
    production environments apply, and so do inline ignores, as in ``smtp-gitops validate``.

    Returns the report: ``files`` read, ``diagnostics`` sorted by place, and ``problems``, the
    paths that could not be checked (missing, a folder without ``smtp.yaml``, unreadable).
    ``jobs`` > 1 lets a large run fork up to that many worker processes. A single path may be
    given as it is (``validate_paths("environments")``).
    """
    from smtp_gitops.lint.config import Config
    from smtp_gitops.lint.rule_selection import RuleSelection
    from smtp_gitops.lint.validator import validate_files
    from smtp_gitops.settings.discovery import discover

    config = config if config is not None else Config()
    selection = RuleSelection(config.severity)
    # One path given as a string is that path, not its letters.
    listed = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found = discover([os.fspath(path) for path in listed] or [config.root])
    report, unreadable = validate_files(
        found.files,
        production_environments=config.production_environments,
        adjust=lambda unfinished: selection.apply(unfinished, found.files),
        jobs=jobs,
    )
    report.problems = [*found.problems, *map(_unreadable, unreadable)]
    return report


def _unreadable(line: str) -> PathProblem:
    path, _, reason = line.partition(": ")
    return PathProblem(path, f"cannot read it ({reason})")


def render_environment(
    environment: str,
    root: str = DEFAULT_ROOT,
    *,
    redact: bool = False,
    template: str | None = None,
    environ: Mapping[str, str] | None = None,
    config: Config | None = None,
) -> str:
    """The runtime config of ``environment`` (a name under ``root`` or a settings file path),
    merged, validated and rendered, with secrets resolved from ``environ`` (default: the
    process's environment) unless ``redact``. ``config``'s severities and production
    environments decide what refuses it, as for ``validate_paths``.

    Raises ``EnvironmentNotFound``, ``InvalidSettings`` (with ``.diagnostics``) or another
    ``SettingsRefused``; ``RenderError`` or ``SecretError`` when rendering fails.
    """
    from smtp_gitops.environment import load_environment
    from smtp_gitops.render.render import render_settings

    loaded = load_environment(environment, root, config)
    return render_settings(
        loaded.settings,
        redact=redact,
        template=template,
        environ=environ,
        repository=loaded.repository,
    )
