"""``smtp-gitops deploy ENV``."""

from __future__ import annotations

import click

from smtp_gitops.cli_common import EXIT_FAILED, EXIT_USAGE, fail, load_or_exit, root_option


@click.command()
@click.argument("environment", metavar="ENV")
@click.option("--dry-run", is_flag=True, help="Validate and render; write and send nothing.")
@click.option("--force", is_flag=True, help="Write and reload even if the config is unchanged.")
@root_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@click.pass_context
def deploy(
    ctx: click.Context, environment: str, dry_run: bool, force: bool, root: str, quiet: bool
) -> None:
    """Validate, render and write ENV's config atomically, then reload every portal node.

    Exit 0 when every node reloaded (or nothing changed), 1 when a node failed (the previous
    file is restored), 2 for usage problems.
    """
    from smtp_gitops.deploy import DeployOptions, DeployUsageError
    from smtp_gitops.deploy import deploy as run_deploy
    from smtp_gitops.render import RenderError
    from smtp_gitops.secrets import SecretError
    from smtp_gitops.webhook import SecretFormatError

    loaded = load_or_exit(ctx, environment, root, quiet=quiet)
    try:
        code = run_deploy(loaded.settings, DeployOptions(dry_run=dry_run, force=force), click.echo)
    except (DeployUsageError, SecretFormatError) as error:
        fail(ctx, str(error), EXIT_USAGE)
    except (RenderError, SecretError) as error:
        fail(ctx, str(error), EXIT_FAILED)
    except OSError as error:
        fail(ctx, f"cannot write the config: {error.strerror or error}", EXIT_FAILED)
    ctx.exit(code)
