"""``smtp-gitops deploy ENV``."""

from __future__ import annotations

import click

from smtp_gitops.commands.common import fail, load_or_exit, root_option
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_USAGE

allow_output_option = click.option(
    "--allow-output",
    "allow_output",
    multiple=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Only write render.output inside DIR (repeatable; env SMTP_GITOPS_ALLOW_OUTPUT, "
    "folders separated by ':').",
)
allow_target_option = click.option(
    "--allow-target",
    "allow_target",
    multiple=True,
    metavar="HOST",
    help="Only call reload targets on HOST or *.DOMAIN (repeatable; env "
    "SMTP_GITOPS_ALLOW_TARGET, hosts separated by spaces).",
)


@click.command(short_help="Write ENV's config and reload every portal node.")
@click.argument("environment", metavar="ENV")
@click.option("--dry-run", is_flag=True, help="Validate and render; write and send nothing.")
@click.option("--force", is_flag=True, help="Write and reload even if every node has it.")
@click.option(
    "--require-clean",
    is_flag=True,
    help="Refuse (exit 2) to deploy from a work tree with uncommitted changes.",
)
@click.option(
    "--allow-older",
    is_flag=True,
    help="Deploy a revision older than the deployed one (a deliberate rollback).",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=120.0,
    show_default=True,
    help="Seconds to wait for another deploy of the same output to finish.",
)
@allow_output_option
@allow_target_option
@root_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@click.pass_context
def deploy(
    ctx: click.Context,
    environment: str,
    dry_run: bool,
    force: bool,
    require_clean: bool,
    allow_older: bool,
    lock_timeout: float,
    allow_output: tuple[str, ...],
    allow_target: tuple[str, ...],
    root: str,
    quiet: bool,
) -> None:
    """Validate, render and write ENV's config atomically, then reload every portal node.

    Exit 0 when every node reloaded (or every node already runs it), 1 when a node failed
    (the previous file is restored and the nodes that took the new one are rolled back, or
    another deploy held the lock too long), 2 for usage problems and refused policy.
    """
    from smtp_gitops.deploy.deploy import DeployOptions, DeployUsageError
    from smtp_gitops.deploy.deploy import deploy as run_deploy
    from smtp_gitops.deploy.deploy_state import LockTimeout
    from smtp_gitops.deploy.policy import DeployPolicy, PolicyError
    from smtp_gitops.deploy.webhook import SecretFormatError
    from smtp_gitops.render.render import RenderError
    from smtp_gitops.render.secrets import SecretError

    try:
        policy = DeployPolicy.from_sources(allow_output, allow_target)
    except PolicyError as error:
        fail(ctx, str(error), EXIT_USAGE)
    loaded = load_or_exit(ctx, environment, root, quiet=quiet)
    options = DeployOptions(
        dry_run=dry_run,
        force=force,
        allow_older=allow_older,
        require_clean=require_clean,
        lock_timeout=lock_timeout,
        policy=policy,
    )
    try:
        result = run_deploy(loaded.settings, options, click.echo, repository=loaded.repository)
    except (DeployUsageError, SecretFormatError) as error:
        fail(ctx, str(error), EXIT_USAGE)
    except (RenderError, SecretError, LockTimeout) as error:
        fail(ctx, str(error), EXIT_FAILED)
    ctx.exit(result.exit_code)
