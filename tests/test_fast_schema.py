"""The compiled schema (the clean path of `validate`, without pydantic) and the model accept
exactly the same documents, and the rules read the same answers from either."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from smtp_gitops.lint.fast_schema import clean_document, module_name, passes
from smtp_gitops.lint.loader import load_text
from smtp_gitops.lint.rules import semantic_checks
from smtp_gitops.lint.rules.base import SettingsContext
from smtp_gitops.lint.schema_check import check_schema
from smtp_gitops.lint.schema_compiler import COMPILED, compiled_source
from smtp_gitops.lint.view import settings_view
from smtp_gitops.settings.diagnostics import Diagnostic
from smtp_gitops.settings.model import SmtpSettingsFile, SmtpSettingsFileV2
from smtp_gitops.settings.schema import SCHEMA_VERSIONS
from smtp_gitops.settings.yamlnodes import MapNode, Node
from tests.test_schema_sync import (
    _DELETE,
    MUTATIONS,
    MUTATIONS_V2,
    _document,
    _document_v2,
    _set,
)

REPO = Path(__file__).resolve().parent.parent
CORPUS = [("v1", path, value) for path, value in MUTATIONS] + [
    ("v2", path, value) for path, value in MUTATIONS_V2
]


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
@pytest.mark.parametrize("partial", [False, True], ids=["settings", "base"])
def test_committed_validators_are_compiled_from_the_model(version: str, partial: bool) -> None:
    name = module_name(version, partial=partial)
    committed = COMPILED / f"{name}.py"
    assert committed.read_text(encoding="utf-8") == compiled_source(version, partial=partial), (
        f"smtp_gitops/lint/_compiled/{name}.py is stale: run `python -m smtp_gitops.lint.schema_compiler`"
    )


def _baseline(version: str) -> dict[str, Any]:
    return _document() if version == "v1" else _document_v2()


def _tree(document: dict[str, Any]) -> Node:
    """The document as the loader gives it (JSON is YAML; YAML spells infinity `.inf`)."""
    loaded = load_text("smtp.yaml", json.dumps(document).replace("Infinity", ".inf").encode())
    assert loaded.root is not None, loaded.diagnostics
    return loaded.root


def _agree(document: dict[str, Any]) -> None:
    """Both checks accept ``document`` or both refuse it, whole and as a base; when accepted,
    the view answers like the model and the rules find the same."""
    root = _tree(document)
    api_version = document.get("apiVersion")
    model, _problems = check_schema(root)
    clean = clean_document(root, api_version)
    assert (clean is not None) == (model is not None)
    _base_model, base_problems = check_schema(root, partial=True)
    if clean_document(root, api_version, partial=True) is not None:
        assert base_problems == []  # what the base check lets through, the model does too
    if clean is None or model is None:
        return
    view = settings_view(clean)
    _same(view, model)
    assert _rule_findings(view, root) == _rule_findings(model, root)


def _rule_findings(settings: Any, root: Node) -> list[Diagnostic]:
    assert isinstance(root, MapNode)
    context = SettingsContext(settings, root, "prod")
    return [d for run in semantic_checks() for d in run(context)]


def _same(view: Any, model: Any) -> None:
    """Every field the model has, the view has with the same value; and the same behaviour."""
    if isinstance(model, BaseModel):
        for name in type(model).model_fields:
            _same(getattr(view, name), getattr(model, name))
        for name in ("secret_path", "password_path", "category", "sender", "secret_label"):
            if hasattr(model, name):
                assert getattr(view, name) == getattr(model, name), name
        for name in ("secret", "oauth2", "password"):
            if hasattr(model, name):
                _same(getattr(view, name), getattr(model, name))
        if isinstance(model, SmtpSettingsFile | SmtpSettingsFileV2):
            _same(view.sets(), model.sets())
            for category, chosen in model.effective_sets().items():
                _same(view.effective_sets()[category], chosen)
            _same(view.effective_set(), model.effective_set())
    elif isinstance(model, list):
        assert isinstance(view, list)
        assert len(view) == len(model)
        for item_view, item_model in zip(view, model, strict=True):
            _same(item_view, item_model)
    else:
        assert view == model
        assert type(view) is type(model) or {type(view), type(model)} == {int, float}


@pytest.mark.parametrize(
    ("version", "path", "value"), CORPUS, ids=[f"{v}:{p}={x!r}"[:60] for v, p, x in CORPUS]
)
def test_compiled_schema_and_model_agree(version: str, path: str, value: Any) -> None:
    _agree(_set(_baseline(version), path, value))


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_baselines_take_the_clean_path(version: str) -> None:
    document = _baseline(version)
    assert clean_document(_tree(document), document["apiVersion"]) is not None
    _agree(document)


def test_the_clean_path_fills_in_the_models_defaults() -> None:
    document = _baseline("v1")
    del document["spec"]["sets"][0]["port"]
    del document["spec"]["render"]
    clean = clean_document(_tree(document), document["apiVersion"])
    assert clean is not None
    view = settings_view(clean)
    assert view.spec.sets[0].port == 587
    assert view.spec.render.template == "portal-json"


def test_nan_goes_to_the_model_which_refuses_it() -> None:
    text = json.dumps(_baseline("v1")).replace('"timeoutSeconds": 10', '"timeoutSeconds": .nan')
    loaded = load_text("smtp.yaml", text.encode())
    assert loaded.root is not None
    assert passes({"x": 1}, "smtp-gitops/v1") is False  # sanity: the check does refuse
    assert clean_document(loaded.root, "smtp-gitops/v1") is None
    model, problems = check_schema(loaded.root)
    assert model is None
    assert [p.rule for p in problems] == ["schema"]


# Values a mutation may write: the types YAML produces, at and beyond the model's bounds.
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, 1, 25, 465, 587, 65535, 65536, -1, 10, 11, 300, 301]),
    st.sampled_from([0.0, 0.5, 2.5, 587.0, 300.0, 300.5, float("inf")]),
    st.sampled_from(
        [
            "",
            "x",
            "Primary",
            "primary",
            "-x",
            "a" * 64,
            "general",
            "notifications",
            "microsoft",
            "custom",
            "https://h.example.com/x",
            "ftp://x",
            "SMTP_PASSWORD",
            "1BAD",
            "prod\n",
            "smtp-gitops/v1",
            "smtp-gitops/v2",
        ]
    ),
    st.just({}),
    st.just([]),
    st.sampled_from([{"fromEnv": "X"}, {"fromFile": "/x"}, {"fromEnv": "X", "fromFile": "/x"}]),
    st.just({"password": {"fromEnv": "X"}}),
    st.just(_DELETE),
)


def _paths(node: Any, prefix: str = "") -> list[str]:
    found = []
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        path = f"{prefix}{key}"
        found.append(path)
        if isinstance(value, dict | list):
            found += _paths(value, path + ".")
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SCHEMA_VERSIONS), st.data())
def test_generated_mutations_agree(version: str, data: st.DataObject) -> None:
    document = _baseline(version)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(document)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        value = data.draw(_VALUES)
        if value is _DELETE and path.rsplit(".", 1)[-1].isdigit():
            continue  # deleting a list item is not a mutation `_set` knows
        _set(document, path, value if value is _DELETE else copy.deepcopy(value))
    _agree(document)
