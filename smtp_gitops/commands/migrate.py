"""``smtp-gitops migrate [PATH...] [--check]``."""

from __future__ import annotations

import click

from smtp_gitops.commands.common import root_option, say_error
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE


@click.command("migrate", short_help="Rewrite v1 settings files as v2, in place.")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@root_option
@click.pass_context
def migrate(
    ctx: click.Context, paths: tuple[str, ...], check: bool, quiet: bool, root: str
) -> None:
    """Rewrite v1 settings files as apiVersion smtp-gitops/v2, keeping comments and layout.

    PATH is a file or folder (default: the root, environments/). A base moves together with
    every environment built on it, since they must share one apiVersion.
    """
    paths = paths or (root,)
    from smtp_gitops.migrate import (
        MigrationError,
        files_to_migrate,
        finish_interrupted,
        journal_path,
        migrate_file,
        write_migrations,
    )

    files, problems = files_to_migrate(list(paths))
    journal = journal_path(files)
    if not check:
        try:
            for finished in finish_interrupted(journal):
                click.echo(f"finished the interrupted migration of {finished}")
        except (MigrationError, OSError) as error:
            say_error(error)
            ctx.exit(EXIT_USAGE)
        files, problems = files_to_migrate(list(paths))
    for problem in problems:
        say_error(problem)
    migrations = []
    for path in files:
        try:
            migrations.append(migrate_file(path))
        except MigrationError as error:
            problems.append(str(error))
            say_error(error)
    if problems:
        # All or nothing: a base migrated without one of its environments would not validate.
        click.echo("Error: nothing was changed", err=True)
        ctx.exit(EXIT_USAGE)
    changed = [m for m in migrations if m.changed]
    if changed and not check:
        try:
            write_migrations(changed, journal)
        except MigrationError as error:
            say_error(error)
            ctx.exit(EXIT_USAGE)
        except OSError as error:
            click.echo(
                f"Error: the migration stopped ({error.strerror or error}); "
                "run `smtp-gitops migrate` again to finish it",
                err=True,
            )
            ctx.exit(EXIT_USAGE)
    for migration in changed:
        if not quiet:
            click.echo(f"{'would migrate' if check else 'migrated'} {migration.path}")
    if not quiet:
        done = "would be migrated" if check else "migrated"
        click.echo(
            f"{len(migrations)} file(s) checked: {len(changed)} {done}, "
            f"{len(migrations) - len(changed)} already v2"
        )
    ctx.exit(EXIT_FAILED if check and changed else EXIT_OK)
