"""Output formats for a validation report; each is one small module with ``render``."""

from __future__ import annotations

import importlib
from typing import Protocol

from smtp_gitops.diagnostics import Report

FORMATS = ("text", "json", "github", "sarif")


class Renderer(Protocol):
    def __call__(self, report: Report, *, color: bool) -> str: ...


def renderer(name: str) -> Renderer:
    module = importlib.import_module(f"smtp_gitops.reporters.{name}")
    render: Renderer = module.render
    return render
