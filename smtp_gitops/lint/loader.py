"""Read one settings file into a located tree, refusing anything unsafe before it is parsed.

Parsing is the expensive step, so it runs in libyaml (through ruamel.yaml's C extension) when
that is installed and composes nodes only: nothing is constructed from tags, so a
``!!python/object`` tag can never run code. Scalars are resolved here with the YAML 1.2 core
schema (``yes``/``no``/``on`` stay strings).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from smtp_gitops.lint.prescan import Scan, scan
from smtp_gitops.lint.rules import duplicate_key, schema, unsafe_yaml, yaml_syntax
from smtp_gitops.lint.yaml_errors import plain_yaml_error
from smtp_gitops.settings.diagnostics import Capped, Diagnostic, Mark
from smtp_gitops.settings.redaction import SecretSpan, redact
from smtp_gitops.settings.yamlnodes import MapEntry, MapNode, Node, Scalar, ScalarNode, SeqNode

MAX_FILE_BYTES = 1024 * 1024
# Values reached again through aliases. The file size bounds everything written out once, so
# only re-visits can multiply a small file into a huge document ("billion laughs").
MAX_ALIAS_EXPANSION = 10_000
# The format nests six levels deep. Composing recurses (in C for libyaml, which crashes the
# process somewhere past 10,000 levels), so deeper files are refused before they are composed.
MAX_DEPTH = 64

_CORE = "tag:yaml.org,2002:"
_STR, _SEQ, _MAP = _CORE + "str", _CORE + "seq", _CORE + "map"
_TIMESTAMP = _CORE + "timestamp"  # YAML 1.1 resolvers tag dates; 1.2 reads them as strings
_SCALAR_TAGS = {_STR, _CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null", _TIMESTAMP}

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


def _pure_yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="base", pure=True)
    yaml.max_depth = MAX_DEPTH * 2
    return yaml


def _c_events(text: str) -> Iterator[Any]:
    from ruamel.yaml.cyaml import CParser  # type: ignore[attr-defined]
    from ruamel.yaml.events import StreamEndEvent

    parser = CParser(text)
    while True:
        event = parser.get_event()
        yield event
        if isinstance(event, StreamEndEvent):
            return


def prescan(text: str) -> Scan:
    """Depth and secret values from the parser's events, before anything is composed.

    libyaml reads YAML 1.1; when it stops on a document that YAML 1.2 allows, ruamel.yaml's
    pure parser (the one ``compose`` falls back to) has the last word.
    """
    try:
        scanned = scan(_c_events(text), MAX_DEPTH)
    except ImportError:  # pragma: no cover - the C extension is a declared dependency
        scanned = Scan(error=YAMLError())
    if scanned.error is not None:
        scanned = scan(iter(_pure_yaml().parse(text)), MAX_DEPTH)
    return scanned


def compose(text: str) -> Any:
    """Compose YAML nodes (with marks) without constructing any objects.

    Call it only on text that ``prescan`` found shallow enough: composing recurses.
    libyaml is ten times faster but speaks YAML 1.1, which rejects a few valid YAML 1.2
    documents (a URL in a flow list: ``[https://host/x]``); those are re-read by ruamel.yaml's
    YAML 1.2 parser, whose error is the one reported when both fail.
    """
    try:
        from ruamel.yaml.cyaml import CBaseLoader
    except ImportError:  # pragma: no cover - the C extension is a declared dependency
        return _pure_yaml().compose(text)
    try:
        return CBaseLoader(text).get_single_node()
    except MarkedYAMLError:
        return _pure_yaml().compose(text)


def resolve_plain(text: str) -> str | int | float | bool | None:
    """YAML 1.2 core-schema resolution of an unquoted scalar."""
    if _NULL.match(text):
        return None
    if _TRUE.match(text):
        return True
    if _FALSE.match(text):
        return False
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return float("-inf") if text.startswith("-") else float("inf")
    if _NAN.match(text):
        return float("nan")
    return text


@dataclass(slots=True)
class LoadedFile:
    path: str
    root: Node | None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # Where the values of secret keys are, so later diagnostics can keep them out of messages.
    secret_spans: list[SecretSpan] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.root is not None and not any(
            d.rule in {yaml_syntax.RULE.id, unsafe_yaml.RULE.id} for d in self.diagnostics
        )


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _mark(path: str, yaml_mark: Any) -> Mark:
    return Mark(path, yaml_mark.line + 1, yaml_mark.column + 1)


def _offset_mark(path: str, data: bytes, offset: int) -> Mark:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return Mark(path, data.count(b"\n", 0, offset) + 1, offset - line_start + 1)


class _Converter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[int] = set()
        self.repeats = 0
        self.found = Capped()  # a file of 100,000 repeated keys must not build 100,000 findings

    def convert(self, node: Any, depth: int = 0) -> Node:
        if id(node) in self.seen:
            self.repeats += 1
        else:
            self.seen.add(id(node))
        start, end = _mark(self.path, node.start_mark), _mark(self.path, node.end_mark)
        if self.repeats > MAX_ALIAS_EXPANSION:
            raise _Refused(
                unsafe_yaml.RULE.diagnostic(
                    start,
                    f"aliases repeat values more than {MAX_ALIAS_EXPANSION} times; "
                    "aliases that multiply like this are an alias bomb",
                )
            )
        if depth > MAX_DEPTH:
            raise _Refused(
                unsafe_yaml.RULE.diagnostic(start, f"nesting deeper than {MAX_DEPTH} levels")
            )
        tag = node.tag
        if tag == _MAP:
            return self._mapping(node, start, end, depth)
        if tag == _SEQ:
            return SeqNode(start, end, [self.convert(item, depth + 1) for item in node.value])
        if tag in _SCALAR_TAGS and isinstance(node.value, str):
            if tag == _TIMESTAMP or (tag == _STR and node.style not in ("", None)):
                return ScalarNode(node.value, start, end)
            return ScalarNode(self._resolve(node.value, start, end), start, end)
        raise _Refused(
            unsafe_yaml.RULE.diagnostic(
                start,
                f"tag {tag!r} is not part of the YAML core schema",
                hint="remove the tag; settings files use plain YAML values only",
            )
        )

    @staticmethod
    def _resolve(text: str, start: Mark, end: Mark) -> Scalar:
        try:
            return resolve_plain(text)
        except ValueError:
            # Python refuses to read decimal integers of more than 4,300 digits (converting
            # them takes quadratic time); no setting needs more than a handful.
            raise _Refused(
                schema.RULE.diagnostic(
                    start,
                    f"a number of {len(text)} digits is too long; no setting takes one",
                    end=end,
                )
            ) from None

    def _mapping(self, node: Any, start: Mark, end: Mark, depth: int) -> MapNode:
        result = MapNode(start, end)
        for key_node, value_node in node.value:
            key_mark = _mark(self.path, key_node.start_mark)
            if key_node.tag == _CORE + "merge" or (
                key_node.value == "<<" and key_node.style in ("", None)
            ):
                raise _Refused(
                    unsafe_yaml.RULE.diagnostic(
                        key_mark, "merge keys ('<<') are not part of YAML 1.2; write the keys out"
                    )
                )
            if key_node.tag not in _SCALAR_TAGS or not isinstance(key_node.value, str):
                self.found.add(
                    schema.RULE.diagnostic(key_mark, "mapping keys must be plain strings")
                )
                continue
            key = key_node.value
            value = self.convert(value_node, depth + 1)
            previous = result.entries.get(key)
            if previous is not None and not self.found.wants(key_mark):
                self.found.count(duplicate_key.RULE.id, duplicate_key.RULE.severity, key_mark)
            elif previous is not None:
                self.found.add(
                    duplicate_key.RULE.diagnostic(
                        key_mark,
                        f"key {key!r} is repeated (first at line {previous.key_mark.line}); "
                        "the later value is used",
                    )
                )
            result.entries[key] = MapEntry(key_mark, value)
        return result


def _too_large(path: str, size: int) -> LoadedFile:
    message = f"file is {size} bytes; the limit is {MAX_FILE_BYTES} (1 MiB)"
    return LoadedFile(path, None, [unsafe_yaml.RULE.diagnostic(Mark(path, 1, 1), message)])


def load_text(path: str, data: bytes) -> LoadedFile:
    """Parse ``data`` (the bytes of ``path``) into a located tree plus any diagnostics."""
    if len(data) > MAX_FILE_BYTES:
        return _too_large(path, len(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return LoadedFile(
            path,
            None,
            [
                unsafe_yaml.RULE.diagnostic(
                    _offset_mark(path, data, error.start),
                    f"file is not UTF-8 (byte 0x{data[error.start]:02x})",
                )
            ],
        )
    text = text.removeprefix("\ufeff")
    scanned = prescan(text)
    loaded = _parse(path, text, scanned)
    loaded.secret_spans = scanned.secret_spans
    loaded.diagnostics = redact(loaded.diagnostics, {path: scanned.secret_spans})
    return loaded


def _syntax_error(path: str, text: str, error: YAMLError) -> Diagnostic:
    if isinstance(error, ReaderError):  # a character YAML does not allow; placed by offset
        before = text[: error.position]
        mark = Mark(path, before.count("\n") + 1, len(before) - before.rfind("\n"))
        return yaml_syntax.RULE.diagnostic(mark, f"character not allowed in YAML: {error.reason}")
    if not isinstance(error, MarkedYAMLError):
        return yaml_syntax.RULE.diagnostic(Mark(path, 1, 1), str(error))
    yaml_mark = error.problem_mark or error.context_mark
    mark = _mark(path, yaml_mark) if yaml_mark is not None else Mark(path, 1, 1)
    context_line = error.context_mark.line + 1 if error.context_mark is not None else None
    plain = plain_yaml_error(error.context, error.problem or "invalid YAML", context_line)
    return yaml_syntax.RULE.diagnostic(mark, plain.message, hint=plain.hint)


def _parse(path: str, text: str, scanned: Scan) -> LoadedFile:
    start = Mark(path, 1, 1)
    if scanned.too_deep is not None:
        line, column = scanned.too_deep
        return LoadedFile(
            path,
            None,
            [
                unsafe_yaml.RULE.diagnostic(
                    Mark(path, line, column), f"nesting deeper than {MAX_DEPTH} levels"
                )
            ],
        )
    if scanned.error is not None:
        return LoadedFile(path, None, [_syntax_error(path, text, scanned.error)])
    try:
        composed = compose(text)
    except YAMLError as error:
        return LoadedFile(path, None, [_syntax_error(path, text, error)])
    if composed is None:
        return LoadedFile(
            path,
            None,
            [
                schema.RULE.diagnostic(
                    start,
                    "the file holds no YAML document",
                    hint="start from `smtp-gitops init ENV` or the example in the README",
                )
            ],
        )
    converter = _Converter(path)
    try:
        root = converter.convert(composed)
    except _Refused as refused:
        return LoadedFile(path, None, [refused.diagnostic])
    except RecursionError:
        return LoadedFile(path, None, [unsafe_yaml.RULE.diagnostic(start, "nesting too deep")])
    return LoadedFile(path, root, converter.found.result())


def load_file(path: str) -> LoadedFile:
    """Read and parse a file; raises OSError when it cannot be read at all."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        # Refuse by size before reading a huge file into memory.
        data = handle.read(MAX_FILE_BYTES + 1) if size > MAX_FILE_BYTES else handle.read()
    if size > MAX_FILE_BYTES:
        return _too_large(path, size)
    return load_text(path, data)
