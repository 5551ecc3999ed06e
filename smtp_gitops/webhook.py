"""The portal reload webhook, signed as Standard Webhooks: build, sign, deliver with retries."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

EVENT_TYPE = "smtp-settings.reload"
SECRET_PREFIX = "whsec_"
MAX_RETRY_AFTER_SECONDS = 60.0


class SecretFormatError(ValueError):
    """The signing secret is not ``whsec_<base64>``; the message names its variable only."""


def signing_key(secret: str, variable: str) -> bytes:
    if not secret.startswith(SECRET_PREFIX):
        raise SecretFormatError(f"{variable} must hold a Standard Webhooks secret (whsec_...)")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SecretFormatError(f"{variable}: the part after whsec_ is not valid base64") from None
    if not key:
        raise SecretFormatError(f"{variable}: the signing key is empty")
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_id_for(config_sha256: str) -> str:
    """Stable for one deploy, so a retried delivery is recognisably the same."""
    return f"deploy_{config_sha256[:32]}"


def reload_body(environment: str, config_sha256: str, revision: str | None, now: datetime) -> bytes:
    payload = {
        "type": EVENT_TYPE,
        "timestamp": now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "data": {"environment": environment, "configSha256": config_sha256, "revision": revision},
    }
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def signed_headers(key: bytes, webhook_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, webhook_id, timestamp, body),
        "content-type": "application/json",
    }


@dataclass(slots=True)
class Delivery:
    """What happened at one target."""

    url: str
    ok: bool = False
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    history: list[str] = field(default_factory=list)


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER_SECONDS)


@dataclass(slots=True)
class Sender:
    """Delivers one signed body to targets, retrying what is worth retrying.

    5xx, 429 and connection errors are retried with exponential backoff and full jitter (or the
    server's ``Retry-After``); other 4xx and 3xx fail at once (redirects are not followed).
    """

    key: bytes
    timeout: float
    retries: int
    backoff_base: float = 0.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def deliver(self, url: str, webhook_id: str, body: bytes) -> Delivery:
        import httpx

        result = Delivery(url)
        with httpx.Client(timeout=self.timeout, follow_redirects=False, verify=True) as client:
            for attempt in range(self.retries + 1):
                result.attempts = attempt + 1
                # Each attempt is signed afresh: receivers reject stale timestamps.
                headers = signed_headers(self.key, webhook_id, body, int(self.clock()))
                wait: float | None = None
                try:
                    response = client.post(url, content=body, headers=headers)
                except httpx.TransportError as error:
                    result.status, result.error = None, _describe_transport_error(error)
                else:
                    result.status = response.status_code
                    if response.is_success:
                        result.ok, result.error = True, None
                        result.history.append(str(response.status_code))
                        return result
                    result.error = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                    retryable = response.status_code >= 500 or response.status_code == 429
                    if not retryable:
                        if response.is_redirect:
                            result.error += " (redirects are not followed)"
                        result.history.append(str(response.status_code))
                        return result
                    wait = retry_after_seconds(response.headers.get("retry-after"), self.clock())
                result.history.append(result.error or "")
                if attempt < self.retries:
                    self.sleep(wait if wait is not None else self._backoff(attempt))
        return result

    def _backoff(self, attempt: int) -> float:
        return random.uniform(0, self.backoff_base * (2**attempt))


def _describe_transport_error(error: Exception) -> str:
    import httpx

    if isinstance(error, httpx.ConnectError):
        reason = str(error) or "connection failed"
        return f"connection failed: {reason}"
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    return f"{type(error).__name__}: {error}"


def now_utc() -> datetime:
    return datetime.now(UTC)
