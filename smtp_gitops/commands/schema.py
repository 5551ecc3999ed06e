"""``smtp-gitops schema``: print the JSON Schema of the settings file, or write every schema
file (full and overlay, per apiVersion) into a folder."""

from __future__ import annotations

import click

from smtp_gitops.commands.common import fail


@click.command("schema", short_help="Print or write the JSON Schemas.")
@click.option(
    "--api-version",
    "api_version",
    default="v1",
    show_default=True,
    type=click.Choice(["v1", "v2"]),
    help="Settings file format.",
)
# The first spelling, kept working; hidden because it reads like the global --version.
@click.option("--version", "legacy_version", hidden=True, type=click.Choice(["v1", "v2"]))
@click.option(
    "--overlay",
    is_flag=True,
    help="The schema of a file merged over a base (and of the base): no key is required.",
)
@click.option(
    "--write",
    "folder",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Write every schema file (full and overlay, each version) into DIR instead.",
)
@click.pass_context
def schema_command(
    ctx: click.Context,
    api_version: str,
    legacy_version: str | None,
    overlay: bool,
    folder: str | None,
) -> None:
    """Print the JSON Schema of the settings file (or write them all with --write)."""
    from smtp_gitops.settings.schema import json_schema_text

    if folder is None:
        version = legacy_version or api_version
        click.echo(json_schema_text(version, overlay=overlay), nl=False)
        return
    from smtp_gitops.scaffold import write_schema_files

    try:
        written = write_schema_files(folder)
    except OSError as error:
        fail(ctx, f"cannot write the schemas into {folder}: {error.strerror or error}")
    for path in written:
        click.echo(f"wrote {path}")
