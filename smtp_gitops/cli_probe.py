"""``smtp-gitops check-connection ENV``."""

from __future__ import annotations

import os

import click

from smtp_gitops.cli_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, load_or_exit, root_option


@click.command("check-connection")
@click.argument("environment", metavar="ENV")
@click.option(
    "--set", "set_name", metavar="NAME", help="The set to probe (default: the effective one)."
)
@click.option(
    "--timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds per step.",
)
@click.option(
    "--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA bundle for TLS."
)
@root_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@click.pass_context
def check_connection(
    ctx: click.Context,
    environment: str,
    set_name: str | None,
    timeout: float,
    cafile: str | None,
    root: str,
    quiet: bool,
) -> None:
    """Probe a set's SMTP server live: connect, EHLO, STARTTLS/TLS, AUTH. Never sends mail."""
    from smtp_gitops.model import SecretFromEnv, SecretFromFile
    from smtp_gitops.probe import ProbeFailed, Target, probe, sent_secrets
    from smtp_gitops.secrets import SecretError, resolve, scrub

    settings = load_or_exit(ctx, environment, root, quiet=quiet).settings
    names = [s.name for s in settings.spec.sets]
    chosen = (
        next((s for s in settings.spec.sets if s.name == set_name), None)
        if set_name
        else settings.effective_set()
    )
    if chosen is None:
        fail(ctx, f"no set {set_name!r} in {environment} (sets: {', '.join(names)})", EXIT_USAGE)
    password: str | None = None
    if not chosen.defaultCredentials and isinstance(
        chosen.password, SecretFromEnv | SecretFromFile
    ):
        try:
            password = resolve(chosen.password, f"password of set {chosen.name!r}", os.environ)
        except SecretError as error:
            fail(ctx, str(error), EXIT_FAILED)
    target = Target(chosen.networkHost, chosen.port, chosen.enableSsl, chosen.username, password)
    secrets = sent_secrets(chosen.username or "", password) if password else []
    click.echo(
        f"{environment}: set {chosen.name!r} at {target.host}:{target.port} ({target.security})"
    )

    def report(step: str, ok: bool, seconds: float, detail: str) -> None:
        outcome = "ok" if ok else "FAILED"
        line = (
            f"  {step:<9} {detail + ' ' if detail else ''}... {outcome} ({seconds * 1000:.0f} ms)"
        )
        click.echo(scrub(line, secrets))

    try:
        probe(target, report, timeout=timeout, cafile=cafile)
    except ProbeFailed as error:
        fail(ctx, scrub(str(error), secrets), EXIT_FAILED)
    click.echo(
        "ok: the server accepted the connection"
        + ("" if password is None else " and the credentials")
        + "; no mail was sent"
    )
    ctx.exit(EXIT_OK)
