"""``smtp-gitops render``: one environment's runtime config, to stdout or a file."""

from __future__ import annotations

import os
import sys

import click

from smtp_gitops.commands.common import fail, load_or_exit, root_option
from smtp_gitops.exit_codes import EXIT_USAGE


def _from_the_repository(template: str, repository: str) -> str:
    """``--template`` as typed (relative to the working folder) as a settings file would name
    it (relative to the repository's top), the one form templates are looked up by."""
    from smtp_gitops.render.render import BUILTIN_TEMPLATES

    if template in BUILTIN_TEMPLATES or os.path.isabs(template):
        return template  # an absolute path is refused with its own message
    return os.path.relpath(os.path.abspath(template), repository)


@click.command(short_help="Render ENV's runtime config.")
@click.argument("environment", metavar="ENV")
@click.option("--out", type=click.Path(dir_okay=False), help="Write here (atomically, mode 0600).")
@click.option("--redact", is_flag=True, help="Replace secrets with *** (resolves none).")
@click.option("--template", help="Override spec.render.template (built-in name or path).")
@root_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@click.pass_context
def render(
    ctx: click.Context,
    environment: str,
    out: str | None,
    redact: bool,
    template: str | None,
    root: str,
    quiet: bool,
) -> None:
    """Render ENV's runtime config: merged, validated, secrets resolved, template applied."""
    from smtp_gitops.render.files import OutputRefused, check_output_path, write_atomic
    from smtp_gitops.render.render import RenderError, render_settings
    from smtp_gitops.render.secrets import SecretError

    loaded = load_or_exit(ctx, environment, root, quiet=quiet)
    if template is not None:
        template = _from_the_repository(template, loaded.repository)
    if out is not None:
        try:
            check_output_path(out, loaded.repository)  # before any secret is resolved
        except OutputRefused as error:
            fail(ctx, str(error), EXIT_USAGE)
    if out is None and not redact and sys.stdout.isatty():
        # A terminal is a shared screen (and scrollback): show the shape, not the passwords.
        redact = True
        click.echo("note: secrets redacted on a terminal; use --out FILE or a pipe", err=True)
    try:
        text = render_settings(
            loaded.settings, redact=redact, template=template, repository=loaded.repository
        )
        if out is not None:
            write_atomic(out, text.encode("utf-8"))
    except (RenderError, SecretError) as error:
        fail(ctx, str(error))
    except OSError as error:
        fail(ctx, f"cannot write {out}: {error.strerror or error}")
    if out is None:
        click.echo(text, nl=False)
    elif not quiet:
        click.echo(f"wrote {out}", err=True)
