"""``smtp-gitops init ENV``."""

from __future__ import annotations

import click

from smtp_gitops.commands.common import fail, root_option
from smtp_gitops.exit_codes import EXIT_OK, EXIT_USAGE
from smtp_gitops.settings.layout import DEFAULT_ROOT


@click.command("init", short_help="Create a new environment's settings file.")
@click.argument("environment", metavar="ENV")
@click.option("--production", is_flag=True, help="Mark the environment as production.")
@click.option("--force", is_flag=True, help="Overwrite an existing settings file.")
@click.option(
    "--auth",
    type=click.Choice(["password", "oauth2"]),
    default=None,
    help="How the new set signs in (default password). Without a base only: over one, the "
    "base set's auth is used.",
)
@root_option
@click.pass_context
def init(
    ctx: click.Context,
    environment: str,
    production: bool,
    force: bool,
    auth: str | None,
    root: str,
) -> None:
    """Create environments/ENV/smtp.yaml, ready to edit; it validates as written."""
    from smtp_gitops.scaffold import ScaffoldError, scaffold
    from smtp_gitops.settings.model import API_VERSION_V2

    try:
        written = scaffold(environment, root, production=production, force=force, auth=auth)
    except ScaffoldError as error:
        fail(ctx, str(error), EXIT_USAGE)
    root_flag = "" if root == DEFAULT_ROOT else f" --root {root}"
    if written.base_set is not None:
        what = f"enables the base set '{written.base_set}'; override any of its fields by name"
    elif auth == "oauth2":
        what = "one OAuth 2.0 set; replace the tenant and client ids, username and addresses"
    else:
        what = "one set; replace the example host, username and report address"
    click.echo(f"wrote {written.path} ({what})")
    click.echo("next steps:")
    click.echo(f"  1. edit {written.path}: spec.render.output and spec.reload.targets")
    if written.password_variable is not None:
        click.echo(
            f"  2. provide the {written.secret_label} as ${written.password_variable}"
            " (never in the file)"
        )
    else:
        click.echo(
            f"  2. provide the {written.secret_label} the base set {written.base_set!r} reads "
            "(see its reference in the base; never in the file)"
        )
    click.echo(
        f"  3. smtp-gitops validate {written.path}"
        f" && smtp-gitops check-connection {environment}{root_flag}"
    )
    click.echo("  4. commit it; the pull-request check shows the plan")
    if written.api_version != API_VERSION_V2:
        click.echo(
            f"note: the base is {written.api_version}, so {written.path} is too; "
            "`smtp-gitops migrate` moves them all to v2"
        )
    ctx.exit(EXIT_OK)
