"""Resolving secret references at render/deploy time, and keeping their values out of output."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Mapping
from urllib.parse import quote, quote_plus

from smtp_gitops.settings.bounded import UnsafeFile, read_regular_file
from smtp_gitops.settings.discovery import in_repository, repository_root
from smtp_gitops.settings.model import SecretFromEnv, SecretFromSops, SecretReference, Settings

REDACTED = "***"
MAX_SECRET_FILE_BYTES = 64 * 1024  # far above any password or key, far below a runaway read


class SecretError(Exception):
    """A secret reference that cannot be resolved; the message names it, never a value."""


def resolve(
    reference: SecretReference,
    purpose: str,
    environ: Mapping[str, str],
    repository: str | None = None,
) -> str:
    """The value of a secret reference. A relative ``fromSops`` or ``fromFile`` path is
    relative to ``repository`` (default: the working directory's repository), as every path
    written in a settings file is."""
    where = repository or repository_root(os.getcwd())
    if isinstance(reference, SecretFromSops):
        from smtp_gitops.render.sops import SopsError, sops_secret

        try:
            return sops_secret(reference.fromSops.file, reference.fromSops.key, where, environ)
        except SopsError as error:
            raise SecretError(f"{error} ({purpose})") from None
    if isinstance(reference, SecretFromEnv):
        value = environ.get(reference.fromEnv)
        if value is None:
            raise SecretError(f"environment variable {reference.fromEnv} is not set ({purpose})")
        if not value:
            raise SecretError(f"environment variable {reference.fromEnv} is empty ({purpose})")
        return value
    try:
        value = (
            read_regular_file(in_repository(reference.fromFile, where), MAX_SECRET_FILE_BYTES)
            .decode("utf-8")
            .rstrip("\r\n")
        )
    except UnsafeFile as error:
        raise SecretError(f"secret file {error} ({purpose})") from None
    except OSError as error:
        raise SecretError(
            f"cannot read secret file {reference.fromFile}: {error.strerror or error} ({purpose})"
        ) from None
    except UnicodeDecodeError:
        raise SecretError(f"secret file {reference.fromFile} is not UTF-8 ({purpose})") from None
    if not value:
        raise SecretError(f"secret file {reference.fromFile} is empty ({purpose})")
    return value


def set_passwords(
    settings: Settings,
    *,
    redact: bool,
    environ: Mapping[str, str] | None = None,
    repository: str | None = None,
) -> dict[str, str | None]:
    """The secret of every set by set name (its password, or in v2 its OAuth client secret;
    a set has one): resolved, or ``***`` when redacting.

    Only enabled sets are resolved (a disabled set's password is rendered as null), so an
    environment needs just the secrets of the sets it can use. Redacting resolves nothing, so
    previews (``render --redact``, ``plan``) run where no secret is available, such as a
    pull-request check.
    """
    env = os.environ if environ is None else environ
    passwords: dict[str, str | None] = {}
    for smtp_set in settings.sets():
        password = smtp_set.secret
        if password is None or not smtp_set.enabled:
            passwords[smtp_set.name] = None
        elif redact:
            passwords[smtp_set.name] = REDACTED
        elif isinstance(password, str):
            # Refused by the plaintext-secret rule before rendering; kept for library callers.
            passwords[smtp_set.name] = password
        else:
            purpose = f"{smtp_set.secret_label} of set {smtp_set.name!r}"
            passwords[smtp_set.name] = resolve(password, purpose, env, repository)
    return passwords


def secret_forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` a message can carry: as is, escaped the way Python's
    ``repr`` and ``unicode_escape`` write it, as a JSON string, URL-encoded (path and form
    style), and base64 (standard and URL-safe, padded or not)."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {
        secret,
        repr(secret)[1:-1],
        repr(raw)[2:-1],
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        quote_plus(secret, safe="@:/"),
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms |= {text, text.rstrip("=")}
    return {form for form in forms if form}


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every known secret value, in every form it can take in a message
    (``secret_forms``), replaced by ``***``."""
    forms = {
        form
        for secret in filter(None, secrets)
        if secret != REDACTED
        for form in secret_forms(secret)
    }
    # Longest first, so that a secret holding another is replaced whole.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, REDACTED)
    return text
