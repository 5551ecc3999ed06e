"""The JSON Schema in schema/ and the pydantic model describe exactly the same documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from smtp_gitops.model import SmtpSettingsFile
from smtp_gitops.schema import json_schema, json_schema_text

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "schema" / "smtp-settings.v1.schema.json"


def test_committed_schema_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "schema/ is stale: run `smtp-gitops schema > schema/smtp-settings.v1.schema.json`"
    )


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema())


def test_examples_point_their_editors_at_the_schema() -> None:
    for path in sorted((REPO / "environments").glob("*/smtp.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../schema/smtp-settings.v1.schema.json"
        assert (path.parent / "../../schema/smtp-settings.v1.schema.json").resolve() == SCHEMA_FILE


def _document() -> dict[str, Any]:
    return {
        "apiVersion": "smtp-gitops/v1",
        "kind": "SmtpSettings",
        "metadata": {"environment": "prod", "production": True},
        "spec": {
            "sets": [
                {
                    "name": "primary",
                    "enabled": True,
                    "networkHost": "smtp.gmail.com",
                    "port": 587,
                    "username": "portal@example.com",
                    "password": {"fromEnv": "SMTP_PASSWORD"},
                    "reportEmails": [{"email": "qa@example.com", "enabled": True}],
                }
            ],
            "render": {"template": "portal-json", "output": "/etc/portal/smtp.json"},
            "reload": {
                "targets": ["https://portal-1.example.com/api/reload-application"],
                "secretFromEnv": "PORTAL_RELOAD_SECRET",
                "timeoutSeconds": 10,
                "retries": 3,
            },
        },
    }


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node: Any = document
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is _DELETE:
        del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return document


_DELETE = object()
MUTATIONS = [
    ("spec.sets.0.port", "587"),
    ("spec.sets.0.port", 0),
    ("spec.sets.0.port", 65536),
    ("spec.sets.0.port", 465),
    ("spec.sets.0.port", True),
    ("spec.sets.0.port", 587.0),
    ("spec.sets.0.enabled", "yes"),
    ("spec.sets.0.name", "Primary"),
    ("spec.sets.0.name", "-x"),
    ("spec.sets.0.networkHost", ""),
    ("spec.sets.0.networkHost", _DELETE),
    ("spec.sets.0.password", "literal"),
    ("spec.sets.0.password", {"fromFile": "/run/secrets/x"}),
    ("spec.sets.0.password", {"fromEnv": "1BAD"}),
    ("spec.sets.0.password", {"fromEnv": "A", "fromFile": "/x"}),
    ("spec.sets.0.password", None),
    ("spec.sets.0.password", 5),
    ("spec.sets.0.reportEmails", {}),
    ("spec.sets.0.reportEmails.0.enabled", _DELETE),
    ("spec.sets.0.reportEmails.0.email", _DELETE),
    ("spec.sets.0.extra", 1),
    ("spec.sets", []),
    ("spec.sets", _DELETE),
    ("spec.render.template", ""),
    ("spec.render.output", None),
    ("spec.reload.targets", []),
    ("spec.reload.targets", ["ftp://x"]),
    ("spec.reload.timeoutSeconds", 0),
    ("spec.reload.timeoutSeconds", 2.5),
    ("spec.reload.retries", 11),
    ("spec.reload.secretFromEnv", _DELETE),
    ("spec.reload", None),
    ("metadata.environment", "Prod"),
    ("metadata.environment", "a" * 64),
    ("metadata.production", "true"),
    ("apiVersion", "smtp-gitops/v2"),
    ("kind", _DELETE),
    ("spec.unknown", {}),
]


@pytest.mark.parametrize(
    ("path", "value"), MUTATIONS, ids=[f"{p}={v!r}"[:60] for p, v in MUTATIONS]
)
def test_model_and_schema_agree(path: str, value: Any) -> None:
    document = _set(_document(), path, value)
    schema_ok = jsonschema.Draft202012Validator(json_schema()).is_valid(document)
    try:
        SmtpSettingsFile.model_validate(document)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert schema_ok == model_ok


def test_bundled_examples_pass_the_json_schema_after_layering() -> None:
    from smtp_gitops.validator import Validator
    from smtp_gitops.yamlnodes import to_plain

    validator = jsonschema.Draft202012Validator(json_schema())
    for env in ("dev", "staging", "prod"):
        checked = Validator().check(str(REPO / "environments" / env / "smtp.yaml"))
        assert checked.root is not None
        assert list(validator.iter_errors(to_plain(checked.root))) == []


def test_schema_command_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from smtp_gitops.cli import main

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(SCHEMA_FILE.read_text())


def test_yaml_numbers_reach_the_model_with_yaml_1_2_types() -> None:
    from smtp_gitops.loader import resolve_plain

    assert [resolve_plain(v) for v in ("yes", "on", "0x1F", "0o17", "1e3", "~", "587")] == [
        "yes",
        "on",
        31,
        15,
        1000.0,
        None,
        587,
    ]
    assert YAML  # ruamel.yaml is the parser in use
