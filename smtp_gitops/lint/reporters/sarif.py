"""SARIF 2.1.0 as GitHub code scanning accepts it: every rule described, one result per finding."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from smtp_gitops.lint.rules import all_rules
from smtp_gitops.settings.diagnostics import Diagnostic, Report, Severity
from smtp_gitops.settings.discovery import repository_path, repository_paths
from smtp_gitops.version import __version__

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/smtp-gitops/smtp-gitops"
FINGERPRINT_KEY = "smtpGitops/v1"
_LINE_REFERENCE = re.compile(r"\blines? \d+")


def fingerprint(diagnostic: Diagnostic, file: str | None = None) -> str:
    """Identifies a finding across commits, so code scanning keeps one alert as lines move.

    Built from the rule, the file and where in the document the finding is (set name and field
    path); never from line numbers. A finding without a known place falls back to its message,
    with any "line N" it quotes taken out. ``file`` is the diagnostic's file from the top of
    the repository, when the caller has it.
    """
    where = diagnostic.where or _LINE_REFERENCE.sub("line", diagnostic.message)
    text = "\0".join((diagnostic.rule, file or repository_path(diagnostic.file), where))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format(report: Report, *, color: bool) -> str:
    rules = list(all_rules().values())
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    paths = repository_paths(d.file for d in report.diagnostics)
    for d in report.diagnostics:
        end = d.end or d.mark
        results.append(
            {
                "ruleId": d.rule,
                "ruleIndex": index[d.rule],
                "level": "error" if d.severity is Severity.ERROR else "warning",
                "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint(d, paths[d.file])},
                "locations": [
                    {
                        "physicalLocation": {
                            # A URI, not a path: spaces, `%`, `:` and `,` must be escaped.
                            "artifactLocation": {"uri": quote(paths[d.file])},
                            "region": {
                                "startLine": d.line,
                                "startColumn": d.column,
                                "endLine": max(end.line, d.line),
                                "endColumn": end.column
                                if end.line > d.line
                                else max(end.column, d.column + 1),
                            },
                        }
                    }
                ],
            }
        )
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "smtp-gitops",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.id,
                                "shortDescription": {"text": r.summary},
                                "fullDescription": {"text": r.doc},
                                "help": {"text": r.doc},
                                "defaultConfiguration": {
                                    "level": "error" if r.severity is Severity.ERROR else "warning"
                                },
                            }
                            for r in rules
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
