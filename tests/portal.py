"""A real HTTP server on 127.0.0.1 standing in for portal nodes (the bundled receiver)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from smtp_gitops.receiver import ReceiverServer, ReceiverState

SECRET = "whsec_" + base64.b64encode(b"portal-reload-signing-key-0123456789").decode()


@contextmanager
def portal(
    responses: list[int | tuple[int, dict[str, str]]] | None = None, secret: str = SECRET
) -> Iterator[ReceiverServer]:
    state = ReceiverState(secret, responses=list(responses or []), quiet=True)
    server = ReceiverServer(("127.0.0.1", 0), state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/reload-application"
