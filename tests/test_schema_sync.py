"""The JSON Schema in schema/ and the pydantic model describe exactly the same documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

from smtp_gitops.settings.model import SmtpSettingsFile, SmtpSettingsFileV2
from smtp_gitops.settings.schema import (
    SCHEMA_VERSIONS,
    json_schema,
    json_schema_text,
    schema_file_name,
    schema_file_names,
)

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "schema" / "smtp-settings.v1.schema.json"


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("overlay", [False, True], ids=["full", "overlay"])
def test_committed_schema_is_generated_from_the_model(version: str, overlay: bool) -> None:
    committed = REPO / "schema" / schema_file_name(version, overlay=overlay)
    assert committed.read_text(encoding="utf-8") == json_schema_text(version, overlay=overlay), (
        "schema/ is stale: run `smtp-gitops schema --write schema`"
    )


def test_schema_folder_holds_exactly_the_published_files() -> None:
    assert sorted(p.name for p in (REPO / "schema").iterdir()) == sorted(schema_file_names())


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("overlay", [False, True], ids=["full", "overlay"])
def test_schema_is_valid_draft_2020_12(version: str, overlay: bool) -> None:
    jsonschema.Draft202012Validator.check_schema(json_schema(version, overlay=overlay))


def test_the_overlay_schema_requires_nothing_and_refuses_what_the_full_one_refuses() -> None:
    overlay = jsonschema.Draft202012Validator(json_schema("v2", overlay=True))
    assert overlay.is_valid({"spec": {"sets": [{"name": "primary", "enabled": True}]}})
    assert not overlay.is_valid({"spec": {"sets": [{"name": "primary", "port": "587"}]}})
    assert not overlay.is_valid({"spec": {"sets": [{"name": "primary", "prot": 587}]}})
    assert '"required": [' not in json.dumps(json_schema("v2", overlay=True))
    assert '"required": [' in json.dumps(json_schema("v2"))


def test_examples_point_their_editors_at_the_schema_of_their_version_and_role() -> None:
    for path in sorted((REPO / "environments").glob("*/smtp.yaml")):
        text = path.read_text(encoding="utf-8")
        version = "v2" if "apiVersion: smtp-gitops/v2" in text else "v1"
        # Every bundled file is the base or merged over it: the overlay schema.
        schema = f"../../schema/{schema_file_name(version, overlay=True)}"
        assert text.splitlines()[0] == f"# yaml-language-server: $schema={schema}"
        assert (path.parent / schema).resolve().is_file()


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


@pytest.mark.parametrize("text", ["1025.0", "1e3", "587.0"])
def test_a_float_is_not_a_port_though_json_schema_cannot_tell(text: str, check: Any) -> None:
    """JSON has one kind of number, so a JSON Schema "integer" admits 587.0 (and editors, which
    read YAML into JSON, say nothing); the model and validate are strict: a float is no port."""
    from tests.helpers import VALID

    found = check(VALID.replace("port: 587", f"port: {text}"))
    assert [(d.rule, d.line) for d in found] == [("schema", 11)], found
    assert "expected an integer" in found[0].message


def test_bundled_examples_pass_the_json_schema_after_layering() -> None:
    from smtp_gitops.lint.file_check import Validator
    from smtp_gitops.settings.yamlnodes import to_plain

    for env in ("dev", "staging", "prod"):
        checked = Validator().check(str(REPO / "environments" / env / "smtp.yaml"))
        assert checked.root is not None
        document = to_plain(checked.root)
        assert isinstance(document, dict)
        version = str(document["apiVersion"]).rsplit("/", 1)[1]
        validator = jsonschema.Draft202012Validator(json_schema(version))
        assert list(validator.iter_errors(document)) == []


def test_schema_command_prints_the_committed_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from smtp_gitops.commands.cli import main

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(SCHEMA_FILE.read_text())
    v2 = REPO / "schema" / "smtp-settings.v2.schema.json"
    for spelling in ("--api-version", "--version"):  # the first spelling keeps working
        assert main(["schema", spelling, "v2"]) == 0
        assert json.loads(capsys.readouterr().out) == json.loads(v2.read_text())
    assert main(["schema", "--api-version", "v2", "--overlay"]) == 0
    overlay = REPO / "schema" / "smtp-settings.v2.overlay.schema.json"
    assert json.loads(capsys.readouterr().out) == json.loads(overlay.read_text())


def test_schema_write_writes_every_schema_file(tmp_path: Path) -> None:
    from smtp_gitops.commands.cli import main

    assert main(["schema", "--write", str(tmp_path / "schemas")]) == 0
    written = sorted((tmp_path / "schemas").iterdir())
    assert [p.name for p in written] == sorted(schema_file_names())
    for path in written:
        assert path.read_bytes() == (REPO / "schema" / path.name).read_bytes()


def _document_v2() -> dict[str, Any]:
    document = _document()
    document["apiVersion"] = "smtp-gitops/v2"
    primary = document["spec"]["sets"][0]
    primary["auth"] = {"password": primary.pop("password")}
    document["spec"]["sets"].append(
        {
            "name": "notifications",
            "enabled": True,
            "category": "notifications",
            "networkHost": "smtp.office365.com",
            "username": "portal@example.com",
            "email": "no-reply@example.com",
            "auth": {
                "oauth2": {
                    "provider": "microsoft",
                    "tenantId": "00000000-0000-0000-0000-000000000000",
                    "clientId": "11111111-2222-3333-4444-555555555555",
                    "clientSecret": {"fromEnv": "SMTP_OAUTH_CLIENT_SECRET"},
                    "scope": "https://outlook.office365.com/.default",
                }
            },
        }
    )
    return document


MUTATIONS_V2 = [
    ("spec.sets.1.category", "marketing"),
    ("spec.sets.1.category", "General"),
    ("spec.sets.1.category", _DELETE),
    ("spec.sets.1.email", 5),
    ("spec.sets.1.email", _DELETE),
    ("spec.sets.1.auth", None),
    ("spec.sets.1.auth", {}),
    ("spec.sets.1.auth", "password"),
    ("spec.sets.1.auth.extra", 1),
    ("spec.sets.1.auth.oauth2.provider", "yahoo"),
    ("spec.sets.1.auth.oauth2.provider", _DELETE),
    ("spec.sets.1.auth.oauth2.clientId", _DELETE),
    ("spec.sets.1.auth.oauth2.clientId", ""),
    ("spec.sets.1.auth.oauth2.clientSecret", _DELETE),
    ("spec.sets.1.auth.oauth2.clientSecret", "literal"),
    ("spec.sets.1.auth.oauth2.clientSecret", {"fromEnv": "1BAD"}),
    ("spec.sets.1.auth.oauth2.tenantId", None),
    ("spec.sets.1.auth.oauth2.tokenUrl", ""),
    ("spec.sets.1.auth.oauth2.tokenUrl", "https://login.example.com/token"),
    ("spec.sets.1.auth.oauth2.scope", 3),
    ("spec.sets.1.auth.password", {"fromEnv": "X"}),
    ("spec.sets.0.password", {"fromEnv": "X"}),
    ("spec.sets.0.auth.password", "literal"),
    ("spec.sets.0.auth.password", None),
    ("apiVersion", "smtp-gitops/v1"),
]


@pytest.mark.parametrize(
    ("path", "value"), MUTATIONS_V2, ids=[f"{p}={v!r}"[:60] for p, v in MUTATIONS_V2]
)
def test_v2_model_and_schema_agree(path: str, value: Any) -> None:
    document = _set(_document_v2(), path, value)
    schema_ok = jsonschema.Draft202012Validator(json_schema("v2")).is_valid(document)
    try:
        SmtpSettingsFileV2.model_validate(document)
        model_ok = True
    except ValidationError:
        model_ok = False
    assert schema_ok == model_ok


def test_the_v2_baseline_document_is_valid() -> None:
    document = _document_v2()
    assert jsonschema.Draft202012Validator(json_schema("v2")).is_valid(document)
    SmtpSettingsFileV2.model_validate(document)


def test_yaml_numbers_reach_the_model_with_yaml_1_2_types() -> None:
    from smtp_gitops.lint.loader import resolve_plain

    assert [resolve_plain(v) for v in ("yes", "on", "0x1F", "0o17", "1e3", "~", "587")] == [
        "yes",
        "on",
        31,
        15,
        1000.0,
        None,
        587,
    ]
    assert YAML is not None  # ruamel.yaml is the parser in use
