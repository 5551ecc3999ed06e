"""The portal reload webhook, signed as Standard Webhooks: keys, ids, bodies and signatures.

Delivery over HTTP lives in ``smtp_gitops.deploy.delivery``; this module is pure and shared by the
sender, the reference receiver and ``status``.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime

EVENT_TYPE = "smtp-settings.reload"
SECRET_PREFIX = "whsec_"
MIN_KEY_BYTES = 24  # the Standard Webhooks minimum for a signing secret
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
    if len(key) < MIN_KEY_BYTES:
        raise SecretFormatError(
            f"{variable}: the signing key is {len(key)} bytes; Standard Webhooks requires at "
            f'least {MIN_KEY_BYTES} (generate one with: python -c "import base64, os; '
            "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\")"
        )
    return key


def sign(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def config_digest(key: bytes, content: bytes) -> str:
    """Keyed digest of a rendered config: comparable by anyone holding the key, and no
    offline password-guessing oracle for anyone else (an unkeyed hash would be one)."""
    return hmac.new(key, content, hashlib.sha256).hexdigest()


def new_deploy_id() -> str:
    """Random per run, so a forced redeploy, a revert or a rollback is never a duplicate."""
    return secrets.token_hex(16)


def deploy_webhook_id(deploy_id: str) -> str:
    return f"deploy_{deploy_id}"


def status_webhook_id() -> str:
    return f"status_{secrets.token_hex(16)}"


def reload_body(
    environment: str,
    deploy_id: str,
    digest: str | None,
    revision: str | None,
    now: datetime,
    *,
    rollback_of: str | None = None,
) -> bytes:
    data: dict[str, str | None] = {
        "environment": environment,
        "deployId": deploy_id,
        "configDigest": digest,
        "revision": revision,
    }
    if rollback_of is not None:
        data["rollbackOf"] = rollback_of
    payload = {"type": EVENT_TYPE, "timestamp": rfc3339(now), "data": data}
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def signed_headers(key: bytes, webhook_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, webhook_id, timestamp, body),
        "content-type": "application/json",
    }


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), capped; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    try:
        return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER_SECONDS)
    except (OverflowError, OSError, ValueError):
        return None


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def now_utc() -> datetime:
    return datetime.now(UTC)
