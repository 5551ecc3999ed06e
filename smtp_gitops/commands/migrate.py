"""``smtp-gitops migrate [PATH...] [--check]``."""

from __future__ import annotations

import click

from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE


@click.command("migrate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@click.option("-q", "--quiet", is_flag=True, help="Print only problems.")
@click.pass_context
def migrate(ctx: click.Context, paths: tuple[str, ...], check: bool, quiet: bool) -> None:
    """Rewrite v1 settings files as apiVersion smtp-gitops/v2, keeping comments and layout.

    PATH is a file or folder (default: environments/). A base moves together with every
    environment built on it, since they must share one apiVersion.
    """
    from smtp_gitops.migrate import (
        MigrationError,
        files_to_migrate,
        migrate_file,
        write_migration,
    )

    files, problems = files_to_migrate(list(paths))
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    migrations = []
    for path in files:
        try:
            migrations.append(migrate_file(path))
        except MigrationError as error:
            problems.append(str(error))
            click.echo(f"Error: {error}", err=True)
    if problems:
        # All or nothing: a base migrated without one of its environments would not validate.
        click.echo("Error: nothing was changed", err=True)
        ctx.exit(EXIT_USAGE)
    changed = [m for m in migrations if m.changed]
    for migration in changed:
        if not check:
            try:
                write_migration(migration)
            except OSError as error:
                click.echo(f"Error: cannot write {migration.path}: {error.strerror}", err=True)
                ctx.exit(EXIT_USAGE)
        if not quiet:
            click.echo(f"{'would migrate' if check else 'migrated'} {migration.path}")
    if not quiet:
        done = "would be migrated" if check else "migrated"
        click.echo(
            f"{len(migrations)} file(s) checked: {len(changed)} {done}, "
            f"{len(migrations) - len(changed)} already v2"
        )
    ctx.exit(EXIT_FAILED if check and changed else EXIT_OK)
