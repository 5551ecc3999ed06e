"""The source line a diagnostic points at, with a caret under the column (as ruff and rustc
show it), for the text format.

A line that holds a secret value (or part of one) is never shown: the point of redacting
messages about passwords would be lost if the password were printed right under them.
"""

from __future__ import annotations

from collections.abc import Callable

from smtp_gitops.lint.loader import MAX_FILE_BYTES, prescan
from smtp_gitops.settings.bounded import UnsafeFile, read_regular_file
from smtp_gitops.settings.diagnostics import Diagnostic
from smtp_gitops.settings.discovery import escapes_repository
from smtp_gitops.settings.redaction import SecretSpan
from smtp_gitops.settings.untrusted_text import printable


class SourceLines:
    """Reads each file once, on demand; a file that cannot be read simply shows no excerpt.

    ``read`` reads a file where the check read it (git's index for ``validate --staged``), so
    the line shown is the line the finding is about; by default the disk is read.
    """

    def __init__(self, read: Callable[[str], bytes] | None = None) -> None:
        self._files: dict[str, tuple[list[str], list[SecretSpan]] | None] = {}
        self._reader = read

    def _read(self, path: str) -> tuple[list[str], list[SecretSpan]] | None:
        if path not in self._files:
            self._files[path] = None
            # Read as the validator reads: never through a link out of the repository (a pull
            # request could link /proc/self/environ and have the runner's secrets shown), and
            # only a regular file, never past the cap.
            if self._reader is None and escapes_repository(path):
                return None
            try:
                data = (
                    self._reader(path)
                    if self._reader is not None
                    else read_regular_file(path, MAX_FILE_BYTES)
                )
                if len(data) > MAX_FILE_BYTES:
                    return None
                text = data.decode("utf-8").removeprefix("\ufeff")
            except (OSError, UnsafeFile, UnicodeDecodeError):
                return None
            self._files[path] = (text.splitlines(), prescan(text).secret_spans)
        return self._files[path]

    def line(self, path: str, number: int) -> str | None:
        """Line ``number`` (1-based) of ``path``, or None when it is unknown or near a secret."""
        found = self._read(path)
        if found is None:
            return None
        lines, spans = found
        if not 1 <= number <= len(lines):
            return None
        for span in spans:
            if span.start[0] <= number and (span.end is None or number <= span.end[0]):
                return None
        return lines[number - 1]


MAX_EXCERPT_WIDTH = 120  # of the line and of the carets: a huge value is cut, not printed


def excerpt(diagnostic: Diagnostic, source: str, *, caret_color: str = "", reset: str = "") -> str:
    """Two lines: the source line, numbered, and a caret under the diagnostic's columns; both
    cut at ``MAX_EXCERPT_WIDTH`` (a 5,000-digit number shows its start, marked ``…``)."""
    number = str(diagnostic.line)
    shown = printable(source.replace("\t", " "))
    before = printable(source[: diagnostic.column - 1].replace("\t", " "))
    end = diagnostic.end
    width = 1
    if end is not None and end.line == diagnostic.line and end.column > diagnostic.column:
        width = len(printable(source[diagnostic.column - 1 : end.column - 1]))
    if len(shown) > MAX_EXCERPT_WIDTH:
        shown = shown[:MAX_EXCERPT_WIDTH] + "…"
    if len(before) >= MAX_EXCERPT_WIDTH:
        before, width = before[: MAX_EXCERPT_WIDTH - 1], 1
    width = min(width, MAX_EXCERPT_WIDTH - len(before))
    gutter = " " * len(number)
    return (
        f" {number} | {shown}\n"
        f" {gutter} | {' ' * len(before)}{caret_color}{'^' * max(width, 1)}{reset}"
    )
