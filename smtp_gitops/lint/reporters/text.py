"""``path:line:col: severity rule: message``, the source line with a caret under the column,
a hint line, and a summary. Every command prints diagnostics through this one formatter."""

from __future__ import annotations

from collections.abc import Iterable

from smtp_gitops.lint.reporters.excerpt import SourceLines, excerpt
from smtp_gitops.settings.diagnostics import Diagnostic, Report, Severity
from smtp_gitops.settings.untrusted_text import printable

_COLORS = {Severity.ERROR: "\033[31m", Severity.WARNING: "\033[33m"}
_DIM, _RESET = "\033[2m", "\033[0m"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(report: Report) -> str:
    return (
        f"{_plural(len(report.files), 'file')} checked: "
        f"{_plural(report.errors, 'error')}, {_plural(report.warnings, 'warning')}"
    )


def format_diagnostics(
    diagnostics: Iterable[Diagnostic], *, color: bool, sources: SourceLines | None = None
) -> str:
    """The diagnostics alone, each ending in a newline (no summary); excerpts come from
    ``sources`` (default: the files on disk)."""
    sources = sources or SourceLines()
    lines = []
    for d in diagnostics:
        severity = d.severity.value
        shade = _COLORS[d.severity] if color else ""
        reset = _RESET if color else ""
        # A path, a key or a value quoted from a pull request is shown inert: a line break in it
        # would start a line of its own, which CI logs read as a command (`::error ...`).
        lines.append(
            f"{printable(d.file)}:{d.line}:{d.column}: {shade}{severity}{reset} {d.rule}: "
            f"{printable(d.message)}"
        )
        source = sources.line(d.file, d.line)
        if source is not None:
            lines.append(excerpt(d, source, caret_color=shade, reset=reset))
        if d.hint:
            hint = f"  hint: {printable(d.hint)}"
            lines.append(f"{_DIM}{hint}{_RESET}" if color else hint)
    return "".join(line + "\n" for line in lines)


def format(report: Report, *, color: bool, sources: SourceLines | None = None) -> str:
    return (
        format_diagnostics(report.diagnostics, color=color, sources=sources)
        + summary(report)
        + "\n"
    )
