"""The rule catalogue: one module per rule id, each with its id, severity and doc string.

Parse-stage rules (``yaml-syntax``, ``duplicate-key``, ``unsafe-yaml``, ``schema``,
``unknown-key``, ``api-version``) are raised while loading and checking the schema; the others
are semantic and each has a ``check(context)`` function run on a schema-valid document.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtp_gitops.diagnostics import Diagnostic
    from smtp_gitops.rules.base import Rule, SettingsContext

PARSE_RULES = (
    "yaml_syntax",
    "duplicate_key",
    "unsafe_yaml",
    "schema",
    "unknown_key",
    "api_version",
)
SEMANTIC_RULES = (
    "environment_mismatch",
    "duplicate_set_name",
    "multiple_enabled",
    "no_enabled_set",
    "plaintext_secret",
    "credentials_missing",
    "credentials_ignored",
    "port_tls_mismatch",
    "invalid_host",
    "invalid_email",
    "redirect_without_recipients",
    "redirect_in_production",
    "duplicate_report_email",
    "invalid_target",
    "insecure_target",
    "oauth2_incomplete",
    "basic_auth_deprecated",
)

Check = Callable[["SettingsContext"], Iterable["Diagnostic"]]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"smtp_gitops.rules.{name}")


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule by id, in catalogue order."""
    rules = [_module(name).RULE for name in PARSE_RULES + SEMANTIC_RULES]
    return {r.id: r for r in rules}


@cache
def semantic_checks() -> tuple[tuple[Rule, Check], ...]:
    return tuple((_module(n).RULE, _module(n).check) for n in SEMANTIC_RULES)
