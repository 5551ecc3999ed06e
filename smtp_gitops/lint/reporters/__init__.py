"""Output formats for a validation report; each is one small module with ``format``."""

from __future__ import annotations

import importlib
from typing import Protocol

from smtp_gitops.settings.diagnostics import Report

FORMATS = ("text", "json", "github", "sarif")


class Formatter(Protocol):
    def __call__(self, report: Report, *, color: bool) -> str: ...


def formatter(name: str) -> Formatter:
    module = importlib.import_module(f"smtp_gitops.lint.reporters.{name}")
    format_report: Formatter = module.format
    return format_report
