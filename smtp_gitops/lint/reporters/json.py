"""``{"diagnostics": [...], "summary": {"files": N, "errors": N, "warnings": N}}``; each
file is named from the top of its repository, as in every machine format."""

from __future__ import annotations

import json

from smtp_gitops.settings.diagnostics import Report
from smtp_gitops.settings.discovery import repository_paths


def format(report: Report, *, color: bool) -> str:
    paths = repository_paths(d.file for d in report.diagnostics)
    document = {
        "diagnostics": [{**d.as_dict(), "file": paths[d.file]} for d in report.diagnostics],
        "summary": {
            "files": len(report.files),
            "errors": report.errors,
            "warnings": report.warnings,
        },
    }
    return json.dumps(document, indent=2) + "\n"
