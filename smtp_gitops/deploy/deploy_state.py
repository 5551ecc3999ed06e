"""What deploy did to an output, kept beside it: the state file, the history and the lock.

``<output>.state.json`` (mode 0600, no secrets: digests are keyed) says what the last attempt
was doing and which config every node was last confirmed on, so a deploy killed at any point
is finished by the next one. ``<output>.history.jsonl`` gets one line per finished deploy for
audit. ``<output>.lock`` serialises deploys of one output.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from smtp_gitops.deploy.safe_files import append_regular
from smtp_gitops.render.files import write_atomic
from smtp_gitops.settings.bounded import open_regular, read_regular
from smtp_gitops.settings.untrusted_text import printable

STATE_VERSION = 1
MAX_STATE_BYTES = 4 * 1024 * 1024
MAX_HISTORY_BYTES = 256 * 1024 * 1024
MAX_HOLDER_BYTES = 4096

# Results of one attempt.
PENDING, SUCCEEDED, ROLLED_BACK, ROLLBACK_FAILED, FAILED = (
    "pending",
    "succeeded",
    "rolled-back",
    "rollback-failed",
    "failed",
)
# What happened at one node.
NODE_PENDING, NODE_CONFIRMED, NODE_ACCEPTED, NODE_FAILED = (
    "pending",
    "confirmed",
    "accepted",
    "failed",
)
NODE_ROLLED_BACK, NODE_ROLLBACK_FAILED = "rolled-back", "rollback-failed"
TAKEN = (NODE_CONFIRMED, NODE_ACCEPTED)


def state_path(output: str) -> str:
    return f"{output}.state.json"


def history_path(output: str) -> str:
    return f"{output}.history.jsonl"


def lock_path(output: str) -> str:
    return f"{output}.lock"


@dataclass(slots=True)
class NodeRecord:
    status: str = NODE_PENDING
    detail: str | None = None


@dataclass(slots=True)
class Attempt:
    deployId: str
    environment: str
    configDigest: str | None
    previousDigest: str | None
    revision: str | None
    targets: list[str]
    startedAt: str
    finishedAt: str | None = None
    result: str = PENDING
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    dirty: bool = False  # rendered from a work tree with uncommitted changes


@dataclass(slots=True)
class Deployed:
    """The config the output and every node were last left on by a successful deploy."""

    configDigest: str | None
    deployId: str
    revision: str | None
    at: str
    dirty: bool = False


@dataclass(slots=True)
class DeployState:
    last: Attempt | None = None
    deployed: Deployed | None = None
    problem: str | None = None  # why an existing state file could not be used

    def to_json(self) -> bytes:
        data = {
            "version": STATE_VERSION,
            "last": asdict(self.last) if self.last else None,
            "deployed": asdict(self.deployed) if self.deployed else None,
        }
        return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


class _BadState(ValueError):
    pass


def _fields(data: Any, strings: Sequence[str], optional: Sequence[str]) -> dict[str, Any]:
    """``data``'s fields, each checked to be a string (``optional``: or null): a state file
    edited by hand or by someone else must not end a command in a TypeError."""
    if not isinstance(data, dict):
        raise _BadState("not an object")
    found: dict[str, Any] = {}
    for name in (*strings, *optional):
        value = data.get(name)
        if isinstance(value, str) or (value is None and name in optional):
            found[name] = value
        else:
            raise _BadState(f"{name} is not a string")
    return found


def _attempt(data: Any) -> Attempt:
    found = _fields(
        data,
        ("deployId", "environment", "startedAt", "result"),
        ("configDigest", "previousDigest", "revision", "finishedAt"),
    )
    targets, nodes = data.get("targets"), data.get("nodes")
    if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
        raise _BadState("targets is not a list of strings")
    if not isinstance(nodes, dict):
        raise _BadState("nodes is not an object")
    records = {
        str(url): NodeRecord(**_fields(record, ("status",), ("detail",)))
        for url, record in nodes.items()
    }
    return Attempt(**found, targets=targets, nodes=records, dirty=data.get("dirty") is True)


def load_state(output: str, dir_fd: int | None = None) -> DeployState:
    """The state beside ``output``; an unreadable one counts as none (so reloads are sent).
    Never through a link, never a FIFO or a device, never more than 4 MiB, every value typed."""
    path = state_path(output)
    try:
        data = json.loads(read_regular(path, MAX_STATE_BYTES, dir_fd=dir_fd))
        if not isinstance(data, dict):
            raise _BadState("not an object")
        if data.get("version") != STATE_VERSION:
            shown = printable(str(data.get("version")))[:40]
            return DeployState(problem=f"unknown state version {shown}")
        last = _attempt(data["last"]) if data.get("last") else None
        deployed = (
            Deployed(
                **_fields(data["deployed"], ("deployId", "at"), ("configDigest", "revision")),
                dirty=isinstance(data["deployed"], dict) and data["deployed"].get("dirty") is True,
            )
            if data.get("deployed")
            else None
        )
    except FileNotFoundError:
        return DeployState()
    except OSError as error:
        return DeployState(problem=f"{path} is unusable ({error.strerror or error})")
    except (ValueError, KeyError, RecursionError) as error:
        return DeployState(problem=f"{path} is unreadable ({type(error).__name__}: {error})"[:300])
    return DeployState(last, deployed)


def save_state(
    output: str, state: DeployState, *, durable: bool = True, dir_fd: int | None = None
) -> None:
    write_atomic(state_path(output), state.to_json(), durable=durable, dir_fd=dir_fd)


def append_history(output: str, attempt: Attempt, dir_fd: int | None = None) -> None:
    line = {
        "at": attempt.finishedAt,
        "deployId": attempt.deployId,
        "environment": attempt.environment,
        "revision": attempt.revision,
        "configDigest": attempt.configDigest,
        "result": attempt.result,
        "dirty": attempt.dirty,
        "nodes": {url: record.status for url, record in attempt.nodes.items()},
    }
    # Never through a link, never into a FIFO (which would hang while the lock is held).
    data = (json.dumps(line, sort_keys=True) + "\n").encode("utf-8")
    append_regular(history_path(output), data, MAX_HISTORY_BYTES, dir_fd=dir_fd)


class LockTimeout(Exception):
    """Another deploy of the same output held the lock for too long."""


@contextlib.contextmanager
def deploy_lock(
    output: str,
    timeout: float,
    holder: dict[str, str],
    on_wait: Callable[[str], None],
    poll: float = 0.05,
) -> Iterator[None]:
    """Hold the output's lock. An flock dies with its process, so a killed deploy never
    leaves a stale lock behind; the file itself names the current holder for the waiter."""
    path = lock_path(output)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    descriptor = open_regular(path, os.O_RDWR | os.O_CREAT)
    try:
        owner = os.fstat(descriptor).st_uid
        if owner != os.geteuid():
            # Another user's lock file could be held for ever, or swapped between checks.
            raise OSError(13, f"the lock file belongs to uid {owner}, not to this user", path)
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                current = _describe_holder(descriptor)
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"another deploy of {output} is still running after {timeout:g} s "
                        f"({current}); lock file {path}"
                    ) from None
                if not waited:
                    on_wait(f"waiting for another deploy of {output} to finish ({current})")
                    waited = True
                time.sleep(poll)
        record = {**holder, "pid": str(os.getpid()), "host": socket.gethostname()}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(record, sort_keys=True).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _describe_holder(descriptor: int) -> str:
    """Who holds the lock, as its file says: text someone else wrote, so shown escaped and
    bounded, and parsed without recursion limits breaking it."""
    try:
        record = json.loads(os.pread(descriptor, MAX_HOLDER_BYTES, 0) or b"{}")
    except (ValueError, RecursionError):
        record = {}
    if not isinstance(record, dict) or not record:
        return "holder unknown"
    return ", ".join(
        f"{k} {printable(str(record[k]))[:80]}"
        for k in ("deployId", "pid", "host", "since")
        if k in record
    )
