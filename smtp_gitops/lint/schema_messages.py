"""A schema error in words a newcomer can act on.

pydantic words its errors for programmers ("String should match pattern '^[a-z0-9]…'"); a
settings file's author needs to hear what the value may look like and how to write it. Nothing
here quotes pydantic's message, so every error type gets a sentence (or a plain fallback).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from smtp_gitops.settings.vocabulary import ENV_VAR_PATTERN, ENVIRONMENT_PATTERN, SET_NAME_PATTERN
from smtp_gitops.settings.yamlnodes import MapNode, Node, Path, ScalarNode, SeqNode

TYPE_WORDS = {
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "dict_type": "a mapping",
    "list_type": "a list",
    "string_type": "a string",
    "bool_type": "true or false",
    "int_type": "an integer",
    "float_type": "a number",
}

# What a value matching each of the model's patterns is called, and what it may contain. The
# rule is in the hint: a hint survives when a message about a secret value is redacted.
PATTERN_WORDS = {
    ENV_VAR_PATTERN: (
        "not a valid variable name",
        "a variable name may contain only letters, digits and `_`, and must not start with a "
        "digit; for example `SMTP_PASSWORD`",
    ),
    SET_NAME_PATTERN: (
        "not a valid set name",
        "a set name may contain only lower-case letters, digits and `-`, and starts with a "
        "letter or digit; for example `primary` or `office-365`",
    ),
    ENVIRONMENT_PATTERN: (
        "not a valid environment name",
        "an environment name may contain only lower-case letters, digits and `-`, starts with "
        "a letter or digit and is at most 63 characters long; for example `prod`",
    ),
}
URL_WORDS = (
    "not an absolute http:// or https:// URL",
    "write the whole address, without spaces; for example "
    "`https://portal-1.example.com/api/reload-application`",
)

_YAML11_BOOLEANS = {
    **dict.fromkeys(("yes", "y", "on", "true"), "true"),
    **dict.fromkeys(("no", "n", "off", "false"), "false"),
}

SECRET_KEYS = frozenset({"password", "clientSecret"})
SECRET_REFERENCE_HINT = (
    "write `{fromEnv: VARIABLE}`, `{fromFile: /path/to/secret}` or "
    "`{fromSops: {file: secrets/x.sops.yaml, key: /pointer}}`"
)
BOTH_REFERENCES_HINT = (
    "a secret reference takes exactly one of `fromEnv` or `fromFile`; keep the one the secret "
    "is read from"
)


@dataclass(frozen=True, slots=True)
class Problem:
    message: str
    hint: str | None = None


def describe(node: Node) -> str:
    """The kind of a value, never the value itself (it may be a secret)."""
    if isinstance(node, MapNode):
        return "a mapping"
    if isinstance(node, SeqNode):
        return "a list"
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string"


def _value(node: Node) -> object:
    return node.value if isinstance(node, ScalarNode) else None


def _type_hint(kind: str, path: Path, node: Node) -> str | None:
    """How to write the value the way the schema wants it, for the usual slips."""
    value = _value(node)
    if path and path[-1] in SECRET_KEYS:
        return SECRET_REFERENCE_HINT
    if kind == "int_type" and isinstance(value, str) and value.strip().isdigit():
        return f"write the number without quotes: `{path[-1]}: {value.strip()}`"
    if kind == "bool_type" and isinstance(value, str):
        # YAML 1.1 read these as booleans; YAML 1.2, which smtp-gitops follows, does not.
        word = _YAML11_BOOLEANS.get(value.strip().lower())
        if word is None:
            return "write `true` or `false`, without quotes"
        return f"write `{word}` (YAML 1.2 reads `{value}` as a string)"
    if kind in ("model_type", "dict_type") and len(path) >= 2 and path[-2] == "reportEmails":
        address = value if isinstance(value, str) and "\n" not in value else "ops@example.com"
        return f"write each address as `{{email: {address}, enabled: true}}`"
    if kind == "list_type" and path and path[-1] == "reportEmails":
        return "write a list: `reportEmails: [{email: ops@example.com, enabled: true}]`"
    return None


def _expected_choices(ctx: Mapping[str, object]) -> str:
    # ctx["expected"] lists the choices as "'a', 'b' or 'c'"; shown as code instead.
    return str(ctx.get("expected", "")).replace("'", "`")


def _number(value: object) -> object:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plain_problem(kind: str, ctx: Mapping[str, object], path: Path, node: Node) -> Problem:
    """``kind`` and ``ctx`` are a pydantic error's type and context."""
    problem = _plain_problem(kind, ctx, path, node)
    if problem.hint is None and any(part in SECRET_KEYS for part in path):
        return Problem(problem.message, SECRET_REFERENCE_HINT)
    return problem


def _plain_problem(kind: str, ctx: Mapping[str, object], path: Path, node: Node) -> Problem:
    expected = TYPE_WORDS.get(kind)
    if expected:
        return Problem(f"expected {expected}, found {describe(node)}", _type_hint(kind, path, node))
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        message, example = PATTERN_WORDS.get(pattern, URL_WORDS)
        return Problem(message, example)
    if kind in ("literal_error", "enum"):
        return Problem(f"expected one of {_expected_choices(ctx)}")
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        hint = "a port is 1 to 65535; 587 is recommended" if path and path[-1] == "port" else None
        return Problem(f"must be {words} {_number(ctx.get(key))}", hint)
    if kind == "finite_number":
        return Problem("must be a finite number")
    if kind == "string_unicode":
        return Problem(
            "holds a lone surrogate escape (\\ud800-\\udfff), which is not text",
            "remove the escape, or write the character itself",
        )
    if kind == "string_too_short":
        return Problem("must not be empty")
    if kind == "too_short":
        return Problem("must not be an empty list")
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return Problem(f"{describe(node)} is not accepted here", _type_hint(kind, path, node))
    return Problem(f"{describe(node)} is not accepted here")
