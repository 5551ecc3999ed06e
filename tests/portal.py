"""Real HTTP servers on 127.0.0.1 standing in for portal nodes: the bundled receiver, and raw
sockets for nodes that misbehave (trickle, never stop talking, send malformed headers)."""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from smtp_gitops.deploy.receiver import ReceiverServer, ReceiverState, Scripted
from smtp_gitops.deploy.webhook import config_digest, signing_key

SECRET = "whsec_" + base64.b64encode(b"portal-reload-signing-key-0123456789").decode()
KEY = signing_key(SECRET, "PORTAL_RELOAD_SECRET")


def digest_of(content: bytes) -> str:
    return config_digest(KEY, content)


@contextmanager
def portal(
    responses: list[Scripted] | None = None,
    secret: str = SECRET,
    *,
    config: str | None = None,
    delay: float = 0.0,
) -> Iterator[ReceiverServer]:
    state = ReceiverState(
        secret, responses=list(responses or []), quiet=True, config=config, delay=delay
    )
    server = ReceiverServer(("127.0.0.1", 0), state)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/reload-application"


@contextmanager
def raw_node(talk: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A node that answers every connection with ``talk(connection, stop)``."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=_talk, args=(connection,), daemon=True).start()

    def _talk(connection: socket.socket) -> None:
        with connection:
            try:
                connection.settimeout(5)
                connection.recv(65536)
                talk(connection, stop)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/reload-application"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def trickle(connection: socket.socket, stop: threading.Event) -> None:
    """Headers one byte at a time, never finished: a node that is alive but useless."""
    while not stop.is_set():
        connection.sendall(b"H")
        time.sleep(0.2)


def endless_body(connection: socket.socket, stop: threading.Event) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n")
    chunk = b"x" * 65536
    while not stop.is_set():
        connection.sendall(chunk)


def answer(raw: bytes) -> Callable[[socket.socket, threading.Event], None]:
    def talk(connection: socket.socket, stop: threading.Event) -> None:
        connection.sendall(raw)

    return talk
