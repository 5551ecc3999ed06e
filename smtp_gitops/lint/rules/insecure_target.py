"""A reload target uses plain ``http://`` to a host other than this machine.

Deliveries are signed, so nobody can forge one, but over plain HTTP anyone on the path can read
the environment name and revision, and hold back or replay deliveries within the 5-minute
window. Use ``https://``; plain HTTP is fine to ``localhost``, ``127.0.0.1`` or ``::1``.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.lint.rules.invalid_target import target_problem
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "insecure-target", Severity.WARNING)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    reload = context.settings.spec.reload
    if reload is None:
        return
    for index, url in enumerate(reload.targets):
        if target_problem(url) is not None:
            continue  # invalid-target says it
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "http" and host not in LOOPBACK_HOSTS and not host.startswith("127."):
            yield context.report(
                RULE,
                ("spec", "reload", "targets", index),
                f"reload target {url!r} uses plain http:// to {host}",
                hint="use https:// (plain http is only for this machine)",
            )
