"""``smtp-gitops schema``: print the JSON Schema of the settings file."""

from __future__ import annotations

import click


@click.command("schema")
@click.option(
    "--version",
    "schema_version",
    default="v1",
    show_default=True,
    type=click.Choice(["v1", "v2"]),
    help="Settings file format.",
)
def schema_command(schema_version: str) -> None:
    """Print the JSON Schema of the settings file."""
    from smtp_gitops.settings.schema import json_schema_text

    click.echo(json_schema_text(schema_version), nl=False)
