"""``path:line:col: severity rule: message``, one per line, then a summary."""

from __future__ import annotations

from smtp_gitops.diagnostics import Report, Severity

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m"}
_DIM, _RESET = "\033[2m", "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(report: Report) -> str:
    return (
        f"{_plural(len(report.files), 'file')} checked: "
        f"{_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')}"
    )


def render(report: Report, *, color: bool) -> str:
    lines = []
    for d in report.diagnostics:
        severity = d.severity.value
        if color:
            severity = f"{_COLORS[d.severity]}{severity}{_RESET}"
        lines.append(f"{d.file}:{d.line}:{d.column}: {severity} {d.rule}: {d.message}")
        if d.hint:
            hint = f"  hint: {d.hint}"
            lines.append(f"{_DIM}{hint}{_RESET}" if color else hint)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
