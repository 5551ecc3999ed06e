"""The port and TLS setting do not fit, or credentials would cross the network in clear.

Port 465 speaks implicit TLS, so ``enableSsl: false`` there cannot work. And with
``enableSsl: false`` on any host other than this machine (localhost, 127.0.0.1, ::1), the
username and password travel unencrypted. Use port 587 with ``enableSsl: true``.
"""

from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "port-tls-mismatch", Severity.WARNING)

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        if smtp_set.enableSsl:
            continue
        path = ("spec", "sets", index, "enableSsl")
        if smtp_set.port == 465:
            yield context.report(
                RULE,
                path,
                f"set {smtp_set.name!r} uses port 465 (implicit TLS) with enableSsl: false",
                hint="set `enableSsl: true`, or use port 587",
            )
        elif smtp_set.networkHost.lower() not in LOOPBACK_HOSTS:
            yield context.report(
                RULE,
                path,
                f"set {smtp_set.name!r} disables TLS to {smtp_set.networkHost}; "
                "credentials would travel in clear",
                hint="set `enableSsl: true`"
                + (
                    " (port 587 uses STARTTLS)"
                    if smtp_set.port == 587
                    else f" (TLS on port {smtp_set.port}: STARTTLS, or 465 for implicit TLS)"
                ),
            )
