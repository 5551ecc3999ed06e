"""An OAuth 2.0 set cannot get a token as written (v2).

The portal fetches a client-credentials token before it logs in with XOAUTH2, so it needs a
token endpoint it can reach safely: ``provider: microsoft`` needs ``tenantId`` (the endpoint is
derived from it), ``provider: custom`` needs ``tokenUrl``, and a ``tokenUrl`` must be ``https://``
(the client secret is sent there; plain ``http://`` is allowed only to this machine: localhost,
127.0.0.1, ::1). A set logs in one way only, so ``auth`` takes ``password`` or ``oauth2``, never
both.
"""

from collections.abc import Iterator
from urllib.parse import urlsplit

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.lint.rules.port_tls_mismatch import LOOPBACK_HOSTS
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "oauth2-incomplete", Severity.ERROR)


def is_safe_token_url(url: str) -> bool:
    """An absolute https URL, or http to this machine."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.scheme not in ("https", "http"):
        return False
    return parts.scheme == "https" or host.lower() in LOOPBACK_HOSTS


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        oauth2 = smtp_set.oauth2
        if oauth2 is None:
            continue
        base = ("spec", "sets", index, "auth", "oauth2")
        name = smtp_set.name
        if smtp_set.password is not None:
            yield context.report(
                RULE,
                ("spec", "sets", index, "auth", "oauth2"),
                f"set {name!r} has both `auth.password` and `auth.oauth2`; "
                "a set logs in one way only",
                hint="keep `oauth2` and remove `password` (or the other way round)",
                key=True,
            )
        if oauth2.provider == "microsoft" and oauth2.tenantId is None:
            yield context.report(
                RULE,
                (*base, "provider"),
                f"set {name!r}: provider microsoft needs `tenantId` (the token endpoint is "
                "derived from it)",
                hint="add `tenantId:` with the directory (tenant) id from Entra ID",
            )
        if oauth2.provider == "custom" and oauth2.tokenUrl is None:
            yield context.report(
                RULE,
                (*base, "provider"),
                f"set {name!r}: provider custom needs `tokenUrl`",
                hint="add `tokenUrl: https://...` (the provider's token endpoint)",
            )
        if oauth2.tokenUrl is not None and not is_safe_token_url(oauth2.tokenUrl):
            yield context.report(
                RULE,
                (*base, "tokenUrl"),
                f"set {name!r}: tokenUrl must be an https:// URL; the client secret is sent there",
                hint="use https:// (http:// is accepted only for localhost, 127.0.0.1 and ::1)",
            )
