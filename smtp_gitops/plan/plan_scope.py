"""Which environments a change can touch, so that ``plan`` costs what the change costs.

git names the files that differ between the revision and the work tree (one ``git diff`` and
one ``git ls-files`` for untracked files). An environment is rendered on both sides when its
settings file or its base is among them, when either is reached through a symbolic link (the
link's target may be what changed), or when it exists on one side only. When a file other than a
settings file changed (a template may have), every other environment's template is looked up and
its digest compared on both sides. What remains renders the same on both sides, so it is listed
as unchanged without being read. Files git does not see (ignored, or marked assume-unchanged)
are not noticed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING

from smtp_gitops.lint.loader import load_file
from smtp_gitops.render.render import BUILTIN_TEMPLATES, builtin_source
from smtp_gitops.render.template_files import TemplateRefused, read_template_bytes
from smtp_gitops.settings.discovery import repository_of
from smtp_gitops.settings.layering import merge
from smtp_gitops.settings.layout import SETTINGS_NAMES, base_file_for
from smtp_gitops.settings.yamlnodes import ScalarNode, get

if TYPE_CHECKING:
    from smtp_gitops.plan.git_revision import GitRevision


class ChangeScope:
    """Answers, environment by environment, whether the change can have touched it."""

    def __init__(self, revision: GitRevision, root: str, changed: set[str], top: str) -> None:
        """``changed``: the files git says differ (relative to the repository's ``top``)."""
        self._revision = revision
        self._changed = changed
        self._top = os.path.realpath(top)
        settings_root = revision.in_tree(root)
        # Anything but a settings file may be a template some environment renders through.
        self._templates_may_differ = any(
            posixpath.dirname(posixpath.dirname(path)) != settings_root
            or posixpath.basename(path) not in SETTINGS_NAMES
            for path in self._changed
        )

    def untouched(self, before: str | None, after: str | None) -> bool:
        """True when the environment (``before``: its settings file at the revision, ``after``:
        in the work tree) renders the same on both sides, without reading it."""
        if before is None or after is None or before != after:
            return False
        base = base_file_for(after, self._revision.exists)
        if base != base_file_for(after):
            return False
        if any(self._touched(path) for path in (after, base) if path is not None):
            return False
        return not (self._templates_may_differ and self._template_differs(after, base))

    def _touched(self, path: str) -> bool:
        in_tree = self._revision.in_tree(path)
        if in_tree in self._changed:
            return True
        entry = self._revision.entry(in_tree)
        if entry is None or entry.is_link:
            return True
        # A link anywhere on the work tree's path (file or folder) may lead to a changed file.
        return os.path.realpath(path) != os.path.join(self._top, in_tree)

    def _template_differs(self, path: str, base: str | None) -> bool:
        """Whether the user template this environment names reads differently on both sides.
        Its settings and base are the same on both, so the template named is too."""
        try:
            loaded = [load_file(read) for read in (base, path) if read is not None]
        except OSError:
            return True  # unreadable here: let rendering both sides say so
        if not all(file.ok and file.root is not None for file in loaded):
            return False  # invalid on both sides alike: nothing is rendered
        trees = [file.root for file in loaded if file.root is not None]
        root = merge(trees[0], trees[1]) if len(trees) == 2 else trees[0]
        node = get(root, ("spec", "render", "template"))
        template = node.value if isinstance(node, ScalarNode) else None
        if not isinstance(template, str) or template in BUILTIN_TEMPLATES:
            return False
        in_work_tree = functools.partial(read_template_bytes, repository=repository_of(path))
        return template_digest(template, self._revision.read_template) != template_digest(
            template, in_work_tree
        )


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
