"""The rule catalogue: one module per rule id, each with its id, severity and doc string.

Parse-stage rules (``yaml-syntax``, ``duplicate-key``, ``unsafe-yaml``, ``schema``,
``unknown-key``, ``api-version``) are raised while loading and checking the schema; the
semantic ones each have a ``check(context)`` function run on a schema-valid document; report
rules (``unused-ignore``) look at the finished report.

A rule's id is its module name with dashes, so ``RULE_IDS`` names every rule without importing
any of them (some import the pydantic model, which option checking must not pay for).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtp_gitops.lint.rules.base import Rule, SettingsContext
    from smtp_gitops.settings.diagnostics import Diagnostic

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
    "sops_reference",
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

REPORT_RULES = ("unused_ignore",)
RULE_IDS = tuple(name.replace("_", "-") for name in PARSE_RULES + SEMANTIC_RULES + REPORT_RULES)
# A file that did not parse, or was refused, has not been checked at all: these two can be
# neither switched off nor suppressed, or a broken file would pass in silence.
ALWAYS_ON = frozenset({"yaml-syntax", "unsafe-yaml"})

Check = Callable[["SettingsContext"], Iterable["Diagnostic"]]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"smtp_gitops.lint.rules.{name}")


@cache
def all_rules() -> dict[str, Rule]:
    """Every rule by id, in catalogue order."""
    rules = [_module(name).RULE for name in PARSE_RULES + SEMANTIC_RULES + REPORT_RULES]
    return {r.id: r for r in rules}


@cache
def semantic_checks() -> tuple[Check, ...]:
    return tuple(_module(n).check for n in SEMANTIC_RULES)
