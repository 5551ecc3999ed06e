"""A reference receiver for the reload webhook: verify Standard Webhooks signatures.

Portal teams can run it (``python -m smtp_gitops.receiver``) to see deliveries arrive, or copy
``verify`` into the portal. The tests use it as the portal stand-in.
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from smtp_gitops.webhook import SecretFormatError, sign, signing_key

TOLERANCE_SECONDS = 300


class VerificationError(Exception):
    """Why a delivery was not accepted."""


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE_SECONDS,
) -> None:
    """Raise ``VerificationError`` unless ``body`` is signed with ``secret`` and fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    missing = [
        h for h in ("webhook-id", "webhook-timestamp", "webhook-signature") if h not in lowered
    ]
    if missing:
        raise VerificationError(f"missing header(s): {', '.join(missing)}")
    try:
        timestamp = int(lowered["webhook-timestamp"])
    except ValueError:
        raise VerificationError("webhook-timestamp is not a unix time") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise VerificationError("webhook-timestamp is more than 5 minutes from this clock")
    try:
        key = signing_key(secret, "the receiver secret")
    except SecretFormatError as error:
        raise VerificationError(str(error)) from None
    expected = sign(key, lowered["webhook-id"], timestamp, body)
    offered = lowered["webhook-signature"].split()
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise VerificationError("signature does not match")


@dataclass(slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str | None


@dataclass
class ReceiverState:
    """Shared by the handler threads. ``responses`` scripts status codes for tests."""

    secret: str
    responses: list[int | tuple[int, dict[str, str]]] = field(default_factory=list)
    deliveries: list[Received] = field(default_factory=list)
    command: str | None = None
    quiet: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            verify(headers, body, state.secret)
            verified, reason = True, None
        except VerificationError as error:
            verified, reason = False, str(error)
        with state.lock:
            state.deliveries.append(Received(headers, body, verified, reason))
            scripted = state.responses.pop(0) if state.responses else None
        status, extra = scripted if isinstance(scripted, tuple) else (scripted, {})
        if status is None:
            status = 204 if verified else 401
        if not state.quiet:
            _log_delivery(headers, body, verified, reason, status)
        if verified and status < 300 and state.command:
            subprocess.run(shlex.split(state.command), check=False)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: one line per delivery is printed instead."""


def _log_delivery(
    headers: Mapping[str, str], body: bytes, verified: bool, reason: str | None, status: int
) -> None:
    try:
        environment = json.loads(body)["data"]["environment"]
    except (ValueError, KeyError, TypeError):
        environment = "?"
    outcome = "verified" if verified else f"REJECTED ({reason})"
    print(
        f"{headers.get('webhook-id', '-')} environment={environment} {outcome} -> {status}",
        flush=True,
    )


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: ReceiverState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/api/reload-application"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smtp_gitops.receiver",
        description="Receive and verify smtp-gitops reload webhooks (a portal stand-in).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--secret-env", default="PORTAL_RELOAD_SECRET")
    parser.add_argument("--exec", dest="command", help="run this command on each verified delivery")
    args = parser.parse_args(argv)
    secret = os.environ.get(args.secret_env)
    if not secret:
        print(f"error: environment variable {args.secret_env} is not set", file=sys.stderr)
        return 2
    try:
        signing_key(secret, args.secret_env)
    except SecretFormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    server = ReceiverServer((args.host, args.port), ReceiverState(secret, command=args.command))
    print(f"listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
