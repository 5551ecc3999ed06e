"""Inline suppressions: ``# smtp-gitops: ignore[RULE, ...] -- reason`` in the YAML source.

A comment after YAML on a line covers that line; a comment on a line of its own covers the next
line that holds YAML (so several can be stacked above one line). The comments are found in the
text: only a ``#`` that starts a YAML comment counts, never one inside a quoted or block scalar,
which the YAML parser's own scalar positions tell apart. Ignores that have no reason, name an
unknown rule or suppress nothing become ``unused-ignore`` findings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from smtp_gitops.lint.rules import ALWAYS_ON, RULE_IDS, unused_ignore
from smtp_gitops.settings.diagnostics import Diagnostic, Mark
from smtp_gitops.settings.layout import base_file_for

MARKER = "smtp-gitops:"
_DIRECTIVE = re.compile(r"#\s*smtp-gitops:\s*(?P<body>.*)$")
_IGNORE = re.compile(r"ignore\[(?P<rules>[^\]]*)\]\s*(?P<rest>.*)$")
# A YAML comment starts with `#` at the start of a line or after white space.
_COMMENT_START = re.compile(r"(?:^|(?<=[ \t]))#")

# Findings after which the semantic rules did not run on the file: an ignore for one of those
# rules cannot be judged there, so it is not called unused.
_CHECKS_STOPPED = frozenset({"yaml-syntax", "unsafe-yaml", "schema", "unknown-key", "api-version"})

Position = tuple[int, int]  # 0-based line and column, as the YAML parser counts


@dataclass(frozen=True, slots=True)
class Ignore:
    """One ignore comment: where it is, the line it covers, and what it says."""

    mark: Mark
    end: Mark
    covers: int
    rules: tuple[str, ...]
    reason: str
    # The comment itself, malformed or not: a stable name for it that does not move with lines.
    text: str
    understood: bool = True


def _scalar_spans(text: str) -> list[tuple[Position, Position]] | None:
    """Where every scalar (keys included) is, from the parser's events; None if it fails.

    libyaml first, as the loader does; ruamel.yaml's YAML 1.2 parser for what libyaml rejects.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]

        return _spans(iter(CParser(text).get_event, None))
    except (YAMLError, ImportError):
        pass
    try:
        return _spans(YAML(typ="base", pure=True).parse(text))
    except YAMLError:
        return None


def _spans(events: Iterable[object]) -> list[tuple[Position, Position]]:
    from ruamel.yaml.events import ScalarEvent, StreamEndEvent

    spans = []
    for event in events:
        if isinstance(event, ScalarEvent):
            start, end = event.start_mark, event.end_mark
            spans.append(((start.line, start.column), (end.line, end.column)))
        elif isinstance(event, StreamEndEvent):
            break
    return spans


def _quotes_closed(before: str) -> bool:
    """Without the parser's help (the file does not parse): a `#` after an unclosed quote on
    its line may be inside a string, so it is not taken for a comment."""
    return before.count('"') % 2 == 0 and before.count("'") % 2 == 0


def _comment_start(line: str, number: int, spans: list[tuple[Position, Position]] | None) -> int:
    """The column (0-based) where the YAML comment on ``line`` starts, or -1."""
    for match in _COMMENT_START.finditer(line):
        column = match.start()
        if spans is None:
            if _quotes_closed(line[:column]):
                return column
            continue
        if not any(start <= (number, column) < end for start, end in spans):
            return column
    return -1


def _reason(rest: str) -> str:
    """The text after ``--``; anything else after the rule list is not a reason."""
    return rest[2:].strip() if rest.startswith("--") else ""


def _split_rules(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def find_ignores(path: str, text: str) -> list[Ignore]:
    """Every ignore comment in ``text`` (the contents of ``path``)."""
    if MARKER not in text:
        return []  # the common case: no comment needs finding
    lines = [line.rstrip("\r") for line in text.split("\n")]
    spans = _scalar_spans(text)
    found: list[Ignore] = []
    for number, line in enumerate(lines):
        if MARKER not in line:
            continue
        start = _comment_start(line, number, spans)
        directive = _DIRECTIVE.search(line, start) if start >= 0 else None
        if directive is None:
            continue
        column = directive.start()
        covers = number + 1 if line[:start].strip() else _next_yaml_line(lines, number)
        parsed = _IGNORE.match(directive.group("body").strip())
        found.append(
            Ignore(
                mark=Mark(path, number + 1, column + 1),
                end=Mark(path, number + 1, len(line) + 1),
                covers=covers,
                rules=_split_rules(parsed.group("rules")) if parsed else (),
                reason=_reason(parsed.group("rest")) if parsed else "",
                text=line[column:].strip(),
                understood=parsed is not None,
            )
        )
    return found


def _next_yaml_line(lines: list[str], number: int) -> int:
    """The 1-based number of the first line after ``number`` that holds more than a comment."""
    for following in range(number + 1, len(lines)):
        content = lines[following].strip()
        if content and not content.startswith("#"):
            return following + 1
    return number + 1


def apply_ignores(
    diagnostics: list[Diagnostic],
    ignores: list[Ignore],
    *,
    enabled: Callable[[str], bool],
    report_unused_in: set[str],
    files: Iterable[str] = (),
) -> list[Diagnostic]:
    """``diagnostics`` without the suppressed ones, plus an ``unused-ignore`` finding for each
    ignore (in a file of ``report_unused_in``) that is malformed, has no reason, names an
    unknown rule or suppressed nothing. ``enabled`` says which rules ran; ``files`` are all the
    files the run read, bases included."""
    covering: dict[tuple[str, int, str], Ignore] = {}
    for ignore in ignores:
        for rule_id in ignore.rules:
            if rule_id in RULE_IDS and rule_id not in ALWAYS_ON:
                covering.setdefault((ignore.mark.file, ignore.covers, rule_id), ignore)
    used: set[tuple[str, int, str]] = set()
    stopped = _rules_stopped(diagnostics, {*files, *(i.mark.file for i in ignores)})
    kept = []
    for diagnostic in diagnostics:
        key = (diagnostic.file, diagnostic.line, diagnostic.rule)
        if key in covering:
            used.add(key)
        else:
            kept.append(diagnostic)
    for ignore in ignores:
        if ignore.mark.file in report_unused_in:
            kept.extend(
                unused_ignore.RULE.diagnostic(
                    ignore.mark,
                    message,
                    hint=hint,
                    end=ignore.end,
                    where=f"{ignore.text}\0{problem}",
                )
                for problem, message, hint in _problems(
                    ignore, used, enabled, judged=ignore.mark.file not in stopped
                )
            )
    return kept


def _rules_stopped(diagnostics: list[Diagnostic], files: set[str]) -> set[str]:
    """Files whose semantic rules did not run in full.

    An environment is checked merged over its base, so an error that stops the checks in
    either stops them for both: the environment's rules never ran, and the base's lines were
    not looked at for that environment.
    """
    stopped = {d.file for d in diagnostics if d.rule in _CHECKS_STOPPED}
    bases = {file: base for file in files if (base := base_file_for(file)) is not None}
    stopped |= {file for file, base in bases.items() if base in stopped}
    stopped |= {base for file, base in bases.items() if file in stopped}
    return stopped


_FIX_RULE = "name a rule from `smtp-gitops validate --list-rules`"
_REMOVE = "remove the comment, or move it to the line of the finding it is meant for"


def _problems(
    ignore: Ignore,
    used: set[tuple[str, int, str]],
    enabled: Callable[[str], bool],
    *,
    judged: bool,
) -> Iterator[tuple[str, str, str]]:
    """What is wrong with ``ignore``: (a stable label, the message, a hint) for each problem."""
    if not ignore.understood:
        yield (
            "not-understood",
            "ignore comment not understood",
            "write `# smtp-gitops: ignore[RULE] -- reason`",
        )
        return
    if not ignore.rules:
        yield "no-rule", "ignore comment names no rule", _FIX_RULE
    if not ignore.reason:
        yield (
            "no-reason",
            "ignore comment has no reason",
            "say why after ` -- `, e.g. `ignore[RULE] -- backup stays on during the cut-over`",
        )
    for rule_id in ignore.rules:
        if rule_id not in RULE_IDS:
            yield f"unknown:{rule_id}", f"ignore names unknown rule {rule_id!r}", _FIX_RULE
        elif rule_id in ALWAYS_ON:
            yield (
                f"always-on:{rule_id}",
                f"{rule_id!r} cannot be ignored: a file with this error was not checked",
                "fix the file; remove the comment",
            )
        elif judged and enabled(rule_id) and (ignore.mark.file, ignore.covers, rule_id) not in used:
            yield (
                f"unused:{rule_id}",
                f"ignore[{rule_id}] suppresses nothing on line {ignore.covers}",
                _REMOVE,
            )


def _read_from_disk(path: str) -> bytes:
    from smtp_gitops.lint.loader import MAX_FILE_BYTES
    from smtp_gitops.settings.discovery import escapes_repository

    if escapes_repository(path):
        raise PermissionError(path)
    with open(path, "rb") as handle:
        return handle.read(MAX_FILE_BYTES + 1)


def read_ignores(
    paths: Iterable[str], read: Callable[[str], bytes] = _read_from_disk
) -> list[Ignore]:
    """The ignore comments of the settings files ``paths``, read again (from the disk, or
    with ``read`` from where the validator read them: git's index).

    Files the validator refused to read (a link out of the repository, too large, not UTF-8)
    are skipped: their only findings are the ones that cannot be ignored.
    """
    from smtp_gitops.lint.loader import MAX_FILE_BYTES

    found: list[Ignore] = []
    for path in paths:
        try:
            data = read(path)
        except OSError:
            continue
        if len(data) > MAX_FILE_BYTES or MARKER.encode() not in data:
            continue
        try:
            text = data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            continue
        found += find_ignores(path, text)
    return found


def without_suppressed(
    diagnostics: list[Diagnostic], read: Callable[[str], bytes] | None = None
) -> list[Diagnostic]:
    """``diagnostics`` less those an ignore comment suppresses, for the commands that validate
    on the way (render, deploy, plan): they honour the same comments, and leave judging the
    comments themselves to ``validate``. ``read`` reads the files where they were checked."""
    if not diagnostics:
        return diagnostics
    files = dict.fromkeys(d.file for d in diagnostics)
    ignores = read_ignores(files, read) if read else read_ignores(files)
    return apply_ignores(diagnostics, ignores, enabled=lambda _rule: True, report_unused_in=set())
