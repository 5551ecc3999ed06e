"""Pieces shared by the commands: exit codes, colour, loading ENV for render/deploy."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from smtp_gitops.config import Config
    from smtp_gitops.diagnostics import Diagnostic
    from smtp_gitops.render import Loaded

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def use_color(no_color: bool) -> bool:
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def fail(ctx: click.Context, message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    ctx.exit(code)


def print_diagnostics(diagnostics: list[Diagnostic], *, quiet: bool = False) -> None:
    """Findings of the validation step of render/deploy, on stderr (stdout carries the config)."""
    for d in sorted(diagnostics, key=lambda d: d.sort_key()):
        if quiet and d.severity.value == "warning":
            continue
        click.echo(
            f"{d.file}:{d.line}:{d.column}: {d.severity.value} {d.rule}: {d.message}", err=True
        )


def load_or_exit(ctx: click.Context, environment: str, root: str, *, quiet: bool) -> Loaded:
    """Load and validate ENV, or exit: 2 when it does not exist, 1 when it is invalid."""
    from smtp_gitops.render import (
        EnvironmentNotFound,
        InvalidSettings,
        RenderError,
        load_environment,
    )

    try:
        loaded = load_environment(environment, root)
    except EnvironmentNotFound as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(EXIT_USAGE)
    except InvalidSettings as error:
        print_diagnostics(error.diagnostics)
        click.echo(f"Error: {error}", err=True)
        ctx.exit(EXIT_FAILED)
    except RenderError as error:
        click.echo(f"Error: {error}", err=True)
        ctx.exit(EXIT_FAILED)
    print_diagnostics(loaded.warnings, quiet=quiet)
    return loaded


class ConfigProblem(click.ClickException):
    """A configuration file (or a flag standing in for one) that cannot be used: exit 2."""

    exit_code = EXIT_USAGE


def load_config_or_exit(load: Callable[[], Config]) -> Config:
    from smtp_gitops.config import ConfigError

    try:
        return load()
    except ConfigError as error:
        raise ConfigProblem(str(error)) from None


def _root_from_config(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str:
    """``--root`` when given, else ``root`` from the project configuration."""
    if value is not None:
        return value
    from smtp_gitops.config import load_config

    return load_config_or_exit(load_config).root


root_option = click.option(
    "--root",
    callback=_root_from_config,
    type=click.Path(file_okay=False),
    help="Folder holding one sub-folder per environment.  "
    "[default: environments, or `root` from the configuration]",
)
