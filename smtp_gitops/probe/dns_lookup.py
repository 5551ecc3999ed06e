"""DNS lookups for check-dns: concurrent, each name and type asked once per run, and the
whole run bounded in time. A resolver failure (timeout, SERVFAIL, REFUSED) is kept apart from
an answer that a record does not exist, so "could not check" is never said as "missing"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Answer:
    records: tuple[str, ...] = ()
    error: str | None = None  # the resolver could not say; None for a real answer (or none)

    @property
    def failed(self) -> bool:
        return self.error is not None


def nameserver(text: str) -> tuple[str, int]:
    """``ADDR`` or ``ADDR:PORT`` (``[v6]:PORT`` for IPv6) as an address and a port."""
    import ipaddress

    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = int(rest.removeprefix(":"))
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        port = int(port_text)
    ipaddress.ip_address(host)  # ValueError for a name: a resolver is given by address
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return host, port


@dataclass
class Lookups:
    """One run's DNS: ``await lookups.query(name, "TXT")``."""

    nameservers: Sequence[tuple[str, int]] = ()
    timeout: float = 10.0
    queried: dict[tuple[str, str], int] = field(default_factory=dict)  # for the tests
    _pending: dict[tuple[str, str], asyncio.Task[Answer]] = field(default_factory=dict)
    _resolver: Any = None
    _deadline: float = 0.0

    def start(self) -> None:
        import dns.asyncresolver
        import dns.nameserver

        resolver = dns.asyncresolver.Resolver(configure=not self.nameservers)
        if self.nameservers:
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(host, port) for host, port in self.nameservers
            ]
        resolver.cache = None
        self._resolver = resolver
        self._deadline = time.monotonic() + self.timeout

    async def query(self, name: str, rdtype: str) -> Answer:
        key = (name.lower().rstrip(".") + ".", rdtype)
        task = self._pending.get(key)
        if task is None:
            self.queried[key] = self.queried.get(key, 0) + 1
            task = asyncio.ensure_future(self._ask(*key))
            self._pending[key] = task
        return await asyncio.shield(task)

    async def _ask(self, name: str, rdtype: str) -> Answer:
        import dns.exception
        import dns.resolver

        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return Answer(error="the run's time limit was reached")
        try:
            answer = await self._resolver.resolve(
                name, rdtype, lifetime=remaining, raise_on_no_answer=False, search=False
            )
        except dns.resolver.NXDOMAIN:
            return Answer()
        except dns.exception.Timeout:
            return Answer(error=f"no answer within {self.timeout:g} s")
        except dns.resolver.NoNameservers:
            return Answer(error="the resolver failed (SERVFAIL or REFUSED)")
        except dns.exception.DNSException as error:
            return Answer(error=f"the lookup failed ({type(error).__name__})")
        if answer.rrset is None:
            return Answer()
        return Answer(tuple(_text(rdtype, item) for item in answer.rrset))


def _text(rdtype: str, rdata: Any) -> str:
    if rdtype == "TXT":
        return b"".join(rdata.strings).decode("utf-8", "replace")
    if rdtype == "MX":
        return str(rdata.exchange).rstrip(".")
    if rdtype == "CNAME":
        return str(rdata.target).rstrip(".")
    return str(rdata.address) if hasattr(rdata, "address") else rdata.to_text()
