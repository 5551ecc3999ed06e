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

from smtp_gitops.render.files import write_atomic

STATE_VERSION = 1

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

    def taken_by_all(self, digest: str | None, targets: Sequence[str]) -> bool:
        """Did every one of ``targets`` take exactly ``digest`` in this finished attempt?"""
        return (
            self.result == SUCCEEDED
            and self.configDigest == digest
            and all(url in self.nodes and self.nodes[url].status in TAKEN for url in targets)
        )


@dataclass(slots=True)
class Deployed:
    """The config the output and every node were last left on by a successful deploy."""

    configDigest: str | None
    deployId: str
    revision: str | None
    at: str


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


def _attempt(data: Any) -> Attempt:
    nodes = {url: NodeRecord(**record) for url, record in dict(data.pop("nodes")).items()}
    return Attempt(**data, nodes=nodes)


def load_state(output: str) -> DeployState:
    """The state beside ``output``; an unreadable one counts as none (so reloads are sent)."""
    try:
        with open(state_path(output), "rb") as handle:
            data = json.loads(handle.read(4 * 1024 * 1024))
        if data.get("version") != STATE_VERSION:
            return DeployState(problem=f"unknown state version {data.get('version')!r}")
        last = _attempt(data["last"]) if data.get("last") else None
        deployed = Deployed(**data["deployed"]) if data.get("deployed") else None
    except FileNotFoundError:
        return DeployState()
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as error:
        return DeployState(problem=f"{state_path(output)} is unreadable ({type(error).__name__})")
    return DeployState(last, deployed)


def save_state(output: str, state: DeployState, *, durable: bool = True) -> None:
    write_atomic(state_path(output), state.to_json(), durable=durable)


def append_history(output: str, attempt: Attempt) -> None:
    line = {
        "at": attempt.finishedAt,
        "deployId": attempt.deployId,
        "environment": attempt.environment,
        "revision": attempt.revision,
        "configDigest": attempt.configDigest,
        "result": attempt.result,
        "nodes": {url: record.status for url, record in attempt.nodes.items()},
    }
    # O_NOFOLLOW: a link planted beside the output cannot redirect the append elsewhere.
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW
    descriptor = os.open(history_path(output), flags, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, sort_keys=True) + "\n")


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
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
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
    try:
        record = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:
        record = {}
    if not isinstance(record, dict) or not record:
        return "holder unknown"
    return ", ".join(
        f"{k} {record[k]}" for k in ("deployId", "pid", "host", "since") if k in record
    )
