"""GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per diagnostic."""

from __future__ import annotations

from smtp_gitops.settings.diagnostics import Report
from smtp_gitops.settings.discovery import repository_paths


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format(report: Report, *, color: bool) -> str:
    lines = []
    paths = repository_paths(d.file for d in report.diagnostics)
    for d in report.diagnostics:
        message = d.message + (f"\n{d.hint}" if d.hint else "")
        properties = ",".join(
            f"{name}={escape_property(value)}"
            for name, value in (
                ("file", paths[d.file]),
                ("line", str(d.line)),
                ("col", str(d.column)),
                ("title", f"smtp-gitops ({d.rule})"),
            )
        )
        lines.append(f"::{d.severity.value} {properties}::{escape_data(message)}")
    return "".join(line + "\n" for line in lines)
