"""``smtp-gitops init ENV``."""

from __future__ import annotations

import click

from smtp_gitops.cli_common import EXIT_OK, EXIT_USAGE, fail, root_option


@click.command("init")
@click.argument("environment", metavar="ENV")
@click.option("--production", is_flag=True, help="Mark the environment as production.")
@click.option("--force", is_flag=True, help="Overwrite an existing settings file.")
@root_option
@click.pass_context
def init(ctx: click.Context, environment: str, production: bool, force: bool, root: str) -> None:
    """Create environments/ENV/smtp.yaml, ready to edit; it validates as written."""
    from smtp_gitops.scaffold import ScaffoldError, scaffold

    try:
        path, _ = scaffold(environment, root, production=production, force=force)
    except ScaffoldError as error:
        fail(ctx, str(error), EXIT_USAGE)
    click.echo(f"wrote {path}")
    click.echo(f"next: edit it, then `smtp-gitops validate {path}` and commit it")
    ctx.exit(EXIT_OK)
