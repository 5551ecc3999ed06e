"""Deploy: render, write atomically, reload every portal node, roll back if any node fails."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from smtp_gitops.files import write_atomic
from smtp_gitops.model import Settings
from smtp_gitops.render import config_sha256, render_settings
from smtp_gitops.secrets import REDACTED, SecretError, scrub, set_passwords
from smtp_gitops.webhook import (
    Delivery,
    Sender,
    now_utc,
    reload_body,
    signing_key,
    webhook_id_for,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class DeployUsageError(Exception):
    """The settings cannot be deployed as configured (exit 2)."""


@dataclass(frozen=True, slots=True)
class DeployOptions:
    dry_run: bool = False
    force: bool = False
    backoff_base: float = 0.5
    sleep: Callable[[float], None] = time.sleep


def git_revision() -> str | None:
    """HEAD's commit when run inside a git work tree; deploying never depends on git."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    revision = done.stdout.strip()
    return revision if done.returncode == 0 and revision else None


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def deploy(
    settings: Settings,
    options: DeployOptions,
    echo: Callable[[str], None],
    environ: Mapping[str, str] | None = None,
) -> int:
    env = os.environ if environ is None else environ
    output = settings.spec.render.output
    if output is None:
        raise DeployUsageError("spec.render.output is not set: deploy needs a file to write")
    reload = settings.spec.reload
    key: bytes | None = None
    secrets: list[str | None] = []
    if reload is not None and not options.dry_run:
        secret = env.get(reload.secretFromEnv)
        if not secret:
            raise DeployUsageError(
                f"environment variable {reload.secretFromEnv} (reload signing secret) is not set"
            )
        key = signing_key(secret, reload.secretFromEnv)
        secrets.append(secret)

    text = render_settings(settings, redact=options.dry_run, environ=env)
    if not options.dry_run:
        secrets += set_passwords(settings, redact=False, environ=env).values()
    digest = config_sha256(text)
    webhook_id = webhook_id_for(digest)
    environment = settings.metadata.environment
    say: Callable[[str], None] = lambda line: echo(scrub(line, secrets))  # noqa: E731

    if options.dry_run:
        # The real webhook-id hashes the config with its secrets; use it when they are here.
        with contextlib.suppress(SecretError):
            webhook_id = webhook_id_for(config_sha256(render_settings(settings, environ=env)))
        _print_dry_run(say, text, output, reload.targets if reload else [], webhook_id)
        return EXIT_OK

    previous = _read(output)
    new = text.encode("utf-8")
    if previous == new and not options.force:
        say(f"{output} is unchanged (sha256 {digest[:12]}); reload skipped (use --force to send)")
        return EXIT_OK
    write_atomic(output, new)
    say(f"wrote {output} (sha256 {digest[:12]})")
    if reload is None or key is None:
        say("no reload configured (spec.reload): the portal must be reloaded by hand")
        return EXIT_OK

    sender = Sender(
        key,
        timeout=reload.timeoutSeconds,
        retries=reload.retries,
        backoff_base=options.backoff_base,
        sleep=options.sleep,
    )
    body = reload_body(environment, digest, git_revision(), now_utc())
    deliveries = [sender.deliver(url, webhook_id, body) for url in reload.targets]
    return _report_and_roll_back(say, deliveries, environment, output, previous)


def _print_dry_run(
    say: Callable[[str], None], text: str, output: str, targets: list[str], webhook_id: str
) -> None:
    say(f"dry run: would write {len(text.encode())} bytes to {output} (mode 0600)")
    say(f"--- {output} (secrets redacted)")
    for line in text.rstrip("\n").splitlines():
        say(f"  {line}")
    if not targets:
        say("no reload configured (spec.reload): nothing would be sent")
    for url in targets:
        say(
            f"would POST smtp-settings.reload to {url} "
            f"(webhook-id: {webhook_id}, webhook-signature: v1,{REDACTED})"
        )


def _report_and_roll_back(
    say: Callable[[str], None],
    deliveries: list[Delivery],
    environment: str,
    output: str,
    previous: bytes | None,
) -> int:
    """Say how each node fared; if any failed, put the previous file back byte for byte."""
    for delivery in deliveries:
        tries = f"{delivery.attempts} attempt{'s' if delivery.attempts != 1 else ''}"
        if delivery.ok:
            say(f"reloaded {delivery.url} (HTTP {delivery.status}, {tries})")
        else:
            say(f"FAILED {delivery.url}: {delivery.error} ({tries})")
    failed = [d for d in deliveries if not d.ok]
    if not failed:
        say(f"{environment}: {len(deliveries)} node(s) reloaded")
        return EXIT_OK
    if previous is None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output)
        say(f"rolled back: removed {output} (there was no previous file)")
    else:
        write_atomic(output, previous)
        say(f"rolled back: restored the previous {output}")
    say(f"{environment}: {len(failed)} of {len(deliveries)} node(s) failed to reload")
    return EXIT_FAILED
