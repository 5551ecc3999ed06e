"""The JSON Schema, generated from the model so the two cannot drift apart."""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSIONS = ("v1", "v2")


def schema_file_name(version: str) -> str:
    return f"smtp-settings.{version}.schema.json"


def json_schema(version: str = "v1") -> dict[str, Any]:
    if version not in SCHEMA_VERSIONS:
        raise ValueError(f"unknown schema version {version!r}")
    from smtp_gitops.model import MODELS

    model = MODELS[f"smtp-gitops/{version}"]
    generated = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://smtp-gitops.dev/schema/{schema_file_name(version)}",
        **generated,
    }


def json_schema_text(version: str = "v1") -> str:
    return json.dumps(json_schema(version), indent=2, sort_keys=False) + "\n"
