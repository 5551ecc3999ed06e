"""``username``, ``email`` (the sender address) or a report email is not a valid address.

An address is ``local@domain`` with a dotted domain, e.g. ``portal@example.com``. The portal
sends from ``email`` (v2; it defaults to ``username``) or ``username`` (v1), so a malformed one
is rejected by the SMTP server at the first mail.
"""

import re
from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.lint.rules.invalid_host import is_valid_host
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "invalid-email", Severity.ERROR)

_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


def is_valid_email(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return (
        bool(at)
        and len(local) <= 64
        and bool(_LOCAL.match(local))
        and "." in domain.strip(".")
        and is_valid_host(domain)
    )


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        base = ("spec", "sets", index)
        if smtp_set.username is not None and not is_valid_email(smtp_set.username):
            yield context.report(
                RULE,
                (*base, "username"),
                f"set {smtp_set.name!r}: username {smtp_set.username!r} is not an email address",
                hint="the username is the sender address, e.g. portal@example.com",
            )
        email = getattr(smtp_set, "email", None)
        if email is not None and not is_valid_email(email):
            yield context.report(
                RULE,
                (*base, "email"),
                f"set {smtp_set.name!r}: email {email!r} is not an email address",
                hint="the email is the sender address, e.g. no-reply@example.com",
            )
        for position, report in enumerate(smtp_set.reportEmails):
            if not is_valid_email(report.email):
                yield context.report(
                    RULE,
                    (*base, "reportEmails", position, "email"),
                    f"set {smtp_set.name!r}: report email {report.email!r} is not an email address",
                )
