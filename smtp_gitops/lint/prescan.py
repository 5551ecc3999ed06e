"""A pass over the parser's events before anything is composed: how deep the file nests, and
where the values of secret keys (``password``) lie.

The YAML parsers (libyaml and ruamel.yaml's pure one) are state machines with their own stacks,
so walking events cannot overflow anything; composing nodes is recursive (in C for libyaml) and
a file nested tens of thousands of levels deep crashes the process. Counting open collections
here, from the real parser's events, cannot be fooled by comments, quotes, block scalars or
complex keys the way a character scan can.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    MappingStartEvent,
    ScalarEvent,
)

from smtp_gitops.settings.redaction import SECRET_KEYS, SecretSpan

Position = tuple[int, int]  # 1-based line and column


def position(yaml_mark: Any) -> Position:
    return (yaml_mark.line + 1, yaml_mark.column + 1)


@dataclass(slots=True)
class _Collection:
    is_mapping: bool
    expects_key: bool = True
    # End of a secret key whose value comes next (a scalar key in SECRET_KEYS).
    secret_key_end: Position | None = None


@dataclass(slots=True)
class Scan:
    """What the pass found; ``too_deep`` is where nesting first exceeded the limit."""

    secret_spans: list[SecretSpan] = field(default_factory=list)
    too_deep: Position | None = None
    error: YAMLError | None = None


def scan(events: Iterator[Any], max_depth: int) -> Scan:
    """Walk ``events``, stopping early at nesting deeper than ``max_depth`` or a parse error."""
    result = Scan()
    stack: list[_Collection] = []
    # A secret value that is a collection: where it started and how deep the stack was then.
    open_secret: tuple[Position, int] | None = None
    secret_anchors: set[str] = set()  # `&k password` lets `*k` be a secret key too
    try:
        for event in events:
            if isinstance(event, CollectionEndEvent):
                if open_secret is not None and len(stack) == open_secret[1]:
                    result.secret_spans.append(SecretSpan(open_secret[0], position(event.end_mark)))
                    open_secret = None
                if stack:
                    stack.pop()
                continue
            if not isinstance(event, CollectionStartEvent | ScalarEvent | AliasEvent):
                continue
            if isinstance(event, ScalarEvent) and event.anchor and event.value in SECRET_KEYS:
                secret_anchors.add(event.anchor)
            secret_start = _place_node(
                stack, event, secret_anchors, inside_secret=open_secret is not None
            )
            if isinstance(event, CollectionStartEvent):
                stack.append(_Collection(isinstance(event, MappingStartEvent)))
                if len(stack) > max_depth:
                    result.too_deep = position(event.start_mark)
                    return result
                if secret_start is not None:
                    open_secret = (secret_start, len(stack))
            elif secret_start is not None:
                result.secret_spans.append(SecretSpan(secret_start, position(event.end_mark)))
    except YAMLError as error:
        result.error = error
        # The parser stopped inside a secret value (or right after its key): everything from
        # there on may hold the secret, so all of it counts as secret.
        pending = stack[-1].secret_key_end if stack else None
        start = open_secret[0] if open_secret is not None else pending
        if start is not None:
            result.secret_spans.append(SecretSpan(start, None))
    return result


def _place_node(
    stack: list[_Collection], event: Any, secret_anchors: set[str], *, inside_secret: bool
) -> Position | None:
    """Record ``event`` as a key or value of the innermost mapping; when it is the value of a
    secret key, return where the secret starts (just after the key)."""
    if not stack or not stack[-1].is_mapping:
        return None
    parent = stack[-1]
    if parent.expects_key:
        parent.expects_key = False
        is_secret_key = (isinstance(event, ScalarEvent) and event.value in SECRET_KEYS) or (
            isinstance(event, AliasEvent) and event.anchor in secret_anchors
        )
        parent.secret_key_end = (
            position(event.end_mark) if is_secret_key and not inside_secret else None
        )
        return None
    parent.expects_key = True
    secret_start, parent.secret_key_end = parent.secret_key_end, None
    return secret_start
