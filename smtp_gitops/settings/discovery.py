"""Turn the paths a user gives into the settings files to check."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from smtp_gitops.settings.diagnostics import PathProblem
from smtp_gitops.settings.layout import (
    DEFAULT_ROOT,
    SETTINGS_NAMES,
    is_base,
    is_settings_name,
    misnamed_files,
    stray_reason,
    stray_settings,
)


@dataclass(slots=True)
class Discovery:
    files: list[str] = field(default_factory=list)
    problems: list[PathProblem] = field(default_factory=list)


def enclosing_repository(start: str) -> str | None:
    """The nearest folder at or above ``start`` holding ``.git``, resolved; None outside git."""
    probe = os.path.realpath(start)
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return None
        probe = parent


def repository_root(start: str) -> str:
    """The nearest folder above ``start`` holding ``.git``; ``start`` itself if there is none."""
    return enclosing_repository(start) or os.path.realpath(start)


def repository_path(file: str) -> str:
    """``file`` from the top of its repository, with ``/``: GitHub's annotations and code
    scanning place a finding only by that path, whatever folder the command ran in. Outside a
    repository it is the path as given. The file itself is not resolved, so a linked settings
    file is named where it is written."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(file)))
    top = enclosing_repository(folder)
    if top is None:
        return PurePath(file).as_posix()
    return PurePath(os.path.relpath(os.path.join(folder, os.path.basename(file)), top)).as_posix()


def in_repository(path: str, repository: str) -> str:
    """A path written in a settings file (``render.output``), relative to the repository's top,
    as the working folder reaches it: every command means the same file from any folder."""
    if os.path.isabs(path):
        return path
    return os.path.relpath(os.path.join(repository, path))


def repository_paths(files: Iterable[str]) -> dict[str, str]:
    """``repository_path`` of each of ``files``, each looked up once: a report names the same
    few files in thousands of findings."""
    return {file: repository_path(file) for file in dict.fromkeys(files)}


def find_root_folder(root: str) -> str | None:
    """``root`` as given, or, when it is relative and not here, the same folder at the top of
    the repository (so a command run from a sub-folder still finds ``environments/``)."""
    if os.path.isdir(root):
        return root
    if os.path.isabs(root):
        return None
    candidate = os.path.join(repository_root(os.getcwd()), root)
    return os.path.relpath(candidate) if os.path.isdir(candidate) else None


def repository_of(settings_file: str) -> str:
    """The repository a settings file belongs to, found from where the file is *written*.

    ``<repository>/<root>/<env>/smtp.yaml``: the repository holds the root folder (the nearest
    ``.git`` above it, else the root's parent). It is looked up from the path as given, not as
    resolved, so a link cannot move the repository along with its target.
    """
    root_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(settings_file))))
    return repository_root(root_parent)


def resolves_outside(path: str, repository: str) -> bool:
    """True when ``path``, with every symbolic link (file or folder) resolved, leaves
    ``repository`` or enters its ``.git``: the one rule validate, plan, render and deploy
    share."""
    inside = os.path.realpath(repository)
    target = os.path.realpath(path)
    if os.path.commonpath([inside, target]) != inside:
        return True
    # git's own folder is not the repository's content: it holds the remote's credentials
    # (actions/checkout keeps a token in .git/config), which no link may have read and shown.
    return os.path.relpath(target, inside).split(os.sep)[0] == ".git"


def escapes_repository(path: str) -> bool:
    """True for a settings file that resolves outside its repository."""
    return resolves_outside(path, repository_of(path))


_NAMES = " or ".join(SETTINGS_NAMES)


Tracked = Callable[[str], bool]


def _everything(_path: str) -> bool:
    return True


def _misnamed(folder: str, tracked: Tracked = _everything) -> PathProblem | None:
    found = [name for name in misnamed_files(folder) if tracked(os.path.join(folder, name))]
    if not found:
        return None
    return PathProblem(
        folder,
        f"holds {', '.join(found)} but no {_NAMES}; rename it to {SETTINGS_NAMES[0]} "
        "(other names are not read)",
    )


def _settings_files_under(
    folder: str, tracked: Tracked = _everything
) -> tuple[list[str], list[PathProblem]]:
    found: list[str] = []
    problems: list[PathProblem] = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        # os.walk lists a linked folder but does not enter it; its settings files are still
        # returned (never silently skipped), so the check on where they resolve reports them.
        linked = [
            os.path.join(current, d, name)
            for d in dirs
            if os.path.islink(os.path.join(current, d))
            for name in SETTINGS_NAMES
            if os.path.lexists(os.path.join(current, d, name))
        ]
        here = [
            os.path.join(current, name)
            for name in files
            if is_settings_name(name) and tracked(os.path.join(current, name))
        ]
        linked = [path for path in linked if tracked(path)]
        found.extend(sorted(here + linked))
        if here:
            strays = [
                name
                for name in stray_settings(sorted(here)[0])
                if tracked(os.path.join(current, name))
            ]
            if strays:
                problems.append(PathProblem(current, stray_reason(sorted(here)[0], strays)))
        if here or linked:
            continue
        # A folder beside environments (``environments/prod`` next to ``environments/dev``)
        # holding YAML under another name was meant as an environment: say so, never skip it.
        parent = os.path.dirname(current)
        siblings = os.listdir(parent) if current != folder and os.path.isdir(parent) else []
        if any(
            os.path.lexists(os.path.join(parent, sibling, name))
            for sibling in siblings
            for name in SETTINGS_NAMES
        ):
            problem = _misnamed(current, tracked)
            if problem is not None:
                problems.append(problem)
    return found, problems


def discover(paths: list[str], tracked: Tracked | None = None) -> Discovery:
    """Files to check, in a stable order; folders are searched for ``smtp.yaml``.

    A changed ``base`` file brings in its sibling environments, since every one of them is
    merged over it. With ``tracked`` (what a commit holds) only the files it accepts are found,
    brought in, or said to stray: an untracked file is not part of the commit.
    """
    accepts = tracked or _everything
    result = Discovery()
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.realpath(path) if not os.path.islink(path) else os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            result.files.append(path)

    for path in paths or [DEFAULT_ROOT]:
        if os.path.isdir(path):
            found, problems = _settings_files_under(path, accepts)
            result.problems.extend(problems)
            if not found:
                result.problems.append(
                    _misnamed(path, accepts)
                    or PathProblem(
                        path,
                        f"no {_NAMES} found in this folder"
                        + (" that is staged in git" if tracked else ""),
                    )
                )
            for file in found:
                add(file)
        elif (os.path.isfile(path) or os.path.islink(path)) and not is_settings_name(
            os.path.basename(path)
        ):
            # A README or a workflow named by mistake: a YAML error about its first line
            # would say the wrong thing.
            result.problems.append(
                PathProblem(
                    path,
                    f"not a settings file: settings files are named {_NAMES} "
                    "(<root>/<environment>/smtp.yaml); other names are not read",
                )
            )
        elif (os.path.isfile(path) or os.path.islink(path)) and not accepts(path):
            result.problems.append(
                PathProblem(path, "is not staged in git; `git add` it to check it with --staged")
            )
        elif os.path.isfile(path) or os.path.islink(path):
            add(path)
            if is_base(path):
                siblings = os.path.dirname(os.path.dirname(os.path.abspath(path)))
                for file in _settings_files_under(siblings, accepts)[0]:
                    if not is_base(file):
                        add(os.path.relpath(file) if not os.path.isabs(path) else file)
        else:
            result.problems.append(PathProblem(path, "no such file or folder"))
    return result
