"""``{"diagnostics": [...], "summary": {"files": N, "errors": N, "warnings": N}}``."""

from __future__ import annotations

import json

from smtp_gitops.settings.diagnostics import Report


def format(report: Report, *, color: bool) -> str:
    document = {
        "diagnostics": [d.as_dict() for d in report.diagnostics],
        "summary": {
            "files": len(report.files),
            "errors": report.errors,
            "warnings": report.warnings,
        },
    }
    return json.dumps(document, indent=2) + "\n"
