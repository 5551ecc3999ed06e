"""SOPS files as the settings see them, without decrypting: where a ``fromSops`` file may be,
what makes a document a SOPS document, and what a JSON Pointer reaches in it.

SOPS keeps a document's structure in clear and encrypts only the values (``ENC[AES256_GCM,…]``),
so ``validate`` and ``plan`` check a reference without the sops binary or any key.
"""

from __future__ import annotations

import os
import re
from typing import Any

from smtp_gitops.settings.bounded import UnsafeFile, read_regular_file
from smtp_gitops.settings.discovery import resolves_outside

MAX_SOPS_FILE_BYTES = 256 * 1024  # the templates' rule: a secrets file is small
ENCRYPTED = re.compile(r"^ENC\[AES256_GCM,data:[^,\]]*,iv:[^,\]]*,tag:[^,\]]*,type:\w+\]$")
# The master-key kinds SOPS records in its metadata; a document needs at least one.
KEY_GROUP_KINDS = ("age", "pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "key_groups")


class SopsReferenceError(Exception):
    """The reference cannot be followed; the message says why, never a value."""


def sops_path(file: str, repository: str) -> str:
    """The path of ``file`` (relative to the repository root), refused unless it resolves,
    links included, inside the repository."""
    if os.path.isabs(file):
        raise SopsReferenceError(
            f"{file!r} is an absolute path; give one relative to the repository"
        )
    path = os.path.join(repository, file)
    if resolves_outside(path, repository):
        raise SopsReferenceError(
            f"{file!r} resolves outside the repository or into its .git folder"
        )
    return path


def read_sops_bytes(file: str, repository: str) -> bytes:
    path = sops_path(file, repository)
    try:
        return read_regular_file(path, MAX_SOPS_FILE_BYTES)
    except UnsafeFile as error:
        raise SopsReferenceError(str(error).replace(path, repr(file))) from None
    except FileNotFoundError:
        raise SopsReferenceError(f"{file!r} does not exist") from None
    except OSError as error:
        raise SopsReferenceError(f"cannot read {file!r}: {error.strerror or error}") from None


def load_sops_document(file: str, repository: str) -> Any:
    """The SOPS document ``file``, parsed but not decrypted (YAML, or JSON, which is YAML)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    data = read_sops_bytes(file, repository)
    try:
        document = YAML(typ="safe", pure=True).load(data.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError, RecursionError, ValueError) as error:
        raise SopsReferenceError(f"{file!r} is not YAML or JSON ({type(error).__name__})") from None
    if not is_sops_document(document):
        raise SopsReferenceError(
            f"{file!r} is not a SOPS document (no top-level `sops` with a `mac` and a key group); "
            "encrypt it with `sops --encrypt --in-place`"
        )
    return document


def is_sops_document(document: object) -> bool:
    if not isinstance(document, dict):
        return False
    metadata = document.get("sops")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("mac"), str):
        return False
    return any(metadata.get(kind) for kind in KEY_GROUP_KINDS)


def pointer_tokens(pointer: str) -> list[str]:
    """The reference tokens of an RFC 6901 JSON Pointer (``/a~1b/c~0d`` is ``a/b``, ``c~d``)."""
    if not pointer.startswith("/"):
        raise SopsReferenceError(f"key {pointer!r} is not a JSON Pointer (it starts with `/`)")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def follow_pointer(document: Any, pointer: str) -> Any:
    """The value ``pointer`` reaches in ``document``; ``SopsReferenceError`` naming the first
    token that is not there."""
    value = document
    for depth, token in enumerate(pointer_tokens(pointer)):
        if isinstance(value, dict) and token in value and not (depth == 0 and token == "sops"):
            value = value[token]
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value = value[int(token)]
        else:
            reached = "/".join(pointer.split("/")[: depth + 2])
            raise SopsReferenceError(f"key {pointer!r} is not in the document (no {reached!r})")
    return value


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and ENCRYPTED.match(value) is not None


def reference_text(file: str, key: str) -> str:
    """How a reference is shown (``plan``, messages): the file and the pointer, never a value."""
    return f"sops:{file}#{key}"
