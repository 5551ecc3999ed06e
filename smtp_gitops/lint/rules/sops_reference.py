"""A ``fromSops`` reference that ``render`` and ``deploy`` could not follow.

``{fromSops: {file: secrets/prod.sops.yaml, key: /smtp/primary/password}}`` names a file
relative to the repository root and a JSON Pointer (RFC 6901) into it. SOPS keeps the structure
in clear, so this is checked without the sops binary or a key: the file exists inside the
repository (links included) as a regular file of at most 256 KiB; it is a SOPS document (a
top-level ``sops`` with a ``mac`` and at least one key group); the pointer reaches a leaf; and
that leaf is encrypted (``ENC[AES256_GCM,…]``). A leaf in clear (an ``unencrypted_suffix``
slip) is ``plaintext-secret``. Messages never show a value.
"""

from collections.abc import Iterator
from typing import Any

from smtp_gitops.lint.rules import plaintext_secret
from smtp_gitops.lint.rules.base import SettingsContext, rule
from smtp_gitops.settings.diagnostics import Diagnostic, Severity
from smtp_gitops.settings.sops_files import (
    SopsReferenceError,
    follow_pointer,
    is_encrypted,
    load_sops_document,
)

RULE = rule(__doc__, "sops-reference", Severity.ERROR)


def check(context: SettingsContext) -> Iterator[Diagnostic]:
    documents: dict[str, Any] = {}
    for index, smtp_set in enumerate(context.settings.sets()):
        reference = getattr(smtp_set.secret, "fromSops", None)
        if reference is None:
            continue
        file, key = reference.file, reference.key
        path: tuple[str | int, ...] = ("spec", "sets", index, *smtp_set.secret_path, "fromSops")
        what = f"the {smtp_set.secret_label} of set {smtp_set.name!r}"
        try:
            if file not in documents:
                documents[file] = load_sops_document(file, context.repository)
            value = follow_pointer(documents[file], key)
        except SopsReferenceError as error:
            documents.setdefault(file, None)
            yield context.report(RULE, path, f"{what}: {error}", hint=_HINT)
            continue
        if isinstance(value, dict | list):
            yield context.report(
                RULE, path, f"{what}: key {key!r} in {file!r} is not a single value", hint=_HINT
            )
        elif not is_encrypted(value):
            yield context.report(
                plaintext_secret.RULE,
                path,
                f"{what}: key {key!r} in {file!r} is not encrypted (a clear value in git)",
                hint="check the file's `unencrypted_suffix`/`encrypted_regex` in .sops.yaml, "
                "re-encrypt it with `sops --encrypt --in-place`, and rotate the secret",
            )


_HINT = "create or fix it with `sops edit FILE`; `key` is a JSON Pointer such as /smtp/password"
