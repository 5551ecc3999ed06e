"""The ``smtp-gitops`` command line: the group, ``main(argv) -> int``, and each command in a
module of its own (``commands/<name>.py``). Heavy modules are imported inside the commands that
use them, so ``validate`` starts without paying for Jinja2 or an HTTP client."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import click

from smtp_gitops.exit_codes import EXIT_OK, EXIT_USAGE
from smtp_gitops.version import __version__

# One module per command, imported only when that command runs (or for --help), so `validate`
# does not pay for the others' options and imports.
LAZY_COMMANDS = {
    "check-connection": "smtp_gitops.commands.check_connection:check_connection",
    "check-dns": "smtp_gitops.commands.check_dns:check_dns",
    "deploy": "smtp_gitops.commands.deploy:deploy",
    "init": "smtp_gitops.commands.init:init",
    "migrate": "smtp_gitops.commands.migrate:migrate",
    "plan": "smtp_gitops.commands.plan:plan",
    "render": "smtp_gitops.commands.render:render",
    "schema": "smtp_gitops.commands.schema:schema_command",
    "status": "smtp_gitops.commands.status:status",
    "validate": "smtp_gitops.commands.validate:validate",
}


class LazyGroup(click.Group):
    """A group whose commands in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, name = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="smtp-gitops")
def cli() -> None:
    """Keep a portal's outgoing-mail (SMTP) settings in git: validate, render, plan, deploy."""


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Without standalone mode click returns the code given to ctx.exit() instead of exiting.
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="smtp-gitops",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return result if isinstance(result, int) else EXIT_OK
