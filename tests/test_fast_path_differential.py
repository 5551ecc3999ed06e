"""The fast path (the JSON Schema compiled to Python) accepts exactly what the model accepts,
on generated documents: a valid document with one value replaced by anything YAML can hold,
lone surrogate escapes, huge numbers, NaN and odd keys included. Seeded and bounded."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtp_gitops.lint.fast_schema import clean_document
from smtp_gitops.lint.loader import load_text
from smtp_gitops.lint.schema_check import check_schema, declared_api_version

BASE: dict[str, Any] = {
    "apiVersion": "smtp-gitops/v2",
    "kind": "SmtpSettings",
    "metadata": {"environment": "prod", "production": True},
    "spec": {
        "sets": [
            {
                "name": "primary",
                "enabled": True,
                "category": "general",
                "networkHost": "smtp.office365.com",
                "port": 587,
                "enableSsl": True,
                "username": "portal@example.com",
                "email": "no-reply@example.com",
                "auth": {
                    "oauth2": {
                        "provider": "microsoft",
                        "tenantId": "t",
                        "clientId": "c",
                        "clientSecret": {"fromEnv": "SECRET"},
                        "scope": "s",
                    }
                },
                "reportEmails": [{"email": "qa@example.com", "enabled": True}],
            },
            {"name": "backup", "networkHost": "h", "auth": {"password": {"fromFile": "/run/p"}}},
        ],
        "render": {"template": "portal-json", "output": "build/smtp.json"},
        "reload": {
            "targets": ["https://portal.example.com/r"],
            "secretFromEnv": "PORTAL_RELOAD_SECRET",
            "timeoutSeconds": 10,
            "retries": 3,
        },
    },
}


def _leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        found = [path] if path else []
        for key, item in value.items():
            found += _leaf_paths(item, (*path, key))
        return found
    if isinstance(value, list):
        found = [path]
        for index, item in enumerate(value):
            found += _leaf_paths(item, (*path, index))
        return found
    return [path]


PATHS = _leaf_paths(BASE)
surrogates = st.integers(min_value=0xD800, max_value=0xDFFF).map(chr)
texts = st.one_of(
    st.text(max_size=12),
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=4), surrogates, st.text(max_size=4)),
    st.sampled_from(["", " ", "587", "true", "smtp-gitops/v1", "general", "microsoft", "a@b"]),
)
values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        texts,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(texts, children, max_size=3)
    ),
    max_leaves=6,
)


def _replace(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


def _agree(document: dict[str, Any], partial: bool) -> None:
    # JSON is YAML: ensure_ascii writes a lone surrogate as the escape a user would type.
    text = json.dumps(document, ensure_ascii=True, allow_nan=False)
    loaded = load_text("environments/prod/smtp.yaml", text.encode())
    if loaded.root is None or loaded.diagnostics:
        return  # refused while loading: neither path is asked
    fast = clean_document(loaded.root, declared_api_version(loaded.root), partial=partial)
    settings_, problems = check_schema(loaded.root, partial=partial)
    model_ok = (settings_ is not None or partial) and not [
        p for p in problems if p.severity.value == "error"
    ]
    if fast is not None:
        assert model_ok, (document, [p.message for p in problems])


@settings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.sampled_from(PATHS), values, st.booleans())
def test_the_fast_path_accepts_nothing_the_model_refuses(
    path: tuple[Any, ...], value: Any, partial: bool
) -> None:
    try:  # NaN and infinity have no JSON spelling; their YAML forms are in test_fast_schema
        document = _replace(BASE, path, value)
        json.dumps(document, allow_nan=False)
    except ValueError:
        return
    _agree(document, partial)


def test_a_lone_surrogate_anywhere_is_refused_by_both() -> None:
    for path in PATHS:
        _agree(_replace(BASE, path, "x\ud800y"), partial=False)
