"""Plan: what each environment's rendered config would change between a git revision and the
work tree, field by field, with secrets shown only as their references."""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import posixpath
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smtp_gitops.lint.loader import MAX_FILE_BYTES
from smtp_gitops.lint.validator import UnreadableFile, Validator
from smtp_gitops.plan.plan_scope import ChangeScope
from smtp_gitops.render.render import (
    BUILTIN_TEMPLATES,
    builtin_source,
    portal_set,
    template_context,
)
from smtp_gitops.render.template_files import (
    MAX_TEMPLATE_BYTES,
    TemplateRefused,
    read_template_bytes,
)
from smtp_gitops.settings.diagnostics import error_count
from smtp_gitops.settings.discovery import repository_of
from smtp_gitops.settings.layout import DEFAULT_ROOT, environments, environments_in
from smtp_gitops.settings.model import SecretFromEnv, Settings, SmtpSettingsFileV2
from smtp_gitops.settings.untrusted_text import markdown_code, markdown_text, printable

ABSENT = "—"


class PlanError(Exception):
    """git or the revision is unusable: a usage error (exit 2)."""


def _git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=30, check=False)
    except FileNotFoundError:
        raise PlanError("git is not installed") from None


def default_base() -> str:
    has_origin = _git("rev-parse", "--verify", "--quiet", "origin/main^{commit}").returncode == 0
    return "origin/main" if has_origin else "HEAD"


MAX_LINK_HOPS = 8


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One file of a git tree: mode (``120000`` for a symbolic link), object id and size."""

    mode: bytes
    kind: bytes
    object_id: bytes
    size: int

    @property
    def is_link(self) -> bool:
        return self.mode == b"120000"


def _tree_entries(listing: bytes) -> dict[str, TreeEntry]:
    """``git ls-tree -z -l`` output by path."""
    entries = {}
    for line in listing.split(b"\0"):
        if not line:
            continue
        info, path = line.split(b"\t", 1)
        mode, kind, object_id, size = info.split()
        entries[path.decode(errors="surrogateescape")] = TreeEntry(
            mode, kind, object_id, int(size) if size != b"-" else 0
        )
    return entries


class GitRevision:
    """Settings files as they are at a git revision (paths relative to the working directory).

    The files under the settings root are listed once (with mode and size); blobs are read
    through one ``git cat-file --batch`` process, not a process per file. A symbolic link
    stored in the revision is followed only while it stays inside the repository, the rule the
    work tree's files obey too. ``close()`` ends the reader.
    """

    def __init__(self, ref: str, root: str) -> None:
        if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
            raise PlanError("not inside a git work tree: plan compares against a git revision")
        if _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
            raise PlanError(f"unknown git revision {ref!r}")
        self.ref = ref
        self.prefix = _git("rev-parse", "--show-prefix").stdout.decode().strip()
        # -z: paths as they are, not C-quoted (a folder name may hold anything)
        listing = _git("ls-tree", "-r", "-z", "-l", "--full-tree", ref, "--", self.in_tree(root))
        self._entries = _tree_entries(listing.stdout)
        self.files = {
            os.path.normpath(posixpath.relpath(path, self.prefix or ".")) for path in self._entries
        }
        self._reader: subprocess.Popen[bytes] | None = None

    def in_tree(self, path: str) -> str:
        """``path`` (relative to the working directory) relative to the repository's top."""
        return posixpath.normpath(posixpath.join(self.prefix, path))

    def entry(self, in_tree: str) -> TreeEntry | None:
        """The file at ``in_tree`` (relative to the repository's top), if the revision has one."""
        if in_tree in self._entries:
            return self._entries[in_tree]
        # Outside the listed root (a template, a link's target): ask git for this one path.
        listed = _git("ls-tree", "-z", "-l", "--full-tree", self.ref, "--", in_tree).stdout
        return _tree_entries(listed).get(in_tree)

    def read(self, path: str) -> bytes:
        return self._read_in_tree(self.in_tree(path))

    def read_template(self, path: str) -> bytes:
        """A user template at the revision, under the rules ``template_files`` applies."""
        in_tree = self.in_tree(path)
        if posixpath.isabs(path) or in_tree.split("/")[0] == os.pardir:
            raise TemplateRefused(f"template {path!r} is outside the repository")
        return self._read_in_tree(in_tree, limit=MAX_TEMPLATE_BYTES)

    def _read_in_tree(self, path: str, hops: int = 0, limit: int = MAX_FILE_BYTES) -> bytes:
        """The blob at ``path`` (relative to the repository's top), links followed inside."""
        found = self.entry(path)
        if found is None:
            raise FileNotFoundError(2, f"not in {self.ref}", path)
        if found.kind != b"blob":
            raise IsADirectoryError(errno.EISDIR, f"not a file at {self.ref}", path)
        if not found.is_link and found.size > limit:
            # Refused before git hands the whole blob over.
            raise OSError(errno.EFBIG, f"over {limit} bytes at {self.ref}", path)
        data = self._blob(found, path)
        if not found.is_link:
            return data
        target = posixpath.normpath(
            posixpath.join(posixpath.dirname(path), data.decode(errors="replace"))
        )
        if posixpath.isabs(target) or target.split("/")[0] == os.pardir or hops >= MAX_LINK_HOPS:
            raise OSError(errno.EPERM, "symbolic link points outside the repository", path)
        return self._read_in_tree(target, hops + 1, limit)

    def _blob(self, found: TreeEntry, path: str) -> bytes:
        if self._reader is None:
            try:
                self._reader = subprocess.Popen(
                    ["git", "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
                )
            except FileNotFoundError:
                raise PlanError("git is not installed") from None
        assert self._reader.stdin is not None and self._reader.stdout is not None
        self._reader.stdin.write(found.object_id + b"\n")
        self._reader.stdin.flush()
        header = self._reader.stdout.readline().split()
        if len(header) != 3 or header[1] != b"blob" or int(header[2]) != found.size:
            raise OSError(errno.EIO, f"git cat-file answered {header!r}", path)
        data = self._reader.stdout.read(found.size + 1)  # the blob and a newline
        return data[:-1]

    def close(self) -> None:
        if self._reader is not None:
            assert self._reader.stdin is not None and self._reader.stdout is not None
            self._reader.stdin.close()
            self._reader.stdout.close()
            self._reader.wait(timeout=30)
            self._reader = None

    def exists(self, path: str) -> bool:
        return os.path.normpath(path) in self.files


def _git_paths(*args: str) -> set[str]:
    done = _git(*args)
    if done.returncode != 0:
        raise PlanError(f"git {args[0]} failed: {done.stderr.decode(errors='replace').strip()}")
    return {path for path in done.stdout.decode(errors="surrogateescape").split("\0") if path}


def changed_files(ref: str) -> set[str]:
    """Files (relative to the repository's top) that differ between ``ref`` and the work
    tree: changed, added, deleted, or untracked and not ignored."""
    # Both sides of a rename, and the whole repository whatever the folder or configuration.
    diff = ("diff", "--name-only", "-z", "--no-renames", "--no-relative", ref, "--")
    untracked = ("ls-files", "--others", "--exclude-standard", "--full-name", "-z", "--", ":/")
    return _git_paths(*diff) | _git_paths(*untracked)


def _reference(password: object) -> str | None:
    """How a secret is supplied, never its value."""
    if password is None:
        return None
    if isinstance(password, SecretFromEnv):
        return f"env:{password.fromEnv}"
    if isinstance(password, str):
        return "*** (literal)"
    return f"file:{getattr(password, 'fromFile', '?')}"


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def template_digest(template: str, read_template: Callable[[str], bytes]) -> str:
    """What the template's bytes are, so that a change to the template alone shows.

    Templates hold no secrets (those are resolved at render time), so a plain digest is fine.
    """
    try:
        data = (
            builtin_source(template).encode("utf-8")
            if template in BUILTIN_TEMPLATES
            else read_template(template)
        )
    except (TemplateRefused, OSError):
        return "unreadable"
    return "sha256:" + hashlib.sha256(data).hexdigest()[:12]


def flatten(settings: Settings, read_template: Callable[[str], bytes]) -> dict[str, str]:
    """The rendered portal config as ``field -> value``, sets keyed by name (not position)."""
    references = {s.name: _reference(s.secret) for s in settings.sets()}
    context = template_context(settings, references)
    fields: dict[str, str] = {"production": _cell(settings.metadata.production)}
    for data in context["sets"]:
        portal = portal_set(data)
        name = portal.pop("Name")
        emails = portal.pop("ReportEmails")
        portal["ReportEmails"] = ", ".join(
            f"{r['Email']}{'' if r['Enabled'] else ' (disabled)'}" for r in emails
        )
        for key, value in portal.items():
            if isinstance(value, dict):  # v2 `OAuth2`: one row per field
                fields.update({f"sets.{name}.{key}.{k}": _cell(v) for k, v in value.items()})
            else:
                fields[f"sets.{name}.{key}"] = _cell(value)
    render = settings.spec.render
    fields["render.template"] = render.template
    fields["render.templateDigest"] = template_digest(render.template, read_template)
    fields["render.output"] = _cell(render.output)
    reload = settings.spec.reload
    if reload is not None:
        fields["reload.targets"] = ", ".join(reload.targets)
        fields["reload.secretFromEnv"] = reload.secretFromEnv
        fields["reload.timeoutSeconds"] = _cell(reload.timeoutSeconds)
        fields["reload.retries"] = _cell(reload.retries)
    return fields


@dataclass(slots=True)
class Side:
    """One environment at one revision."""

    exists: bool = False
    errors: int = 0
    effective: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    # v2: category -> the set used for it ("name", or "name (fallback)"); empty for v1
    categories: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class EnvironmentPlan:
    name: str
    before: Side
    after: Side
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        before, after = self.before, self.after
        return bool(self.changes) or (
            before.exists,
            before.errors,
            before.effective,
            before.categories,
        ) != (after.exists, after.errors, after.effective, after.categories)


def _side(
    validator: Validator, path: str | None, read_template: Callable[[str], bytes] | None
) -> Side:
    """``read_template`` reads templates at the revision; ``None``: from the work tree."""
    if path is None:
        return Side()
    try:
        checked = validator.check(path)
    except UnreadableFile:
        return Side(exists=True, errors=1)
    errors = error_count(checked.diagnostics)
    if checked.settings is None or errors:
        return Side(exists=True, errors=max(errors, 1))
    effective = checked.settings.effective_set()
    if read_template is None:
        read_template = functools.partial(read_template_bytes, repository=repository_of(path))
    fields = flatten(checked.settings, read_template)
    return Side(
        True,
        0,
        effective.name if effective else None,
        fields,
        category_sets(checked.settings),
    )


def category_sets(settings: Settings) -> dict[str, str]:
    """For v2, the set each email category uses, marking a fallback to General."""
    if not isinstance(settings, SmtpSettingsFileV2):
        return {}
    return {
        category: "none"
        if chosen is None
        else chosen.name + (" (fallback)" if chosen.category != category else "")
        for category, chosen in settings.effective_sets().items()
    }


def make_plan(
    ref: str, root: str = DEFAULT_ROOT, *, only_changed: bool = True
) -> list[EnvironmentPlan]:
    """Every environment's plan. With ``only_changed`` (the default) an environment the change
    cannot have touched (``plan_scope``) is listed as unchanged without being read; without it,
    every environment is rendered on both sides, which gives the same output at a cost that
    grows with the repository rather than with the change."""
    revision = GitRevision(ref, root)
    try:
        return _plans(revision, root, only_changed=only_changed)
    finally:
        revision.close()


def _plans(revision: GitRevision, root: str, *, only_changed: bool) -> list[EnvironmentPlan]:
    before_envs = environments_in(revision.files, root)
    after_envs = {name: os.path.normpath(path) for name, path in environments(root).items()}
    scope = None
    if only_changed:
        top = _git("rev-parse", "--show-toplevel").stdout.decode(errors="surrogateescape").strip()
        scope = ChangeScope(revision, root, changed_files(revision.ref), top)
    # The work tree is read like `validate` reads it, refusals of linked files included.
    before_validator, after_validator = Validator(revision), Validator()
    plans = []
    for name in sorted(set(before_envs) | set(after_envs)):
        if scope is not None and scope.untouched(before_envs.get(name), after_envs.get(name)):
            plans.append(EnvironmentPlan(name, Side(exists=True), Side(exists=True)))
            continue
        before = _side(before_validator, before_envs.get(name), revision.read_template)
        after = _side(after_validator, after_envs.get(name), None)
        keys = sorted(set(before.fields) | set(after.fields))
        changes = [
            (key, before.fields.get(key, ABSENT), after.fields.get(key, ABSENT))
            for key in keys
            if before.fields.get(key, ABSENT) != after.fields.get(key, ABSENT)
        ]
        plans.append(EnvironmentPlan(name, before, after, changes))
    return plans


def _state(side: Side, where: str) -> str | None:
    if not side.exists:
        return f"absent {where}"
    if side.errors:
        return f"invalid {where} ({side.errors} error{'s' if side.errors != 1 else ''})"
    return None


def _category_line(plan: EnvironmentPlan, show_name: Callable[[str], str]) -> str:
    """``effective sets: administration `a`, general `a`, notifications `b` → `c```."""

    def show(value: str | None) -> str:
        if value is None or value == "none":
            return "none"
        name, _, note = value.partition(" ")
        return show_name(name) + (f" {note}" if note else "")

    before, after = plan.before.categories, plan.after.categories
    parts = []
    for category, now in after.items() if after else before.items():
        then = before.get(category) if plan.before.exists and before else now
        shown = show(now) if then == now else f"{show(then)} → {show(now)}"
        parts.append(f"{category} {shown}")
    return "effective sets: " + ", ".join(parts)


def _effective_line(plan: EnvironmentPlan, show_name: Callable[[str], str]) -> str:
    if plan.after.categories or plan.before.categories:
        removed = " (environment removed)" if not plan.after.exists else ""
        return _category_line(plan, show_name) + removed
    before, after = plan.before.effective, plan.after.effective

    def show(name: str | None) -> str:
        return show_name(name) if name else "none"

    if before == after or not plan.before.exists:
        return f"effective set: {show(after)}"
    if not plan.after.exists:
        return f"effective set: {show(before)} (environment removed)"
    return f"effective set: {show(before)} → {show(after)}"


def _status(plan: EnvironmentPlan, shown_ref: str) -> list[str]:
    notes = []
    if not plan.before.exists:
        notes.append("new environment")
    elif not plan.after.exists:
        notes.append("environment removed")
    for side, where in ((plan.before, f"at {shown_ref}"), (plan.after, "in the work tree")):
        state = _state(side, where)
        if state and side.exists:
            notes.append(state + ": run `smtp-gitops validate`")
    return notes


# Names and values come from the pull request (and folder names from anyone who can push):
# every one is shown through `untrusted_text`, never as it is.


def format_text(plans: list[EnvironmentPlan], ref: str) -> str:
    lines = [f"plan: {printable(ref)} → work tree"]
    unchanged = [printable(p.name) for p in plans if not p.changed]
    for plan in plans:
        if not plan.changed:
            continue
        lines.append(f"{printable(plan.name)}: {_effective_line(plan, printable)}")
        lines.extend(f"  ! {note}" for note in _status(plan, printable(ref)))
        for key, before, after in plan.changes:
            mark = "+" if before == ABSENT else "-" if after == ABSENT else "~"
            lines.append(f"  {mark} {printable(key)}: {printable(before)} → {printable(after)}")
    if unchanged:
        lines.append(f"no changes: {', '.join(unchanged)}")
    return "\n".join(lines) + "\n"


def format_markdown(plans: list[EnvironmentPlan], ref: str) -> str:
    lines = [f"## smtp-gitops plan: {markdown_code(ref)} → this change", ""]
    unchanged = [p.name for p in plans if not p.changed]
    for plan in plans:
        if not plan.changed:
            continue
        effective = _effective_line(plan, markdown_code)
        lines += [f"### {markdown_code(plan.name)}", "", "E" + effective[1:], ""]
        notes = [f"> {note}" for note in _status(plan, markdown_text(ref))]
        # Without the blank line, Markdown would read the table as part of the quote.
        lines += [*notes, ""] if notes else []
        if plan.changes:
            lines += ["| field | before | after |", "|---|---|---|"]
            lines += [
                f"| {markdown_code(key, in_table=True)} | {markdown_text(before)} "
                f"| {markdown_text(after)} |"
                for key, before, after in plan.changes
            ]
        lines.append("")
    if unchanged:
        lines.append("No changes: " + ", ".join(markdown_code(name) for name in unchanged))
    if not plans:
        lines.append("No environments found.")
    return "\n".join(lines).rstrip("\n") + "\n"
