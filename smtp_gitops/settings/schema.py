"""The JSON Schemas, generated from the model so the two cannot drift apart.

Each apiVersion has two: the full schema, for a standalone environment's file, and the overlay
schema, for a file merged over a base (the base itself, and every environment that has one).
An overlay may leave out any key, since the merged document is what has to be complete; the
overlay schema is the full one with every ``required`` dropped, the same relaxation the
validator checks a base with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

SCHEMA_VERSIONS = ("v1", "v2")

# Each schema's ``$id``: an identifier, not an address to fetch. Editors find a schema through
# the modeline's relative path to the repository's schema/ folder (`smtp-gitops schema --write`).
SCHEMA_ID_BASE = "https://smtp-gitops.dev/schema/"

# Keywords whose value maps names to schemas, or lists schemas.
_SCHEMA_MAPS = ("properties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalProperties")


def schema_file_name(version: str, *, overlay: bool = False) -> str:
    return f"smtp-settings.{version}{'.overlay' if overlay else ''}.schema.json"


def schema_file_names() -> list[str]:
    """Every schema file ``schema --write`` writes, full and overlay, per version."""
    return [schema_file_name(v, overlay=o) for v in SCHEMA_VERSIONS for o in (False, True)]


def without_keywords(schema: Any, keywords: Iterable[str]) -> Any:
    """``schema`` with the given keywords removed from it and from every sub-schema (a property
    that happens to be named like a keyword is kept)."""
    drop = frozenset(keywords)
    if isinstance(schema, list):
        return [without_keywords(item, drop) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key in drop:
            continue
        if key in _SCHEMA_MAPS:
            result[key] = {name: without_keywords(s, drop) for name, s in value.items()}
        elif key in _SCHEMA_LISTS or key in _SCHEMA_VALUES:
            result[key] = without_keywords(value, drop)
        else:
            result[key] = value  # a value (const, enum, default, pattern...), not a schema
    return result


def json_schema(version: str = "v1", *, overlay: bool = False) -> dict[str, Any]:
    if version not in SCHEMA_VERSIONS:
        raise ValueError(f"unknown schema version {version!r}")
    from smtp_gitops.settings.model import MODELS

    model = MODELS[f"smtp-gitops/{version}"]
    generated = model.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID_BASE + schema_file_name(version, overlay=overlay),
        **generated,
    }
    if not overlay:
        return schema
    relaxed: dict[str, Any] = without_keywords(schema, ["required"])
    relaxed["title"] = f"{generated.get('title', 'SmtpSettings')} (overlay)"
    relaxed["description"] = (
        "A settings file merged over a base (or the base itself): any key may be left out; "
        "the merged document must be complete, which smtp-gitops validate checks."
    )
    return relaxed


def json_schema_text(version: str = "v1", *, overlay: bool = False) -> str:
    return json.dumps(json_schema(version, overlay=overlay), indent=2, sort_keys=False) + "\n"


def schema_text_for(file_name: str) -> str:
    """The text of the schema file ``file_name`` (one of ``schema_file_names()``)."""
    for version in SCHEMA_VERSIONS:
        for overlay in (False, True):
            if schema_file_name(version, overlay=overlay) == file_name:
                return json_schema_text(version, overlay=overlay)
    raise ValueError(f"no schema file is named {file_name!r}")
