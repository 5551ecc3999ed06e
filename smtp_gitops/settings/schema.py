"""The JSON Schema, generated from the model so the two cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSIONS = ("v1", "v2")


# Where the schemas are published (each one's ``$id``), for files outside this repository.
PUBLISHED_AT = "https://smtp-gitops.dev/schema/"


def schema_file_name(version: str) -> str:
    return f"smtp-settings.{version}.schema.json"


def schema_url(version: str) -> str:
    return PUBLISHED_AT + schema_file_name(version)


def json_schema(version: str = "v1") -> dict[str, Any]:
    if version not in SCHEMA_VERSIONS:
        raise ValueError(f"unknown schema version {version!r}")
    from smtp_gitops.settings.model import MODELS

    model = MODELS[f"smtp-gitops/{version}"]
    generated = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_url(version),
        **generated,
    }


def json_schema_text(version: str = "v1") -> str:
    return json.dumps(json_schema(version), indent=2, sort_keys=False) + "\n"
