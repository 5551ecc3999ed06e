"""``smtp-gitops plan``."""

from __future__ import annotations

import click

from smtp_gitops.commands.common import configuration, fail, format_option, root_option
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE


@click.command(short_help="Show what a change does to each environment.")
@click.option(
    "--base",
    "base_ref",
    metavar="REF",
    help="Compare with this git revision (default: origin/main if it exists, else HEAD).",
)
@format_option("text", "markdown", "json")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when anything would change (like git diff --exit-code); 2 stays usage.",
)
@root_option
@click.pass_context
def plan(
    ctx: click.Context, base_ref: str | None, output_format: str, exit_code: bool, root: str
) -> None:
    """Show, per environment, what changes between REF and the work tree (secrets redacted).

    A repository without commits is planned against the empty tree.
    """
    from smtp_gitops.plan.git_revision import PlanError, default_base
    from smtp_gitops.plan.plan import format_json, format_markdown, format_text, make_plan
    from smtp_gitops.settings.discovery import find_root_folder

    found_root = find_root_folder(root)
    try:
        ref = base_ref or default_base()
        plans = make_plan(ref, found_root or root, config=configuration(ctx))
    except PlanError as error:
        fail(ctx, str(error), EXIT_USAGE)
    if found_root is None:
        # An empty plan would read as "nothing changes": a wrong folder must not pass for that.
        fail(ctx, f"{root}: no such folder here or at the top of the repository", EXIT_USAGE)
    if output_format == "markdown":
        from smtp_gitops.plan.comment_limit import fit_comment

        click.echo(fit_comment(format_markdown(plans, ref)), nl=False)
    elif output_format == "json":
        click.echo(format_json(plans, ref), nl=False)
    else:
        click.echo(format_text(plans, ref), nl=False)
    changed = any(p.changed for p in plans)
    ctx.exit(EXIT_FAILED if exit_code and changed else EXIT_OK)
