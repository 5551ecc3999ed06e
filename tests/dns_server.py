"""A real DNS server on 127.0.0.1 (dnslib), answering from a zone given as data, counting every
question it is asked; and a server that never answers."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from dnslib import AAAA, CNAME, MX, QTYPE, RCODE, RR, TXT, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer

# name -> [(type, value)]; TXT values longer than 255 bytes are split as DNS requires.
Zone = Mapping[str, Sequence[tuple[str, str]]]
_RDATA: dict[str, Any] = {
    "A": A,
    "AAAA": AAAA,
    "CNAME": CNAME,
    "MX": lambda v: MX(v, 10),
    "TXT": lambda v: TXT([v[i : i + 255] for i in range(0, max(len(v), 1), 255)]),
}


class ZoneResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, zone: Zone) -> None:
        self.zone = {name.lower().rstrip("."): list(records) for name, records in zone.items()}
        self.asked: Counter[tuple[str, str]] = Counter()
        self.lock = threading.Lock()

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        kind = QTYPE[request.q.qtype]
        with self.lock:
            self.asked[(name, kind)] += 1
        records = self.zone.get(name)
        if records is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for record_type, value in records:
            if record_type == kind:
                reply.add_answer(RR(name, getattr(QTYPE, kind), rdata=_RDATA[kind](value), ttl=60))
        return reply


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def dns_server(zone: Zone) -> Iterator[tuple[str, ZoneResolver]]:
    """``ADDR:PORT`` of a server answering ``zone``, and its resolver (with ``asked``)."""
    resolver = ZoneResolver(zone)
    port = _free_port()
    server = DNSServer(resolver, address="127.0.0.1", port=port, logger=_Quiet())
    server.start_thread()
    try:
        yield f"127.0.0.1:{port}", resolver
    finally:
        server.stop()


@contextmanager
def silent_server() -> Iterator[str]:
    """A UDP port on 127.0.0.1 that takes questions and never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{listener.getsockname()[1]}"


class _Quiet:
    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None
