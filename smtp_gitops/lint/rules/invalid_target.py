"""A reload target is not an absolute http(s) URL with a valid host.

Each entry of ``reload.targets`` is the reload webhook of one portal node, such as
``https://portal-1.example.com/api/reload-application``. It needs the scheme ``https`` (or
``http``), a valid host name or IP address (IPv6 in brackets), an optional port from 1 to
65535, and no user name or password in the URL (the request is signed instead).
"""

from collections.abc import Iterator
from urllib.parse import SplitResult, urlsplit

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.lint.rules.invalid_host import is_valid_host
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "invalid-target", Severity.ERROR)


def target_problem(url: str) -> str | None:
    """Why ``url`` cannot be a reload target, or None."""
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as error:
        return f"it cannot be parsed ({error})"
    if parts.scheme not in ("http", "https"):
        return "the scheme must be https:// (or http://)"
    if parts.username is not None or parts.password is not None:
        return "credentials do not belong in the URL (deliveries are signed)"
    host = parts.hostname
    if not host or not is_valid_host(host):
        return "it has no valid host"
    if port == 0:
        return "port 0 is not a port"
    return None


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    reload = context.settings.spec.reload
    if reload is None:
        return
    for index, url in enumerate(reload.targets):
        problem = target_problem(url)
        if problem is not None:
            yield context.report(
                RULE,
                ("spec", "reload", "targets", index),
                f"reload target {_without_userinfo(url)!r} is not a usable URL: {problem}",
                hint="write it as https://portal-1.example.com/api/reload-application",
            )


def _without_userinfo(url: str) -> str:
    """The URL with anything before ``@`` in its authority hidden: it may be a password."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}" if sep else url
