"""One file checked: loaded, layered over its ``base``, checked against the schema, then the rules.

``validator`` runs this over many files, serially or in worker processes."""

from __future__ import annotations

import errno
import fnmatch
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from smtp_gitops.lint.fast_schema import clean_document
from smtp_gitops.lint.loader import MAX_FILE_BYTES, LoadedFile, load_file, load_text
from smtp_gitops.lint.rules import plaintext_secret, semantic_checks, unsafe_yaml
from smtp_gitops.lint.rules.base import SettingsContext
from smtp_gitops.lint.schema_check import (
    api_version_mismatch,
    check_header,
    check_schema,
    declared_api_version,
)
from smtp_gitops.lint.view import settings_view
from smtp_gitops.settings.diagnostics import Capped, Diagnostic, Mark
from smtp_gitops.settings.discovery import escapes_repository, repository_of
from smtp_gitops.settings.layering import merge, set_names
from smtp_gitops.settings.layout import BASE, base_file_for, environment_of
from smtp_gitops.settings.redaction import redact
from smtp_gitops.settings.yamlnodes import MapNode, Node

if TYPE_CHECKING:
    from smtp_gitops.settings.model import Settings


class UnreadableFile(Exception):
    """A file that could not be read at all (permissions, vanished): an I/O problem, exit 2."""


@dataclass(slots=True)
class Checked:
    """One environment's result: its diagnostics and, when it passed the schema, the merged
    tree (and from it the settings)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    root: Node | None = None
    files_read: list[str] = field(default_factory=list)
    _settings: Settings | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings | None:
        """The merged settings as the model's objects, built on first use: ``validate`` never
        asks, so a clean file is checked without importing pydantic at all."""
        if self._settings is None and self.root is not None:
            self._settings, _problems = check_schema(self.root)
        return self._settings


class FileSource(Protocol):
    """Where settings files come from instead of the work tree: a git revision (``plan``) or
    git's index (``validate --staged``). A forked worker reads through its own copy and closes
    it when done."""

    def read(self, path: str) -> bytes: ...

    def exists(self, path: str) -> bool: ...

    def close(self) -> None: ...


_OUTSIDE = (
    "symbolic link points outside the repository or into its .git folder; refusing to read it"
)


def _refused(path: str, reason: str) -> LoadedFile:
    return LoadedFile(path, None, [unsafe_yaml.RULE.diagnostic(Mark(path, 1, 1), reason)])


def crash_diagnostic(path: str, reason: str) -> Diagnostic:
    return unsafe_yaml.RULE.diagnostic(
        Mark(path, 1, 1),
        f"checking this file crashed the process ({reason}); the file was not checked",
        hint="look for unusual YAML (very deep nesting, huge values) and please report it",
    )


class Validator:
    """Checks files one by one, loading each ``base`` only once per run.

    ``crashed`` names files that killed an earlier worker process (with how), which are reported
    instead of read again; ``progress`` hears ``("load", path)`` before and ``("loaded", path)``
    after each file is parsed, so a worker's parent knows which file was being read if it dies.
    ``production_environments`` are fnmatch patterns of environment names that production-only
    rules treat as production even without ``metadata.production: true``.
    """

    def __init__(
        self,
        source: FileSource | None = None,
        *,
        crashed: Mapping[str, str] | None = None,
        progress: Callable[[str, str], None] | None = None,
        production_environments: tuple[str, ...] = (),
    ) -> None:
        self._loaded: dict[str, LoadedFile] = {}
        self._source = source
        self._crashed = crashed or {}
        self._progress = progress
        self._production_environments = production_environments

    def load(self, path: str) -> LoadedFile:
        if path in self._crashed:
            return LoadedFile(path, None, [crash_diagnostic(path, self._crashed[path])])
        if path in self._loaded or self._progress is None:
            return self._load(path)
        self._progress("load", path)
        loaded = self._load(path)
        self._progress("loaded", path)
        return loaded

    def _load(self, path: str) -> LoadedFile:
        if path not in self._loaded and self._source is not None:
            try:
                self._loaded[path] = load_text(path, self._source.read(path))
            except OSError as error:
                # A source refuses what the disk's reader refuses, and it is said the same way.
                if error.errno == errno.EPERM:
                    self._loaded[path] = _refused(path, _OUTSIDE)
                elif error.errno == errno.EFBIG:
                    self._loaded[path] = _refused(
                        path, f"file is {error.strerror}; the limit is {MAX_FILE_BYTES} (1 MiB)"
                    )
                else:
                    raise UnreadableFile(f"{path}: {error.strerror or error}") from error
        if path not in self._loaded:
            if escapes_repository(path):
                self._loaded[path] = _refused(path, _OUTSIDE)
            else:
                try:
                    self._loaded[path] = load_file(path)
                except OSError as error:
                    raise UnreadableFile(f"{path}: {error.strerror or error}") from error
        return self._loaded[path]

    def check(self, path: str) -> Checked:
        result = self._check(path)
        # Schema and rule messages may quote what they found; never when it is a secret value.
        spans = {read: self.load(read).secret_spans for read in result.files_read}
        result.diagnostics = redact(result.diagnostics, spans)
        if environment_of(path) != BASE:
            # Only bases are read again (once per environment built on them); keeping every
            # environment's tree would make a run's memory grow with the number of files.
            self._loaded.pop(path, None)
        return result

    def _check(self, path: str) -> Checked:
        loaded = self.load(path)
        result = Checked(list(loaded.diagnostics), files_read=[path])
        if not loaded.ok or loaded.root is None:
            return result
        folder = environment_of(path)
        header, supported = check_header(loaded.root)
        result.diagnostics += header
        if not supported:
            return result
        if folder == BASE:
            result.diagnostics += _check_base(loaded.root)
            return result
        root = loaded.root
        base_sets: list[str] | None = None
        base_path = base_file_for(path, self._source.exists if self._source else os.path.isfile)
        if base_path is not None:
            base = self.load(base_path)
            result.files_read.append(base_path)
            result.diagnostics += base.diagnostics
            if not base.ok or base.root is None:
                return result  # the base's own errors are reported; merging over it would mislead
            mismatch = api_version_mismatch(base.root, base_path, root, path)
            if mismatch is not None:
                result.diagnostics.append(mismatch)
                return result
            root = merge(base.root, root)
            base_sets = set_names(base.root)
        clean = clean_document(root, declared_api_version(root))
        model: Settings | None = None
        settings: Settings | None = None
        if clean is not None:
            settings = settings_view(clean)
        else:  # the model says where and why (and has the last word)
            model, problems = check_schema(root, base_sets=base_sets)
            result.diagnostics += problems
            settings = model
            if model is None:
                result.diagnostics += plaintext_secret.check_tree(root)
        if settings is not None and isinstance(root, MapNode):
            production = settings.metadata.production or any(
                fnmatch.fnmatchcase(folder, pattern) for pattern in self._production_environments
            )
            context = SettingsContext(settings, root, folder, production, repository_of(path))
            found = Capped()
            for run in semantic_checks():
                found.extend(run(context))
            result.diagnostics += found.result()
            result.root, result._settings = root, model
        return result


def _check_base(root: Node) -> list[Diagnostic]:
    """``base`` is a partial document: types and keys are checked, required keys are not."""
    problems: list[Diagnostic] = []
    if clean_document(root, declared_api_version(root), partial=True) is None:
        _settings, problems = check_schema(root, partial=True)
    if isinstance(root, MapNode):
        metadata = root.entries.get("metadata")
        if metadata is not None and isinstance(metadata.value, MapNode):
            declared = metadata.value.entries.get("environment")
            if declared is not None and getattr(declared.value, "value", None) != BASE:
                from smtp_gitops.lint.rules import environment_mismatch

                problems.append(
                    environment_mismatch.RULE.diagnostic(
                        declared.value.mark,
                        "the base file must say `environment: base`",
                        end=declared.value.end,
                    )
                )
    return problems


def check_serially(
    files: list[str],
    production_environments: tuple[str, ...] = (),
    source: FileSource | None = None,
) -> tuple[list[Diagnostic], list[str], list[str]]:
    validator = Validator(source, production_environments=production_environments)
    diagnostics: list[Diagnostic] = []
    unreadable: list[str] = []
    read: dict[str, None] = {}
    for path in files:
        try:
            checked = validator.check(path)
        except UnreadableFile as error:
            unreadable.append(str(error))
            continue
        diagnostics.extend(checked.diagnostics)
        read.update(dict.fromkeys(checked.files_read))
    return diagnostics, list(read), unreadable
