"""Fixtures shared by the tests; shared values and helpers are in ``tests/helpers.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from smtp_gitops.lint.rule_selection import RuleSelection
from smtp_gitops.lint.validator import validate_files
from smtp_gitops.settings.diagnostics import Diagnostic
from tests.helpers import write_env


@pytest.fixture
def check(tmp_path: Path) -> Callable[..., list[Diagnostic]]:
    """Validate one YAML text as ``environments/<env>/smtp.yaml``; return its diagnostics
    (after inline ignores, as ``validate`` reports them)."""

    def run(text: str, env: str = "prod") -> list[Diagnostic]:
        path = write_env(tmp_path, env, text)
        report, unreadable = validate_files(
            [str(path)], adjust=lambda unfinished: RuleSelection().apply(unfinished, [str(path)])
        )
        assert not unreadable
        return report.diagnostics

    return run
