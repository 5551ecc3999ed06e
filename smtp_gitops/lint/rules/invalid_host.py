"""``networkHost`` is not a valid host name or IP address.

It must be a bare host such as ``smtp.gmail.com``, ``10.0.0.5`` or ``::1``: no scheme
(``smtp://``), no port (that goes in ``port``), no spaces, labels of letters, digits and inner
hyphens of at most 63 characters.
"""

import ipaddress
import re
from collections.abc import Iterator

from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity

RULE = rule(__doc__, "invalid-host", Severity.ERROR)

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def is_valid_host(host: str) -> bool:
    # Only digits and dots (IPv4) or a colon (IPv6) can make an address; asking ipaddress about
    # every host name would raise (slowly) for each one.
    if ":" in host or host.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(host)
            return True
        except ValueError:
            pass
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253 or name.replace(".", "").isdigit():
        return False
    return all(_LABEL.match(label) for label in name.split("."))


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    for index, smtp_set in enumerate(context.settings.sets()):
        host = smtp_set.networkHost
        if is_valid_host(host):
            continue
        hint = None
        if "://" in host:
            hint = "write the host alone, without a scheme"
        elif ":" in host and host.rsplit(":", 1)[1].isdigit():
            hint = "put the port in `port`, not in the host"
        yield context.report(
            RULE,
            ("spec", "sets", index, "networkHost"),
            f"set {smtp_set.name!r}: {host!r} is not a valid host name or IP address",
            hint=hint,
        )
