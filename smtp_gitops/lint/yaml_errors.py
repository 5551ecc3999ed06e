"""The YAML parser's errors in plain words.

libyaml speaks in parser states ("expected <block end>, but found '<block mapping start>'"),
which tells a newcomer nothing about what to change. The common errors are almost always an
indentation slip, a missing ``:`` or an unclosed bracket or quote, so each is told as that,
with the line the enclosing block started on.
"""

from __future__ import annotations

from dataclasses import dataclass

# libyaml's token names, for the errors no sentence below covers.
_TOKENS = {
    "<block end>": "the end of the block",
    "<block mapping start>": "a more indented `key: value`",
    "<block sequence start>": "a list item (`-`)",
    "<stream end>": "the end of the file",
    "<scalar>": "a value",
    "<document start>": "`---`",
    "<flow mapping start>": "`{`",
    "<flow sequence start>": "`[`",
}

_INDENTATION_HINT = "keys of one mapping start in the same column; indent with spaces only"


@dataclass(frozen=True, slots=True)
class PlainError:
    message: str
    hint: str | None = None


def _started(context_line: int | None, what: str) -> str:
    return f" (the {what} started on line {context_line})" if context_line else ""


def _plain_tokens(text: str) -> str:
    for token, words in _TOKENS.items():
        text = text.replace(f"'{token}'", words).replace(token, words)
    return text


def plain_yaml_error(context: str | None, problem: str, context_line: int | None) -> PlainError:
    """``context``/``problem`` as libyaml words them; ``context_line`` is 1-based."""
    context = context or ""
    if problem.startswith("expected <block end>") and "block" in context:
        found = problem.partition("but found ")[2].strip("'")
        what = "mapping" if "mapping" in context else "list"
        if found in {"-", "<block sequence start>"}:
            return PlainError(
                f"a list item (`-`) is not lined up with the {what} around it"
                + _started(context_line, what),
                hint="items of one list start in the same column, and a list under a key is "
                "indented at least as far as the key",
            )
        return PlainError(
            f"this line is indented differently from the {what} it belongs to"
            + _started(context_line, what),
            hint=_INDENTATION_HINT,
        )
    if problem == "mapping values are not allowed here":
        return PlainError(
            "a `:` here would start a mapping where none can start: this line is indented "
            "too far, or a value contains `: `",
            hint="line the key up with the keys above it, or quote the value (`template: 'a: b'`)",
        )
    if problem == "could not find expected ':'":
        return PlainError(
            "a key without `:`" + _started(context_line, "key"),
            hint="write `key: value`, or continue a list with `- `",
        )
    if "cannot start any token" in problem and "'\\t'" in problem:
        return PlainError(
            "a tab character; YAML is indented with spaces only",
            hint="replace the tabs with spaces (most editors can do this for the file)",
        )
    if "cannot start any token" in problem:
        character = problem.partition("found character ")[2].partition(" that")[0]
        return PlainError(
            f"a value cannot start with {character}",
            hint="quote the value: `key: '...'`",
        )
    if problem.startswith("expected ',' or '}'") or problem.startswith("expected ',' or ']'"):
        closing = "}" if "}" in problem else "]"
        return PlainError(
            f"a `{'{' if closing == '}' else '['}` is not closed with `{closing}`, or two of its "
            "entries have no `,` between them" + _started(context_line, "bracket"),
            hint=f"add the missing `{closing}` or `,`",
        )
    if context == "while scanning a quoted scalar":
        return PlainError(
            "a quoted value is never closed" + _started(context_line, "quote"),
            hint="end the value with the same quote it starts with",
        )
    if context.startswith("expected a single document"):
        return PlainError(
            "the file holds more than one YAML document (a second `---`)",
            hint="keep one document per file; an environment is one file",
        )
    if problem.startswith("expected the node content"):
        return PlainError(
            "a value is missing here" + _started(context_line, "entry"),
            hint="write a value after the `:`, `-`, `[` or `,`, or close the bracket",
        )
    # The context ("while parsing a block mapping") names a parser state; the line it started
    # on is the useful part of it.
    return PlainError(_plain_tokens(problem) + _started(context_line, "enclosing block"))
