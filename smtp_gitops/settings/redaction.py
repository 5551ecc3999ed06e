"""Keep secret values out of diagnostics.

Parser and schema messages quote what they found (a tag, an alias name, a key, a character), and
a mistyped password such as ``password: !Sup3rS3cret`` or ``password: {Sup3rS3cret}`` would be
echoed into CI logs and code-scanning results. Any diagnostic placed inside the value of a
secret key gets a message of our own instead, one that cannot contain the value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from smtp_gitops.settings.diagnostics import Diagnostic, Mark

# Keys whose values are secrets, wherever they appear (v2 adds OAuth client secrets).
SECRET_KEYS = frozenset({"password", "clientSecret"})

# Rules whose messages are written without the offending value, so they can stay as they are.
_VALUE_FREE_RULES = frozenset(
    {"plaintext-secret", "credentials-missing", "credentials-ignored", "sops-reference"}
)

_WHAT = {
    "yaml-syntax": "is not valid YAML",
    "unsafe-yaml": "is refused as unsafe YAML (a tag, merge key, alias bomb or deep nesting)",
    "duplicate-key": "repeats a key",
    "unknown-key": "holds a key the schema does not know",
    "schema": "does not match the schema",
}


@dataclass(frozen=True, slots=True)
class SecretSpan:
    """Where a secret value lies in one file: from just after its key to its end (1-based line
    and column); ``end`` None when the parser stopped inside it, so the rest of the file counts."""

    start: tuple[int, int]
    end: tuple[int, int] | None

    def covers(self, mark: Mark, *, whole_lines: bool = False) -> bool:
        """Whether ``mark`` is inside; ``whole_lines`` stretches the span over its last line
        (a parser error just after the value, ``password: Sup3rS3cret: x``, is still about it)."""
        here = (mark.line, mark.column)
        if here < self.start:
            return False
        if self.end is None:
            return True
        return mark.line <= self.end[0] if whole_lines else here <= self.end


def redacted(diagnostic: Diagnostic) -> Diagnostic:
    what = _WHAT.get(diagnostic.rule, "has a problem")
    message = f"a secret value {what}; it is not shown here because it may be a password"
    return dataclasses.replace(diagnostic, message=message)


def _about_a_secret(diagnostic: Diagnostic, spans: list[SecretSpan]) -> bool:
    if diagnostic.rule in _VALUE_FREE_RULES:
        return False
    whole_lines = diagnostic.rule == "yaml-syntax"
    return any(span.covers(diagnostic.mark, whole_lines=whole_lines) for span in spans)


def redact(
    diagnostics: Iterable[Diagnostic], spans: dict[str, list[SecretSpan]]
) -> list[Diagnostic]:
    """``diagnostics`` with every message about a secret value replaced; ``spans`` by file."""
    return [redacted(d) if _about_a_secret(d, spans.get(d.file, [])) else d for d in diagnostics]
