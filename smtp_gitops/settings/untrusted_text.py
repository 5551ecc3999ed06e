"""Showing text from a pull request (names, hosts, paths, addresses) as inert text.

``plan`` prints values a pull request chose, on a terminal and in a pull-request comment. On a
terminal an escape sequence could rewrite the screen; in a comment, Markdown and HTML could
forge headings, hide content in ``<details>`` or ``<!-- -->``, load images or notify people
with ``@mentions``. Everyday values (hosts, ports, addresses, URLs) come out unchanged.
"""

from __future__ import annotations

import re
import unicodedata

# Controls (ESC, CR, LF, DEL, C1), invisible formatting (bidi overrides, zero widths) and line
# or paragraph separators: shown as escapes, never passed through.
_HIDDEN_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
_ZERO_WIDTH_SPACE = "\u200b"
# Characters GitHub's Markdown gives a meaning to inside a line of text (`$` starts math).
_MARKDOWN_PUNCTUATION = re.compile(r"[\\`*\[\]~|$]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control or invisible character written as an escape (``\\x1b``)."""
    return "".join(
        _escape(char) if unicodedata.category(char) in _HIDDEN_CATEGORIES else char for char in text
    )


def _word_char(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index].isascii() and text[index].isalnum()


def markdown_text(text: str) -> str:
    """``text`` for a Markdown line or table cell, rendered literally: no HTML, links,
    emphasis, code, mentions or issue references, and no ``|`` ending a table cell."""
    shown = printable(text)
    out: list[str] = []
    for index, char in enumerate(shown):
        if char in _HTML:
            out.append(_HTML[char])
        elif _MARKDOWN_PUNCTUATION.fullmatch(char):
            out.append("\\" + char)
        elif char == "_" and not (_word_char(shown, index - 1) and _word_char(shown, index + 1)):
            out.append("\\_")  # inside a word `_` cannot start emphasis, so names stay as typed
        elif char == "@" and not _word_char(shown, index - 1):
            out.append("@" + _ZERO_WIDTH_SPACE)  # `@name` would notify; `user@host` would not
        elif char == "#" and shown[index + 1 : index + 2].isdigit():
            out.append("#" + _ZERO_WIDTH_SPACE)  # `#12` would link (and ping) an issue
        else:
            out.append(char)
    return "".join(out)


def markdown_code(text: str, *, in_table: bool = False) -> str:
    """``text`` as a Markdown code span: a fence longer than any run of backticks inside, and
    ``|`` escaped in a table cell (GitHub splits cells before it reads code spans)."""
    shown = printable(text)
    if not shown:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side keeps a backtick at the edge apart from the fence; CommonMark
    # strips exactly one such space from each side again.
    padded = f" {shown} " if shown[0] in "` " or shown[-1] in "` " else shown
    if shown.strip(" ") == "":
        padded = shown
    if in_table:
        padded = padded.replace("|", "\\|")
    return f"{fence}{padded}{fence}"
