"""The rule catalogue names every module in ``smtp_gitops/lint/rules/``: a rule written but not
registered would never run, and nothing else would notice."""

from __future__ import annotations

import importlib
import pkgutil

import smtp_gitops.lint.rules
from smtp_gitops.lint.rules import all_rules, semantic_checks

NOT_RULES = {"base"}  # what a rule is, not a rule


def _rule_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules(smtp_gitops.lint.rules.__path__)
        if info.name not in NOT_RULES
    )


def test_every_rule_module_is_registered_under_its_own_id() -> None:
    registered = all_rules()
    for name in _rule_modules():
        rule = importlib.import_module(f"smtp_gitops.lint.rules.{name}").RULE
        assert rule.id == name.replace("_", "-"), name
        assert registered.get(rule.id) is rule, f"{name} is not in the rule catalogue"
    assert len(registered) == len(_rule_modules())


def test_every_rule_with_a_check_is_run() -> None:
    run = set(semantic_checks())
    for name in _rule_modules():
        module = importlib.import_module(f"smtp_gitops.lint.rules.{name}")
        if hasattr(module, "check"):
            assert module.check in run, f"{name}.check is never run"
