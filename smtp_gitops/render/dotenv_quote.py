"""Quoting a value for a ``.env`` file that bash (``set -a; . file``) and python-dotenv
(``dotenv_values``) both read back byte for byte, with nothing expanded or executed.

The two disagree on most escapes, so each value takes the first form both read alike:

- bare, for plain words (``smtp.example.com``, ``587``, ``portal@example.com``);
- single quotes, which bash takes literally; python-dotenv decodes only ``\\\\`` and ``\\'`` in
  them, so the value may hold no ``'``, no ``\\\\`` and may not end in ``\\``;
- double quotes with ``\\`` and ``"`` escaped, which both decode alike; bash still expands
  backticks and ``$`` before a name or bracket there, so the value may hold neither.

A value no form can carry is refused, with the reason and never the value: NUL (bash cannot
hold it), CR and LF (lines), ``${...}`` (python-dotenv expands it in every form), and a value
that needs double quotes but holds a backtick or an expanding ``$``.
"""

from __future__ import annotations

import re

_BARE = re.compile(r"[A-Za-z0-9@._+/:,-]+")
_DOTENV_VARIABLE = re.compile(r"\$\{[^}]*\}")
# In bash's double quotes, `$` before one of these starts an expansion; so does a backtick.
# Anything beyond ASCII is counted in too, as a locale may make it a name character.
_EXPANDS_AFTER_DOLLAR = re.compile(r"\$(?:[A-Za-z0-9_!#$(*\-?@\[{]|[^\x00-\x7f])")


class UnquotableValue(ValueError):
    """The value cannot be written safely; the message says why without quoting it."""


def quote(text: str) -> str:
    if "\0" in text:
        raise UnquotableValue("it holds a NUL character, which a shell variable cannot hold")
    if "\r" in text or "\n" in text:
        raise UnquotableValue("it holds a line break, which a .env line cannot carry")
    if _DOTENV_VARIABLE.search(text):
        raise UnquotableValue("it holds `${...}`, which python-dotenv would expand")
    if _BARE.fullmatch(text):
        return text
    if "'" not in text and "\\\\" not in text and not text.endswith("\\"):
        return f"'{text}'"
    if "`" in text or _EXPANDS_AFTER_DOLLAR.search(text):
        raise UnquotableValue(
            "it holds a quote or backslash together with a backtick or `$`, "
            "which bash and python-dotenv cannot both read literally"
        )
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
