"""The reference receiver of the reload webhook: an agent a portal team can run on each node.

``python -m smtp_gitops.receiver --exec 'systemctl reload portal' --config /etc/portal/smtp.json``
verifies each Standard Webhooks delivery, drops replays, runs the reload command, and answers
with the keyed digest of the file the node now has, so deploy knows the node loaded exactly
what it wrote. ``GET`` on the same URL tells ``smtp-gitops status`` what was last loaded.
The tests use it as the portal stand-in; ``verify`` can be copied into the portal itself.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import hmac
import json
import os
import shlex
import signal
import socket
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
MAX_CONNECTIONS = 256  # at once (deploy opens up to 128); more are closed at once, and logged
CONNECTION_SECONDS = 10.0  # the most one connection may take to send its request
MAX_COMMAND_OUTPUT = 64 * 1024  # of the reload command's output, the rest is read and dropped
MAX_SEEN_IDS = 10_000  # delivered ids kept (and persisted) for replay protection
MAX_CONFIG_BYTES = 16 * 1024 * 1024


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
    expected = sign(key, lowered["webhook-id"], timestamp, body).encode("ascii")
    # Bytes, not str: compare_digest refuses a non-ASCII str (a header may hold anything).
    offered = lowered["webhook-signature"].encode("utf-8", "surrogateescape").split()
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
    # Delivered ids (wall-clock time, status, answer): a replay is answered again, not acted on.
    seen: dict[str, tuple[float, int, bytes]] = field(default_factory=dict)
    # Ids being acted on now: a repeat that arrives meanwhile waits for the same answer.
    claimed: dict[str, threading.Event] = field(default_factory=dict)
    seen_file: str | None = None  # where ``seen`` outlives a restart
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.seen_file is None and self.config is not None:
            self.seen_file = seen_file_for(self.config)
        if self.seen_file is not None:
            self.seen.update(load_seen(self.seen_file))

    @property
    def key(self) -> bytes:
        return signing_key(self.secret, "the receiver secret")

    def claim(self, webhook_id: str) -> tuple[int, bytes] | None:
        """None when this delivery is the first of its id and must be acted on (the caller then
        calls ``remember`` or ``release``); else the answer the id got, waited for while the
        first delivery runs."""
        while True:
            with self.lock:
                done = self.seen.get(webhook_id)
                if done is not None:
                    return done[1], done[2]
                running = self.claimed.get(webhook_id)
                if running is None:
                    self.claimed[webhook_id] = threading.Event()
                    return None
            running.wait()  # the first one failed (released) or answered (seen): look again

    def release(self, webhook_id: str) -> None:
        """The first delivery of the id failed: a retry of it may act."""
        with self.lock:
            event = self.claimed.pop(webhook_id, None)
        if event is not None:
            event.set()

    def remember(self, webhook_id: str, status: int, answer: bytes) -> None:
        now = time.time()
        with self.lock:
            # Ids older than the tolerance would be refused as stale anyway: forget them.
            for old in [k for k, (t, _, _) in self.seen.items() if now - t > TOLERANCE_SECONDS]:
                del self.seen[old]
            self.seen[webhook_id] = (now, status, answer)
            while len(self.seen) > MAX_SEEN_IDS:
                del self.seen[next(iter(self.seen))]
            if self.seen_file is not None:
                with contextlib.suppress(OSError):
                    save_seen(self.seen_file, self.seen)
            event = self.claimed.pop(webhook_id, None)
        if event is not None:
            event.set()


def seen_file_for(config: str) -> str:
    return f"{config}.receiver-ids.json"


def load_seen(path: str) -> dict[str, tuple[float, int, bytes]]:
    """The ids a previous run of this receiver acted on, still within the tolerance; anything
    unreadable is no ids (never a crash: the file sits on a node anyone may have touched)."""
    from smtp_gitops.settings.bounded import read_regular

    try:
        document = json.loads(read_regular(path, MAX_SEEN_IDS * 512))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    now = time.time()
    found: dict[str, tuple[float, int, bytes]] = {}
    if not isinstance(document, dict):
        return found
    for webhook_id, entry in document.items():
        try:
            at, status, answer = entry
            if now - float(at) <= TOLERANCE_SECONDS and isinstance(status, int):
                found[str(webhook_id)] = (float(at), status, base64.b64decode(answer))
        except (TypeError, ValueError):
            continue
    return found


def save_seen(path: str, seen: Mapping[str, tuple[float, int, bytes]]) -> None:
    from smtp_gitops.render.files import write_atomic

    document = {
        webhook_id: [at, status, base64.b64encode(answer).decode("ascii")]
        for webhook_id, (at, status, answer) in seen.items()
    }
    write_atomic(path, json.dumps(document).encode("utf-8"), 0o600, durable=False)


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    timeout = CONNECTION_SECONDS  # per read; the whole request has the same deadline below

    def setup(self) -> None:
        super().setup()
        # A client that trickles its request one byte at a time stays under any per-read
        # timeout: the request as a whole must arrive within CONNECTION_SECONDS.
        self._deadline = threading.Timer(CONNECTION_SECONDS, self._cut)
        self._deadline.daemon = True
        self._deadline.start()

    def _cut(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        self._deadline.cancel()
        with contextlib.suppress(OSError):
            super().finish()

    def do_POST(self) -> None:
        state = self.server.state
        body = self._read_body()
        self._deadline.cancel()  # the request is in: acting on it has its own time limit
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
        self._deadline.cancel()
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
        # Standard Webhooks: the same id is the same message; answer it again, act once. The id
        # is claimed as it arrives, so a repeat during the command waits for this answer.
        replay = state.claim(webhook_id)
        if replay is not None:
            return replay[0], {}, replay[1]
        try:
            status, extra, answer = self._act(state, body)
        except BaseException:
            state.release(webhook_id)
            raise
        if status >= 400:
            state.release(webhook_id)  # not acted on, or failed: a retry may try again
        else:
            state.remember(webhook_id, status, answer)
        return status, extra, answer

    def _act(self, state: ReceiverState, body: bytes) -> tuple[int, dict[str, str], bytes]:
        try:
            data = json.loads(body).get("data") or {}
            if not isinstance(data, dict):
                raise TypeError
        except (ValueError, AttributeError, TypeError, RecursionError):
            return 400, {}, _json({"error": "the body is not a reload event"})
        failure = _run(state.command, state.command_timeout, data)
        if failure is not None:
            return 500, {}, _json({"error": failure})
        digest: str | None = None  # without --config the node cannot prove what it loaded
        if state.config is not None:
            from smtp_gitops.settings.bounded import read_regular

            try:
                digest = config_digest(state.key, read_regular(state.config, MAX_CONFIG_BYTES))
            except OSError as error:
                # Never "reloaded, digest null": deploy would take that for a node on the config.
                reason = error.strerror or str(error)
                return 500, {}, _json({"error": f"cannot read --config {state.config}: {reason}"})
        record = {
            "environment": data.get("environment"),
            "configDigest": digest if state.config is not None else data.get("configDigest"),
            "deployId": data.get("deployId"),
            "reloadedAt": rfc3339(now_utc()),
        }
        with state.lock:
            state.last_reload = record
        if state.config is None:
            return 204, {}, b""
        return 200, {}, _json({"configDigest": digest, "deployId": data.get("deployId")})

    def _answer(self, status: int, body: bytes, extra: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        if body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("connection", "close")
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
    """Run the reload command; the reason it failed, or None.

    It runs in a process group of its own: on a timeout the whole group is killed, so no hung
    grandchild outlives its delivery. Its output is read (so it never blocks on a full pipe)
    and at most ``MAX_COMMAND_OUTPUT`` of it kept; the answer waits for the command itself,
    not for a background child that still holds the pipe.
    """
    if not command:
        return None
    env = {
        **os.environ,
        "SMTP_GITOPS_ENVIRONMENT": str(data.get("environment") or ""),
        "SMTP_GITOPS_DEPLOY_ID": str(data.get("deployId") or ""),
    }
    try:
        child = subprocess.Popen(
            shlex.split(command),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except (OSError, ValueError) as error:
        return f"the reload command could not start: {getattr(error, 'strerror', None) or error}"
    assert child.stdout is not None
    threading.Thread(target=_drain, args=(child.stdout,), daemon=True).start()
    try:
        code = child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        return f"the reload command did not finish within {timeout:g} s"
    if code != 0:
        return f"the reload command exited with status {code}"
    return None


def _drain(stream: Any) -> bytes:
    kept = bytearray()
    with stream:
        while chunk := stream.read(65536):
            if len(kept) < MAX_COMMAND_OUTPUT:
                kept += chunk[: MAX_COMMAND_OUTPUT - len(kept)]
    return bytes(kept)


def _log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


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
    """At most ``MAX_CONNECTIONS`` connections are served at once, each within
    ``CONNECTION_SECONDS`` to send its request; one over the bound is closed at once and the
    overflow logged once (until it ends), so idle connections cannot lock deliveries out, nor
    running out of file descriptors spin the process."""

    daemon_threads = True
    request_queue_size = 256  # deploy opens up to 128 connections at once

    def __init__(
        self, address: tuple[str, int], state: ReceiverState, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self._slots = threading.BoundedSemaphore(max_connections)
        self._overflowing = False

    def get_request(self) -> tuple[socket.socket, Any]:
        try:
            return super().get_request()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                self._overflow(f"out of file descriptors ({error.strerror})")
                time.sleep(0.05)  # nothing can be accepted until a connection closes
            raise

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self._overflow(f"more than {MAX_CONNECTIONS} connections at once")
            self.shutdown_request(request)
            return
        if self._overflowing:
            self._overflowing = False
            _log("connections are back under the limit")
        request.settimeout(CONNECTION_SECONDS)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _overflow(self, why: str) -> None:
        if not self._overflowing:
            self._overflowing = True
            _log(f"refusing connections: {why}")

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, never a traceback: a client that went away is not the receiver's fault."""
        error = sys.exc_info()[1]
        host = printable(client_address[0]) if client_address else "?"
        if isinstance(error, ConnectionError | TimeoutError | socket.timeout):
            _log(f"client {host} went away ({type(error).__name__})")
        else:
            _log(f"error serving {host}: {type(error).__name__}: {printable(error)}")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/api/reload-application"


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 3600 seconds")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m smtp_gitops.receiver",
        description="Receive, verify and act on smtp-gitops reload webhooks on a portal node.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=8787)
    parser.add_argument("--secret-env", default="PORTAL_RELOAD_SECRET")
    parser.add_argument("--exec", dest="command", help="run this command on each new delivery")
    parser.add_argument(
        "--exec-timeout", type=_seconds, default=DEFAULT_EXEC_TIMEOUT, help="seconds (default 60)"
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
    try:
        server = ReceiverServer((args.host, args.port), state)
    except OSError as error:  # in use, not this machine's address, or a name that does not resolve
        reason = error.strerror or str(error)
        print(f"error: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 2
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
