"""``migrate``: rewrite v1 settings files as v2, changing only what v2 spells differently.

The edits are made in the file's own text at the places the YAML parser located: ``apiVersion``
becomes ``smtp-gitops/v2``, each set's ``password: X`` becomes ``auth:`` with ``password: X``
nested under it (block style, its comment kept on its line), and the editor modeline points at
the v2 schema of the file's role (the overlay one for a base and the files merged over it).
Everything else (comments, key order, quoting, blank lines, line endings) is left byte for
byte, which a parse-and-re-emit round trip cannot promise. The result is parsed again and must
hold exactly the v1 data moved into v2's shape, or the file is left alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
from dataclasses import dataclass

from smtp_gitops.lint.loader import load_text
from smtp_gitops.lint.suppressions import Ignore, find_ignores
from smtp_gitops.settings.discovery import discover, escapes_repository
from smtp_gitops.settings.layout import base_file_for, is_overlay
from smtp_gitops.settings.model import API_VERSION, API_VERSION_V2
from smtp_gitops.settings.schema import schema_file_name
from smtp_gitops.settings.yamlnodes import MapNode, Node, ScalarNode, SeqNode, to_plain

BOM = "\ufeff"
_MODELINE = re.compile(
    r"^(#\s*yaml-language-server:\s*\$schema=\S*)smtp-settings\.v1(?:\.overlay)?\.schema\.json"
)


class MigrationError(Exception):
    """A file that cannot be migrated safely; the message says why."""


@dataclass(frozen=True, slots=True)
class Migration:
    path: str
    before: bytes
    after: bytes

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _is_blank_or_deeper(line: str, column: int) -> bool:
    """A line that still belongs to a value whose key starts at ``column`` (0-based)."""
    stripped = line.strip()
    return not stripped or _indent(line) > column


class _TextEdits:
    """The file as lines; edits are applied from the bottom up so marks stay valid."""

    def __init__(self, text: str, ignores: list[Ignore]) -> None:
        self.newline = "\r\n" if "\r\n" in text else "\n"
        self.lines = text.split("\n")
        # (key line, key column, value end line, value end column), all 0-based
        self._pending: list[tuple[int, int, int, int]] = []
        # Ignore comments on lines of their own, by the 0-based line they cover.
        self._above: dict[int, list[Ignore]] = {}
        for ignore in ignores:
            if ignore.understood and ignore.mark.line < ignore.covers:
                self._above.setdefault(ignore.covers - 1, []).append(ignore)

    def nest_under_auth(self, line: int, column: int, end_line: int, end_column: int) -> None:
        self._pending.append((line, column, end_line, end_column))

    def apply(self) -> str:
        for line, column, end_line, end_column in sorted(self._pending, reverse=True):
            self._nest(line, column, end_line, end_column)
        return "\n".join(self.lines)

    def _move_ignores_above(self, line: int, column: int) -> None:
        """Own-line ignores above a block `password:` line (``line`` is now `auth:`) cover
        `auth:` once it is nested; those for findings v2 reports on the password move down to
        stay above it, and a comment left with no rule is removed."""
        cr = "\r" if self.newline == "\r\n" else ""
        moved: list[str] = []
        for ignore in sorted(self._above.get(line, []), key=lambda i: i.mark.line, reverse=True):
            staying = [rule for rule in ignore.rules if rule in _REPORTED_ON_AUTH]
            moving = [rule for rule in ignore.rules if rule not in _REPORTED_ON_AUTH]
            if not moving:
                continue
            at = ignore.mark.line - 1
            start = ignore.mark.column - 1
            if staying:
                self.lines[at] = self.lines[at][:start] + _ignore_comment(staying, ignore) + cr
            else:
                del self.lines[at]
                line -= 1
            moved.insert(0, " " * (column + 2) + _ignore_comment(moving, ignore) + cr)
        self.lines[line + 1 : line + 1] = moved

    def _nest(self, line: int, column: int, end_line: int, end_column: int) -> None:
        text = self.lines[line]
        prefix = text[:column]
        if prefix.strip(" -") == "":
            # Block style: `password:` opens its line; move it (and its value's continuation
            # lines) two spaces deeper under a new `auth:` key.
            following = line + 1
            while following < len(self.lines) and _is_blank_or_deeper(
                self.lines[following], column
            ):
                following += 1
            # Trailing blank lines belong to what follows, not to the value.
            while following > line + 1 and not self.lines[following - 1].strip(" \r"):
                following -= 1
            for index in range(line + 1, following):
                if self.lines[index].strip(" \r"):
                    self.lines[index] = "  " + self.lines[index]
            cr = "\r" if self.newline == "\r\n" else ""
            kept, moved = _split_ignore(text[column:].rstrip("\r"))
            self.lines[line] = f"{prefix}auth:{moved}{cr}"
            self.lines.insert(line + 1, " " * (column + 2) + kept + cr)
            self._move_ignores_above(line, column)
            return
        # Flow style (`- {name: a, password: {...}}`): wrap the entry in `auth: {...}`.
        closing = self.lines[end_line]
        self.lines[end_line] = closing[:end_column] + "}" + closing[end_column:]
        opening = self.lines[line]
        self.lines[line] = opening[:column] + "auth: {" + opening[column:]


# Findings v1 reports on a set's `password:` line that v2 reports on its `auth:` line: an
# ignore for them at the end of the password line moves up with them.
_REPORTED_ON_AUTH = frozenset({"credentials-ignored"})
_TRAILING_IGNORE = re.compile(
    r"(?P<space>[ \t]+)#\s*smtp-gitops:\s*ignore\[(?P<rules>[^\]]*)\](?P<rest>.*)$"
)


def _ignore_comment(rules: list[str], ignore: Ignore) -> str:
    reason = f" -- {ignore.reason}" if ignore.reason else ""
    return f"# smtp-gitops: ignore[{', '.join(rules)}]{reason}"


def _split_ignore(password_line: str) -> tuple[str, str]:
    """The password line without the ignores that must move, and the comment that carries
    them to the `auth:` line (empty when none moves)."""
    found = _TRAILING_IGNORE.search(password_line)
    if found is None:
        return password_line, ""
    rules = [rule.strip() for rule in found.group("rules").split(",") if rule.strip()]
    moving = [rule for rule in rules if rule in _REPORTED_ON_AUTH]
    if not moving:
        return password_line, ""
    staying = [rule for rule in rules if rule not in _REPORTED_ON_AUTH]
    rest = found.group("rest")
    moved = f"{found.group('space')}# smtp-gitops: ignore[{', '.join(moving)}]{rest}"
    head = password_line[: found.start()]
    if staying:
        head += f"{found.group('space')}# smtp-gitops: ignore[{', '.join(staying)}]{rest}"
    return head, moved


def _entry(node: Node | None, key: str) -> tuple[Node, int, int] | None:
    if isinstance(node, MapNode) and key in node.entries:
        entry = node.entries[key]
        return entry.value, entry.key_mark.line - 1, entry.key_mark.column - 1
    return None


def _nest_password(item: object) -> object:
    if not (isinstance(item, dict) and "password" in item):
        return item
    return {
        ("auth" if key == "password" else key): (
            {"password": value} if key == "password" else value
        )
        for key, value in item.items()
    }


def _expected_v2(document: object) -> object:
    """The v1 data as v2 holds it: what the migrated file must parse to."""
    if not isinstance(document, dict):
        return document
    result = dict(document)
    result["apiVersion"] = API_VERSION_V2
    spec = result.get("spec")
    if isinstance(spec, dict) and isinstance(spec.get("sets"), list):
        sets = [_nest_password(item) for item in spec["sets"]]
        result["spec"] = {**spec, "sets": sets}
    return result


def migrate_text(path: str, data: bytes) -> bytes:
    """The v2 form of a v1 file (the same bytes for a v2 file)."""
    if b"\r" in data and b"\n" not in data:
        # Lines ended by CR alone (YAML reads them as line breaks): edited as \n, written back
        # as they were.
        return migrate_text(path, data.replace(b"\r", b"\n")).replace(b"\n", b"\r")
    loaded = load_text(path, data)
    if not loaded.ok or loaded.root is None or loaded.diagnostics:
        first = loaded.diagnostics[0] if loaded.diagnostics else None
        reason = f"{first.rule} at line {first.line}: {first.message}" if first else "not YAML"
        raise MigrationError(f"{path}: cannot migrate a file with errors ({reason})")
    root = loaded.root
    version = _entry(root, "apiVersion")
    if version is None or not isinstance(version[0], ScalarNode):
        raise MigrationError(f"{path}: no apiVersion; only smtp-gitops/v1 files are migrated")
    if version[0].value == API_VERSION_V2:
        return data
    if version[0].value != API_VERSION:
        raise MigrationError(f"{path}: apiVersion {version[0].value!r} is not {API_VERSION!r}")
    text = data.decode("utf-8")
    bom = BOM if text.startswith(BOM) else ""
    body = text.removeprefix(BOM)
    edits = _TextEdits(body, find_ignores(path, body))
    spec = _entry(root, "spec")
    sets = _entry(spec[0] if spec else None, "sets")
    for item in sets[0].items if sets and isinstance(sets[0], SeqNode) else []:
        password = _entry(item, "password")
        if password is not None:
            value, line, column = password
            edits.nest_under_auth(line, column, value.end.line - 1, value.end.column - 1)
    lines = edits.apply().split("\n")
    value_node = version[0]
    at = value_node.mark.line - 1
    lines[at] = lines[at][: value_node.mark.column - 1] + lines[at][
        value_node.mark.column - 1 :
    ].replace(API_VERSION, API_VERSION_V2, 1)
    schema = schema_file_name("v2", overlay=is_overlay(path))
    for index, comment in enumerate(lines):
        if not comment.startswith("#"):
            break  # the modeline sits in the leading comment block
        lines[index] = _MODELINE.sub(lambda found: found.group(1) + schema, comment)
    migrated = (bom + "\n".join(lines)).encode("utf-8")
    check = load_text(path, migrated)
    if check.root is None or to_plain(check.root) != _expected_v2(to_plain(root)):
        raise MigrationError(f"{path}: cannot migrate this layout safely; edit it by hand")
    return migrated


def files_to_migrate(paths: list[str]) -> tuple[list[str], list[str]]:
    """The files named (folders searched), each with its base and the base's other
    environments: they must share one apiVersion, so they move together."""
    found = discover(paths)
    files: dict[str, str] = {}
    for path in found.files:
        files.setdefault(os.path.realpath(path), path)
        base = base_file_for(path)
        if base is not None:
            for member in discover([base]).files:
                files.setdefault(os.path.realpath(member), member)
    return sorted(files.values()), [str(problem) for problem in found.problems]


def migrate_file(path: str) -> Migration:
    if escapes_repository(path):
        raise MigrationError(f"{path}: symbolic link points outside the repository")
    try:
        with open(path, "rb") as handle:
            before = handle.read()
    except OSError as error:
        raise MigrationError(f"cannot read {path}: {error.strerror or error}") from None
    return Migration(path, before, migrate_text(path, before))


JOURNAL_NAME = ".smtp-gitops-migrate.journal"
STAGED_SUFFIX = ".smtp-gitops-migrate.new"


def journal_path(paths: list[str]) -> str:
    """Where a migration of ``paths`` keeps its journal: the folder that holds them all."""
    folders = [os.path.dirname(os.path.realpath(path)) for path in paths]
    common = os.path.commonpath(folders) if folders else os.getcwd()
    # Beside the environments' folders (the settings root), not inside one of them.
    root = os.path.dirname(common) if len(set(folders)) == 1 else common
    return os.path.join(root, JOURNAL_NAME)


def finish_interrupted(journal: str) -> list[str]:
    """Finish a migration that was stopped while it replaced its files: every file it had
    staged (each complete and checked) is moved into place. Returns the files finished."""
    try:
        with open(journal, "rb") as handle:
            entries = json.loads(handle.read(1024 * 1024))["files"]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as error:
        raise MigrationError(
            f"{journal} is unreadable ({type(error).__name__}); remove it "
            "after checking the files it names"
        ) from None
    finished = []
    for target, staged in entries:
        if os.path.exists(staged):
            os.replace(staged, target)
            finished.append(str(target))
    os.unlink(journal)
    return finished


def write_migrations(migrations: list[Migration], journal: str) -> None:
    """Replace every file, all or nothing.

    Every new file is staged beside its target first (a failure there removes them all and
    changes nothing); then a journal names them, and they are moved into place. A run stopped
    while moving (even by SIGKILL) leaves the journal, and the next run finishes the moves
    (``finish_interrupted``) before anything else.
    """
    from smtp_gitops.render.files import write_atomic

    staged: list[tuple[str, str]] = []
    try:
        for migration in migrations:
            target = os.path.realpath(migration.path)
            mode = stat.S_IMODE(os.stat(target).st_mode)
            temporary = target + STAGED_SUFFIX
            write_atomic(temporary, migration.after, mode=mode)
            staged.append((target, temporary))
    except OSError as error:
        for _target, temporary in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
        raise MigrationError(
            f"cannot stage {migration.path}: {error.strerror or error}; nothing was changed"
        ) from None
    write_atomic(journal, json.dumps({"files": staged}).encode("utf-8"), mode=0o644)
    for target, temporary in staged:
        os.replace(temporary, target)
    os.unlink(journal)
