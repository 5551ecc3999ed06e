"""The schema check of a clean document, without pydantic: the JSON Schema compiled ahead of
time to Python (``schema_compiler.py``). A document that fails it goes to the model, which says
where and why; so this check only has to be right about what it accepts, and a test holds it to
the model on that."""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable
from functools import cache
from typing import cast

from smtp_gitops.settings.vocabulary import API_VERSION_V2
from smtp_gitops.settings.yamlnodes import MapNode, Node, ScalarNode

CompiledCheck = Callable[[object], object]
_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotClean(Exception):
    """A value the compiled schema cannot judge like the model does."""


def module_name(version: str, *, partial: bool) -> str:
    """``settings_v1`` checks an environment's merged document; ``base_v1`` checks a base,
    which may leave out required keys."""
    return f"{'base' if partial else 'settings'}_{version}"


@cache
def _compiled(version: str, partial: bool) -> CompiledCheck:
    module = importlib.import_module(
        f"smtp_gitops.lint._compiled.{module_name(version, partial=partial)}"
    )
    return cast(CompiledCheck, module.validate)


def _plain(node: Node) -> object:
    if isinstance(node, ScalarNode):
        value = node.value
        # JSON has no NaN, so the schema's bounds let it through (every comparison with NaN
        # is false); the model refuses it. Let the model judge.
        if isinstance(value, float) and math.isnan(value):
            raise _NotClean
        # A lone surrogate ("\ud800" in a quoted scalar) is no Unicode text: JSON Schema has no
        # word for it, the model refuses it. Let the model judge (and say where).
        if isinstance(value, str) and _SURROGATE.search(value):
            raise _NotClean
        return value
    if isinstance(node, MapNode):
        return {key: _plain(entry.value) for key, entry in node.entries.items()}
    return [_plain(item) for item in node.items]


def passes(document: object, api_version: object, *, partial: bool = False) -> bool:
    """Whether plain ``document`` passes the schema of ``api_version`` (v1 for anything else,
    as the model does). An environment's document gets the model's defaults filled in.

    ``partial`` checks a base file, which may leave out required keys (nothing is filled in).
    """
    from smtp_gitops.lint._compiled import JsonSchemaValueException

    version = "v2" if api_version == API_VERSION_V2 else "v1"
    try:
        _compiled(version, partial)(document)
    except JsonSchemaValueException:
        return False
    return True


def clean_document(
    root: Node, api_version: object, *, partial: bool = False
) -> dict[str, object] | None:
    """``root`` as plain data (with the model's defaults) when it passes the schema, else None."""
    try:
        document = _plain(root)
    except _NotClean:
        return None
    if not isinstance(document, dict) or not passes(document, api_version, partial=partial):
        return None
    return document
