"""The mail providers check-dns knows, by the ``networkHost`` a set sends through: what the
sender domain's SPF must include, and which DKIM selectors the provider publishes under.

Kept as data in one place; the README cites each provider's documentation for every value.
Any other host is a relay of the team's own, whose addresses the SPF record must permit.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    hosts: tuple[str, ...]  # networkHost names, fnmatch patterns allowed
    spf_include: str  # what the sender domain's SPF must include (when SPF is on it)
    # False where the provider sends with a bounce (MAIL FROM) domain of its own by default:
    # SPF is checked against that domain, so DMARC passes through DKIM alignment instead.
    spf_on_sender: bool
    dkim_selectors: tuple[str, ...]  # empty: per-account selectors nobody can guess
    note: str = ""


PROVIDERS: tuple[Provider, ...] = (
    Provider(
        "Microsoft 365",
        ("smtp.office365.com", "smtp-mail.outlook.com"),
        "spf.protection.outlook.com",
        True,
        ("selector1", "selector2"),
    ),
    Provider(
        "Google",
        ("smtp.gmail.com", "smtp-relay.gmail.com"),
        "_spf.google.com",
        True,
        ("google",),
    ),
    Provider(
        "Mailgun",
        ("smtp.mailgun.org", "smtp.eu.mailgun.org"),
        "mailgun.org",
        True,
        (),
        "Mailgun's DKIM selector is chosen per domain (shown in its control panel)",
    ),
    Provider(
        "Amazon SES",
        ("email-smtp.*.amazonaws.com",),
        "amazonses.com",
        False,
        (),
        "SES sends from its own MAIL FROM domain unless a custom one is set; its Easy DKIM "
        "selectors are per-domain tokens",
    ),
    Provider(
        "SendGrid",
        ("smtp.sendgrid.net",),
        "sendgrid.net",
        False,
        ("s1", "s2"),
        "with domain authentication SendGrid's return path is a subdomain CNAMEd to it",
    ),
    Provider(
        "Postmark",
        ("smtp.postmarkapp.com", "smtp-broadcasts.postmarkapp.com"),
        "spf.mtasv.net",
        False,
        (),
        "Postmark bounces through its own pm-bounces return path; its DKIM selector is dated",
    ),
    Provider(
        "Mailjet",
        ("in-v3.mailjet.com", "in.mailjet.com"),
        "spf.mailjet.com",
        True,
        ("mailjet",),
    ),
)


def provider_for(network_host: str) -> Provider | None:
    """The provider ``network_host`` belongs to, or None for a relay of the team's own."""
    host = network_host.lower().rstrip(".")
    for provider in PROVIDERS:
        if any(fnmatch.fnmatchcase(host, pattern) for pattern in provider.hosts):
            return provider
    return None
