"""``smtp-gitops check-connection ENV``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from smtp_gitops.commands.common import fail, load_or_exit, root_option
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from smtp_gitops.settings.model import OAuth2


def _token_step(
    ctx: click.Context,
    oauth2: OAuth2,
    client_secret: str,
    timeout: float,
    report: Callable[[str, bool, float, str], None],
) -> str:
    """Fetch the client-credentials token, reporting it like the SMTP steps."""
    from smtp_gitops.probe.oauth2 import TokenError, TokenRequest, fetch_token
    from smtp_gitops.render.secrets import scrub

    url = oauth2.token_endpoint()
    if url is None:
        fail(ctx, "the set has no token endpoint (run `smtp-gitops validate`)", EXIT_FAILED)
    request = TokenRequest(url, oauth2.clientId, client_secret, oauth2.token_scope())
    started = time.perf_counter()
    try:
        token = fetch_token(request, timeout=timeout)
    except TokenError as error:
        report("token", False, time.perf_counter() - started, url)
        fail(ctx, scrub(f"token request failed: {error}", [client_secret]), EXIT_FAILED)
    report("token", True, time.perf_counter() - started, url)
    return token


@click.command("check-connection", short_help="Sign in to a set's SMTP server, live.")
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
    from smtp_gitops.probe.probe import (
        NoSuchSet,
        ProbeFailed,
        Target,
        choose_set,
        probe,
        sent_secrets,
        set_secret,
        xoauth2_sent,
    )
    from smtp_gitops.render.secrets import SecretError, scrub

    loaded = load_or_exit(ctx, environment, root, quiet=quiet)
    settings = loaded.settings
    try:
        chosen = choose_set(settings, set_name)
        password = set_secret(chosen, os.environ, loaded.repository)
    except NoSuchSet as error:
        fail(ctx, str(error), EXIT_USAGE)
    except SecretError as error:
        fail(ctx, str(error), EXIT_FAILED)
    oauth2 = None if chosen.defaultCredentials else chosen.oauth2
    target = Target(
        chosen.networkHost,
        chosen.port,
        chosen.enableSsl,
        chosen.username,
        None if oauth2 is not None else password,
    )
    click.echo(
        f"{environment}: set {chosen.name!r} at {target.host}:{target.port} ({target.security})"
    )
    # Every form the secret travels in, so that a server quoting the exchange back leaks none.
    never_shown: list[str | None] = []
    if password:
        never_shown += sent_secrets(chosen.username or "", password)

    def report(step: str, ok: bool, seconds: float, detail: str) -> None:
        outcome = "ok" if ok else "FAILED"
        line = (
            f"  {step:<9} {detail + ' ' if detail else ''}... {outcome} ({seconds * 1000:.0f} ms)"
        )
        click.echo(scrub(line, never_shown))

    if oauth2 is not None and password is not None:
        token = _token_step(ctx, oauth2, password, timeout, report)
        never_shown += [token, xoauth2_sent(chosen.username or "", token)]
        target = replace(target, bearer_token=token)
    try:
        probe(target, report, timeout=timeout, cafile=cafile)
    except ProbeFailed as error:
        fail(ctx, scrub(str(error), never_shown), EXIT_FAILED)
    click.echo(
        "ok: the server accepted the connection"
        + ("" if password is None else " and the credentials")
        + "; no mail was sent"
    )
    ctx.exit(EXIT_OK)
