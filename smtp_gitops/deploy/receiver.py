"""The reference receiver of the reload webhook: an agent a portal team can run on each node.

``python -m smtp_gitops.receiver --exec 'systemctl reload portal' --config /etc/portal/smtp.json``
verifies each Standard Webhooks delivery, drops replays, runs the reload command, and answers
with the keyed digest of the file the node now has, so deploy knows the node loaded exactly
what it wrote. ``GET`` on the same URL tells ``smtp-gitops status`` what was last loaded.
The tests use it as the portal stand-in; ``verify`` can be copied into the portal itself.
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
from typing import Any

from smtp_gitops.deploy.webhook import (
    SecretFormatError,
    config_digest,
    now_utc,
    rfc3339,
    sign,
    signing_key,
)

TOLERANCE_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
DEFAULT_EXEC_TIMEOUT = 60.0


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
    timestamp_text = lowered["webhook-timestamp"].strip()
    if not (timestamp_text.isascii() and timestamp_text.isdigit() and len(timestamp_text) < 16):
        raise VerificationError("webhook-timestamp is not a unix time")
    timestamp = int(timestamp_text)
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


def printable(value: object, limit: int = 120) -> str:
    """A value fit for one log line: a folded header or a newline cannot forge another line."""
    text = str(value)
    cleaned = "".join(c if c.isprintable() and c != "\\" else repr(c)[1:-1] for c in text)
    return cleaned[:limit] + ("…" if len(cleaned) > limit else "")


@dataclass(slots=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool
    reason: str | None


Scripted = int | tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]


@dataclass
class ReceiverState:
    """Shared by the handler threads. ``responses`` and ``delay`` script answers for tests."""

    secret: str
    responses: list[Scripted] = field(default_factory=list)
    deliveries: list[Received] = field(default_factory=list)
    command: str | None = None
    command_timeout: float = DEFAULT_EXEC_TIMEOUT
    config: str | None = None
    quiet: bool = False
    delay: float = 0.0
    last_reload: dict[str, Any] | None = None
    seen: dict[str, tuple[float, int, bytes]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def key(self) -> bytes:
        return signing_key(self.secret, "the receiver secret")

    def remember(self, webhook_id: str, status: int, answer: bytes) -> None:
        now = time.monotonic()
        with self.lock:
            # Ids older than the tolerance would be refused as stale anyway: forget them.
            for old in [k for k, (t, _, _) in self.seen.items() if now - t > TOLERANCE_SECONDS]:
                del self.seen[old]
            self.seen[webhook_id] = (now, status, answer)


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    timeout = 30  # a client that trickles its request cannot hold a thread for ever

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read_body()
        if body is None:
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            verify(headers, body, state.secret)
            verified, reason = True, None
        except VerificationError as error:
            verified, reason = False, str(error)
        with state.lock:
            state.deliveries.append(Received(headers, body, verified, reason))
            scripted = state.responses.pop(0) if state.responses else None
        if state.delay:
            time.sleep(state.delay)
        if scripted is not None:
            status, extra, answer = _unpack(scripted)
        elif not verified:
            status, extra, answer = 401, {}, _json({"error": reason})
        else:
            status, extra, answer = self._reload(state, headers["webhook-id"], body)
        if not state.quiet:
            _log_delivery(headers, body, verified, reason, status)
        self._answer(status, answer, extra)

    def do_GET(self) -> None:
        state = self.server.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            verify(headers, b"", state.secret)
        except VerificationError as error:
            self._answer(401, _json({"error": str(error)}))
            return
        with state.lock:
            last = dict(state.last_reload) if state.last_reload else None
        if last is None:
            self._answer(404, _json({"error": "no reload received yet"}))
        else:
            self._answer(200, _json(last))

    def _read_body(self) -> bytes | None:
        length_text = self.headers.get("content-length")
        if length_text is None:
            self._answer(411, _json({"error": "content-length is required"}))
            return None
        length_text = length_text.strip()
        if not (length_text.isascii() and length_text.isdigit()):
            self._answer(400, _json({"error": "content-length is not a number"}))
            return None
        length = int(length_text) if len(length_text) < 12 else MAX_BODY_BYTES + 1
        if length > MAX_BODY_BYTES:
            self._answer(413, _json({"error": f"body over {MAX_BODY_BYTES} bytes"}))
            return None
        return self.rfile.read(length)

    def _reload(
        self, state: ReceiverState, webhook_id: str, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with state.lock:
            replay = state.seen.get(webhook_id)
        if replay is not None:
            # Standard Webhooks: the same id is the same message; answer it again, act once.
            return replay[1], {}, replay[2]
        try:
            data = json.loads(body).get("data") or {}
            if not isinstance(data, dict):
                raise TypeError
        except (ValueError, AttributeError, TypeError, RecursionError):
            return 400, {}, _json({"error": "the body is not a reload event"})
        failure = _run(state.command, state.command_timeout, data)
        if failure is not None:
            return 500, {}, _json({"error": failure})
        if state.config is not None:
            try:
                with open(state.config, "rb") as handle:
                    digest: str | None = config_digest(state.key, handle.read())
            except FileNotFoundError:
                digest = None
        else:
            # Without --config the node cannot prove what it loaded: a bare 204.
            digest = None
        record = {
            "environment": data.get("environment"),
            "configDigest": digest if state.config is not None else data.get("configDigest"),
            "deployId": data.get("deployId"),
            "reloadedAt": rfc3339(now_utc()),
        }
        with state.lock:
            state.last_reload = record
        if state.config is None:
            status, answer = 204, b""
        else:
            status, answer = 200, _json({"configDigest": digest, "deployId": data.get("deployId")})
        state.remember(webhook_id, status, answer)
        return status, {}, answer

    def _answer(self, status: int, body: bytes, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: one sanitised line per delivery is printed instead."""


def _unpack(scripted: Scripted) -> tuple[int, dict[str, str], bytes]:
    if isinstance(scripted, int):
        return scripted, {}, b""
    if len(scripted) == 2:
        return scripted[0], scripted[1], b""
    return scripted[0], scripted[1], scripted[2]


def _json(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def _run(command: str | None, timeout: float, data: Mapping[str, Any]) -> str | None:
    """Run the reload command; the reason it failed, or None."""
    if not command:
        return None
    env = {
        **os.environ,
        "SMTP_GITOPS_ENVIRONMENT": str(data.get("environment") or ""),
        "SMTP_GITOPS_DEPLOY_ID": str(data.get("deployId") or ""),
    }
    try:
        done = subprocess.run(
            shlex.split(command), env=env, timeout=timeout, capture_output=True, check=False
        )
    except subprocess.TimeoutExpired:
        return f"the reload command did not finish within {timeout:g} s"
    except OSError as error:
        return f"the reload command could not start: {error.strerror or error}"
    if done.returncode != 0:
        return f"the reload command exited with status {done.returncode}"
    return None


def _log_delivery(
    headers: Mapping[str, str], body: bytes, verified: bool, reason: str | None, status: int
) -> None:
    try:
        environment = json.loads(body)["data"]["environment"]
    except (ValueError, KeyError, TypeError, RecursionError):
        environment = "?"
    outcome = "verified" if verified else f"REJECTED ({printable(reason)})"
    webhook_id = printable(headers.get("webhook-id", "-"))
    print(f"{webhook_id} environment={printable(environment)} {outcome} -> {status}", flush=True)


class ReceiverServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # deploy opens up to 128 connections at once

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
        description="Receive, verify and act on smtp-gitops reload webhooks on a portal node.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument("--secret-env", default="PORTAL_RELOAD_SECRET")
    parser.add_argument("--exec", dest="command", help="run this command on each new delivery")
    parser.add_argument(
        "--exec-timeout", type=float, default=DEFAULT_EXEC_TIMEOUT, help="seconds (default 60)"
    )
    parser.add_argument(
        "--config", help="the file this node loads: its keyed digest is returned after --exec"
    )
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
    state = ReceiverState(
        secret, command=args.command, command_timeout=args.exec_timeout, config=args.config
    )
    server = ReceiverServer((args.host, args.port), state)
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
