"""Pieces shared by the commands: colour, diagnostics on stderr, loading ENV for render and
deploy, the --root option."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import click

from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_USAGE
from smtp_gitops.settings.diagnostics import Severity

if TYPE_CHECKING:
    from smtp_gitops.environment import Loaded
    from smtp_gitops.lint.config import Config
    from smtp_gitops.settings.diagnostics import Diagnostic


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def use_color_on_stderr() -> bool:
    return "NO_COLOR" not in os.environ and sys.stderr.isatty()


def say_error(message: object) -> None:
    """``Error: MESSAGE`` on stderr. Paths and names in it may come from a pull request; a line
    break there would start a line of its own, which CI logs read as a command, so it is
    shown inert."""
    from smtp_gitops.settings.untrusted_text import printable

    click.echo(f"Error: {printable(str(message))}", err=True)


def fail(ctx: click.Context, message: str, code: int = EXIT_FAILED) -> NoReturn:
    say_error(message)
    ctx.exit(code)


def print_diagnostics(diagnostics: list[Diagnostic], *, quiet: bool = False) -> None:
    """Findings of the validation step of render/deploy, on stderr (stdout carries the config),
    in the same text format as ``validate``'s."""
    from smtp_gitops.lint.reporters.text import format_diagnostics

    shown = [d for d in diagnostics if not (quiet and d.severity is Severity.WARNING)]
    text = format_diagnostics(
        sorted(shown, key=lambda d: d.sort_key()), color=use_color_on_stderr()
    )
    click.echo(text, nl=False, err=True)


def load_or_exit(ctx: click.Context, environment: str, root: str, *, quiet: bool) -> Loaded:
    """Load and validate ENV, or exit: 2 when it does not exist, 1 when it is invalid."""
    from smtp_gitops.environment import (
        EnvironmentNotFound,
        InvalidSettings,
        SettingsRefused,
        StraySettings,
        load_environment,
    )

    try:
        loaded = load_environment(environment, root, configuration(ctx))
    except (EnvironmentNotFound, StraySettings) as error:
        say_error(error)
        ctx.exit(EXIT_USAGE)
    except InvalidSettings as error:
        print_diagnostics(error.diagnostics)
        say_error(error)
        ctx.exit(EXIT_FAILED)
    except SettingsRefused as error:
        say_error(error)
        ctx.exit(EXIT_FAILED)
    print_diagnostics(loaded.warnings, quiet=quiet)
    return loaded


class ConfigProblem(click.ClickException):
    """A configuration file (or a flag standing in for one) that cannot be used: exit 2."""

    exit_code = EXIT_USAGE


def load_config_or_exit(load: Callable[[], Config]) -> Config:
    from smtp_gitops.lint.config import ConfigError

    try:
        return load()
    except ConfigError as error:
        raise ConfigProblem(str(error)) from None


_CONFIG = "smtp_gitops.config"


def _root_from_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """``--root`` when given, else ``root`` from the project configuration; a relative root
    that is not here is the same folder at the top of the repository, so every command works
    from any folder of it, as ``plan`` does. The configuration is kept for
    ``configuration``."""
    from smtp_gitops.lint.config import ConfigError, load_config
    from smtp_gitops.settings.discovery import find_root_folder

    if value is None:
        config = load_config_or_exit(load_config)
        value = config.root
        ctx.meta[_CONFIG] = config
    else:
        # With --root a configuration smtp-gitops cannot use does not stop the command.
        with contextlib.suppress(ConfigError):
            ctx.meta[_CONFIG] = load_config()
    return find_root_folder(value) or value


def configuration(ctx: click.Context) -> Config:
    """The project configuration (severities, production environments), so every command
    holds findings against an environment as ``validate`` does."""
    from smtp_gitops.lint.config import Config

    found: Config = ctx.meta.get(_CONFIG) or Config()
    return found


def format_option(*choices: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """``--format`` with ``choices``, the first the default: one option for every report."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
    )


root_option = click.option(
    "--root",
    callback=_root_from_config,
    type=click.Path(file_okay=False),
    help="Folder holding one sub-folder per environment.  "
    "[default: environments, or `root` from the configuration]",
)
