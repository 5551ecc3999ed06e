"""A git revision's files, read the way the work tree's are: listed once, blobs through one
``git cat-file --batch`` process, symbolic links followed only inside the repository."""

from __future__ import annotations

import errno
import os
import posixpath
import subprocess
from dataclasses import dataclass

from smtp_gitops.lint.loader import MAX_FILE_BYTES
from smtp_gitops.render.template_files import MAX_TEMPLATE_BYTES, TemplateRefused


class PlanError(Exception):
    """git or the revision is unusable: a usage error (exit 2)."""


def run_git(*args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], capture_output=True, timeout=30, check=False)
    except FileNotFoundError:
        raise PlanError("git is not installed") from None


# git's empty tree: what a repository without commits is compared against.
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


def has_commits() -> bool:
    return run_git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode == 0


def default_base() -> str:
    has_origin = run_git("rev-parse", "--verify", "--quiet", "origin/main^{commit}").returncode == 0
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
        if run_git("rev-parse", "--is-inside-work-tree").returncode != 0:
            raise PlanError("not inside a git work tree: plan compares against a git revision")
        if ref == "HEAD" and not has_commits():
            ref = EMPTY_TREE  # no commits yet: everything in the work tree is new
        elif run_git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").returncode != 0:
            raise PlanError(f"unknown git revision {ref!r}")
        self.ref = ref
        self._start(root)

    def _start(self, root: str) -> None:
        self.prefix = run_git("rev-parse", "--show-prefix").stdout.decode().strip()
        self._entries = self._list(self.in_tree(root) if root else "")
        self.files = {
            os.path.normpath(posixpath.relpath(path, self.prefix or ".")) for path in self._entries
        }
        self._reader: subprocess.Popen[bytes] | None = None
        self._reader_pid = os.getpid()

    def _list(self, in_tree: str) -> dict[str, TreeEntry]:
        """The files at or under ``in_tree`` (relative to the repository's top), by path."""
        # -z: paths as they are, not C-quoted (a folder name may hold anything)
        return _tree_entries(
            run_git("ls-tree", "-r", "-z", "-l", "--full-tree", self.ref, "--", in_tree).stdout
        )

    def in_tree(self, path: str) -> str:
        """``path`` (relative to the working directory) relative to the repository's top."""
        return posixpath.normpath(posixpath.join(self.prefix, path))

    def entry(self, in_tree: str) -> TreeEntry | None:
        """The file at ``in_tree`` (relative to the repository's top), if the revision has one."""
        if in_tree in self._entries:
            return self._entries[in_tree]
        # Outside the listed root (a template, a link's target): ask git for this one path.
        return self._list(in_tree).get(in_tree)

    def read(self, path: str) -> bytes:
        return self._read_in_tree(self.in_tree(path))

    def read_template(self, path: str) -> bytes:
        """A user template at the revision (``path`` relative to the repository's top, as a
        settings file names it), under the rules ``template_files`` applies."""
        in_tree = posixpath.normpath(path)
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
        if self._reader is not None and self._reader_pid != os.getpid():
            # A forked worker: the reader's pipes are shared with the parent; start its own.
            self._reader = None
        if self._reader is None:
            self._reader_pid = os.getpid()
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
        if self._reader is not None and self._reader_pid == os.getpid():
            assert self._reader.stdin is not None and self._reader.stdout is not None
            self._reader.stdin.close()
            self._reader.stdout.close()
            self._reader.wait(timeout=30)
            self._reader = None

    def exists(self, path: str) -> bool:
        """Whether ``path`` (absolute, or relative to the working directory) is listed."""
        return os.path.relpath(os.path.abspath(path)) in self.files


class GitIndex(GitRevision):
    """Settings files as they are staged in git's index: what a commit being made holds.

    A pre-commit hook checks this, not the work tree: an untracked environment, or a change
    not yet added, is not part of the commit and must neither fail nor pass it.
    """

    def __init__(self) -> None:
        if run_git("rev-parse", "--is-inside-work-tree").returncode != 0:
            raise PlanError("not inside a git work tree: --staged reads git's index")
        self.ref = "the git index"
        self._start("")

    def _list(self, in_tree: str) -> dict[str, TreeEntry]:
        # Every YAML file of the repository (settings files and what may stray beside them),
        # or the one path asked for; stage 0 only: a path in conflict has nothing to commit.
        specs = (
            [f":(top,literal){in_tree}"]
            if in_tree
            else [":(top,glob,icase)**/*.yaml", ":(top,glob,icase)**/*.yml"]
        )
        listing = run_git("ls-files", "-s", "-z", "--full-name", "--", *specs).stdout
        staged: dict[str, tuple[bytes, bytes]] = {}
        for line in listing.split(b"\0"):
            if not line:
                continue
            info, path = line.split(b"\t", 1)
            mode, object_id, stage = info.split()
            if stage == b"0":
                staged[path.decode(errors="surrogateescape")] = (mode, object_id)
        sizes = _object_sizes([object_id for _mode, object_id in staged.values()])
        return {
            path: TreeEntry(mode, b"blob", object_id, sizes.get(object_id, 0))
            for path, (mode, object_id) in staged.items()
        }


def _object_sizes(object_ids: list[bytes]) -> dict[bytes, int]:
    """Each blob's size, from one ``git cat-file --batch-check``: the size cap is applied
    before a blob is read."""
    if not object_ids:
        return {}
    try:
        done = subprocess.run(
            ["git", "cat-file", "--batch-check"],
            input=b"\n".join(object_ids) + b"\n",
            capture_output=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        raise PlanError("git is not installed") from None
    sizes = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == b"blob":
            sizes[parts[0]] = int(parts[2])
    return sizes


def _git_paths(*args: str) -> set[str]:
    done = run_git(*args)
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
