"""Delivering signed webhooks to every portal node at once, each within a hard time limit.

Every node is reached concurrently (bounded), every attempt is bounded as a whole (connect,
send, headers and body) and every answer is read up to a small cap, so one slow, trickling or
endless node costs its own timeout and nothing more. Any failure of a delivery becomes that
node's one-line reason, never an exception.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smtp_gitops.deploy.webhook import retry_after_seconds, signed_headers, status_webhook_id

if TYPE_CHECKING:
    import httpx

    from smtp_gitops.deploy.interrupts import Interrupts

MAX_ANSWER_BYTES = 64 * 1024
MAX_CONCURRENT = 128
MAX_REASON_CHARS = 300
REJECTED_SIGNATURE = "the node rejected the signature: is the reload secret the node's secret?"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    timeout: float
    retries: int
    backoff_base: float = 0.5
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    concurrency: int = MAX_CONCURRENT


@dataclass(frozen=True, slots=True)
class Signed:
    """One webhook: the signing key, its id, the body, and the digest a node should confirm."""

    key: bytes
    webhook_id: str
    body: bytes
    expected_digest: str | None


@dataclass(frozen=True, slots=True)
class NodeResult:
    url: str
    ok: bool
    attempts: int
    status: int | None = None
    reason: str | None = None
    confirmed: bool = False  # the node answered with the digest it was sent
    # False only when no attempt can have been acted on (refused connection, 4xx, 3xx): such a
    # node needs no rollback.
    maybe_acted: bool = True

    @property
    def summary(self) -> str:
        tries = f"{self.attempts} attempt{'s' if self.attempts != 1 else ''}"
        if self.ok:
            proof = "confirmed" if self.confirmed else "unconfirmed"
            return f"HTTP {self.status}, {proof}, {tries}"
        return f"{self.reason} ({tries})"


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    reason: str
    retry_after: str | None
    body: bytes
    content_type: str = ""
    truncated: bool = False  # the node sent more than MAX_ANSWER_BYTES


def one_line(text: str) -> str:
    """A reason fit for a log line: printable, single line, bounded."""
    cleaned = "".join(c if c.isprintable() else " " for c in text).strip()
    return cleaned[:MAX_REASON_CHARS] or "unknown error"


def _client(policy: RetryPolicy) -> httpx.AsyncClient:
    import httpx

    limits = httpx.Limits(max_connections=policy.concurrency, max_keepalive_connections=0)
    return httpx.AsyncClient(
        timeout=policy.timeout, follow_redirects=False, verify=True, limits=limits
    )


async def _exchange(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    timeout: float,
) -> _Answer:
    async with asyncio.timeout(timeout):
        async with client.stream(method, url, headers=headers, content=body) as response:
            received = bytearray()
            async for chunk in response.aiter_bytes():
                received += chunk
                if len(received) > MAX_ANSWER_BYTES:
                    break  # the rest is not read: an endless answer costs nothing more
            return _Answer(
                response.status_code,
                response.reason_phrase,
                response.headers.get("retry-after"),
                bytes(received[:MAX_ANSWER_BYTES]),
                response.headers.get("content-type", ""),
                len(received) > MAX_ANSWER_BYTES,
            )


def _leaf(error: Exception) -> Exception:
    # The async stack may wrap a plain socket error in an exception group.
    while isinstance(error, ExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _transport_reason(error: Exception, timeout: float) -> tuple[str, bool]:
    """A one-line reason, and whether trying again could help."""
    import httpx

    error = _leaf(error)
    if isinstance(error, TimeoutError | httpx.TimeoutException):
        return f"no complete answer within {timeout:g} s", True
    if isinstance(error, httpx.ConnectError):
        return one_line(f"connection failed: {error or 'refused'}"), True
    if isinstance(error, httpx.DecodingError):
        return "the answer could not be decoded (bad Content-Encoding)", False
    if isinstance(error, httpx.TransportError):
        return one_line(f"{type(error).__name__}: {error}"), True
    if isinstance(error, httpx.InvalidURL | httpx.UnsupportedProtocol | ValueError | OverflowError):
        return one_line(f"invalid target URL: {error}"), False
    return one_line(f"{type(error).__name__}: {error}"), False


class Unreadable(ValueError):
    """A 2xx answer that says something about the config but cannot be read as what it says:
    it is neither a confirmation nor a bare acknowledgement."""


def confirmation(answer: _Answer) -> str | None:
    """The ``configDigest`` a 2xx answer confirms, or None for a bare acknowledgement (no body,
    or a body that is not JSON). Raises ``Unreadable`` for an answer that cannot be judged: over
    the read cap, JSON by its type but not parseable, or a ``configDigest`` that is no string."""
    if answer.truncated:
        raise Unreadable(f"the answer is over {MAX_ANSWER_BYTES // 1024} KiB and was not read")
    if not answer.body.strip():
        return None
    declared_json = _is_json_type(answer.content_type)
    try:
        document = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        if declared_json:
            raise Unreadable("the answer claims to be JSON but does not parse") from None
        return None
    if not isinstance(document, dict):
        if declared_json:
            raise Unreadable("the JSON answer is not an object")
        return None
    if "configDigest" not in document:
        return None
    digest = document["configDigest"]
    if not isinstance(digest, str):
        raise Unreadable("the answer's configDigest is not a string")
    return digest


def _said(answer: _Answer) -> str:
    """What a failing node said about why (``{"error": ...}``), made one short line."""
    try:
        document = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return f": {error[:120]}" if isinstance(error, str) and error else ""


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def _deliver(
    client: httpx.AsyncClient, url: str, signed: Signed, policy: RetryPolicy
) -> NodeResult:
    attempts, status, reason, maybe_acted = 0, None, "not sent", False
    for attempt in range(policy.retries + 1):
        attempts = attempt + 1
        # Each attempt is signed afresh: receivers reject stale timestamps.
        headers = signed_headers(signed.key, signed.webhook_id, signed.body, int(time.time()))
        wait: float | None = None
        try:
            answer = await _exchange(client, "POST", url, headers, signed.body, policy.timeout)
        except Exception as error:
            status = None
            reason, retryable = _transport_reason(error, policy.timeout)
            maybe_acted = maybe_acted or _may_have_arrived(error)
            if not retryable:
                break
        else:
            status = answer.status
            maybe_acted = maybe_acted or answer.status >= 500 or 200 <= answer.status < 300
            if 200 <= answer.status < 300:
                try:
                    digest = confirmation(answer)
                except Unreadable as error:
                    reason = f"HTTP {answer.status}, but {error}: not a confirmation"
                    break
                if digest is None:
                    return NodeResult(url, True, attempts, status)
                if signed.expected_digest is not None and digest != signed.expected_digest:
                    reason = one_line(
                        f"the node loaded a different file (configDigest {digest[:12]}…, "
                        f"sent {signed.expected_digest[:12]}…)"
                    )
                    break
                return NodeResult(url, True, attempts, status, confirmed=True)
            reason = one_line(f"HTTP {answer.status} {answer.reason}{_said(answer)}")
            if answer.status == 401:
                reason = one_line(f"{reason}: {REJECTED_SIGNATURE}")
            if not (answer.status >= 500 or answer.status == 429):
                if 300 <= answer.status < 400:
                    reason += " (redirects are not followed)"
                break
            wait = retry_after_seconds(answer.retry_after, time.time())
        if attempt < policy.retries:
            await policy.sleep(wait if wait is not None else _backoff(policy, attempt))
    return NodeResult(url, False, attempts, status, reason, maybe_acted=maybe_acted)


def _may_have_arrived(error: Exception) -> bool:
    import httpx

    refused_before_sending = (
        httpx.ConnectError,
        httpx.ConnectTimeout,
        httpx.InvalidURL,
        httpx.UnsupportedProtocol,
        ValueError,
        OverflowError,
    )
    return not isinstance(_leaf(error), refused_before_sending)


def _backoff(policy: RetryPolicy, attempt: int) -> float:
    return random.uniform(0, policy.backoff_base * (2**attempt))


def _wake(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    # Runs in a signal handler: only the thread-safe entry point may touch the loop.
    loop.call_soon_threadsafe(stop.set)


def deliver_all(
    targets: Sequence[str],
    signed: Signed,
    policy: RetryPolicy,
    *,
    on_result: Callable[[NodeResult], None] | None = None,
    interrupts: Interrupts | None = None,
) -> list[NodeResult]:
    """Deliver ``signed`` to every target; results in target order.

    A signal noted by ``interrupts`` stops every delivery still in flight: those nodes are
    reported as not reloaded (they may or may not have acted, so the caller rolls them back).
    """
    return asyncio.run(_deliver_all(targets, signed, policy, on_result, interrupts))


async def _deliver_all(
    targets: Sequence[str],
    signed: Signed,
    policy: RetryPolicy,
    on_result: Callable[[NodeResult], None] | None,
    interrupts: Interrupts | None,
) -> list[NodeResult]:
    gate = asyncio.Semaphore(policy.concurrency)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    async with _client(policy) as client:

        async def one(url: str) -> NodeResult:
            async with gate:
                result = await _deliver(client, url, signed, policy)
            if on_result is not None:
                on_result(result)
            return result

        tasks = [asyncio.create_task(one(url)) for url in targets]
        unsubscribe = (
            interrupts.subscribe(lambda: _wake(loop, stop)) if interrupts is not None else None
        )
        stopper = asyncio.create_task(stop.wait())
        try:
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending and not stop.is_set():
                _, pending = await asyncio.wait(
                    pending | {stopper}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(stopper)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            stopper.cancel()
            if unsubscribe is not None:
                unsubscribe()
    results: list[NodeResult] = []
    for url, task in zip(targets, tasks, strict=True):
        if task.cancelled():
            results.append(
                NodeResult(url, False, 1, None, "stopped by a signal before it answered")
            )
        elif (error := task.exception()) is not None:
            results.append(NodeResult(url, False, 0, None, one_line(f"internal error: {error}")))
        else:
            results.append(task.result())
    return results


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """What a node says it last loaded (``GET`` on its reload URL)."""

    url: str
    reachable: bool
    reloaded: dict[str, Any] | None = None  # None: the node never reloaded (404)
    reason: str | None = None


def query_all(
    targets: Sequence[str], key: bytes, timeout: float, concurrency: int = MAX_CONCURRENT
) -> list[NodeStatus]:
    policy = RetryPolicy(timeout=timeout, retries=0, concurrency=concurrency)
    return asyncio.run(_query_all(targets, key, policy))


async def _query_all(targets: Sequence[str], key: bytes, policy: RetryPolicy) -> list[NodeStatus]:
    gate = asyncio.Semaphore(policy.concurrency)
    async with _client(policy) as client:

        async def one(url: str) -> NodeStatus:
            headers = signed_headers(key, status_webhook_id(), b"", int(time.time()))
            del headers["content-type"]
            async with gate:
                try:
                    answer = await _exchange(client, "GET", url, headers, b"", policy.timeout)
                except Exception as error:
                    return NodeStatus(
                        url, False, reason=_transport_reason(error, policy.timeout)[0]
                    )
            if answer.status == 404:
                return NodeStatus(url, True)
            if answer.status != 200:
                rejected = f": {REJECTED_SIGNATURE}" if answer.status == 401 else ""
                return NodeStatus(
                    url, False, reason=one_line(f"HTTP {answer.status} {answer.reason}{rejected}")
                )
            try:
                reloaded = json.loads(answer.body)
            except (ValueError, UnicodeDecodeError, RecursionError):
                reloaded = None
            if not isinstance(reloaded, dict):
                return NodeStatus(url, False, reason="the status answer is not a JSON object")
            return NodeStatus(url, True, reloaded)

        return list(await asyncio.gather(*(one(url) for url in targets)))
