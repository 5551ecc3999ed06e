"""`plan` renders only the environments a change can touch, and prints exactly what rendering
every environment on both sides prints."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from smtp_gitops.plan.plan import format_markdown, format_text, make_plan
from tests.helpers import git

REPO = Path(__file__).resolve().parent.parent
TEMPLATE = "templates/portal.ini.j2"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled environments plus: one behind a link into `shared/`, one rendering through a
    user template, one to be removed; all committed."""
    envs = tmp_path / "environments"
    shutil.copytree(REPO / "environments", envs)
    dev = (envs / "dev" / "smtp.yaml").read_text()
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "mirror.yaml").write_text(
        dev.replace("environment: dev", "environment: mirror")
    )
    (envs / "mirror").mkdir()
    (envs / "mirror" / "smtp.yaml").symlink_to("../../shared/mirror.yaml")
    (tmp_path / "templates").mkdir()
    (tmp_path / TEMPLATE).write_text("host={{ effective.networkHost }}\n")
    for name, template in (("custom", TEMPLATE), ("gone", "portal-json")):
        (envs / name).mkdir()
        (envs / name / "smtp.yaml").write_text(
            dev.replace("environment: dev", f"environment: {name}").replace(
                "  render:\n", f"  render:\n    template: {template}\n"
            )
        )
    (tmp_path / "README.md").write_text("settings\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "settings")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _edit_dev(repo: Path) -> None:
    edit(repo / "environments" / "dev" / "smtp.yaml", "port: 1025", "port: 2525")


def _edit_base(repo: Path) -> None:
    edit(repo / "environments" / "base" / "smtp.yaml", "port: 587", "port: 2587")


def _add_environment(repo: Path) -> None:
    new = repo / "environments" / "new"
    new.mkdir()
    text = (repo / "environments" / "staging" / "smtp.yaml").read_text()
    (new / "smtp.yaml").write_text(text.replace("environment: staging", "environment: new"))


def _remove_environment(repo: Path) -> None:
    shutil.rmtree(repo / "environments" / "gone")


def _edit_link_target(repo: Path) -> None:
    edit(repo / "shared" / "mirror.yaml", "port: 1025", "port: 2526")


def _edit_template(repo: Path) -> None:
    (repo / TEMPLATE).write_text("server={{ effective.networkHost }}\n")


def _edit_readme(repo: Path) -> None:
    (repo / "README.md").write_text("settings, documented\n")


def _break_staging(repo: Path) -> None:
    edit(repo / "environments" / "staging" / "smtp.yaml", "sets:", "sets: 5\n  x:")


CHANGES: dict[str, Callable[[Path], None]] = {
    "one environment": _edit_dev,
    "base": _edit_base,
    "new environment": _add_environment,
    "removed environment": _remove_environment,
    "target of a linked environment": _edit_link_target,
    "user template": _edit_template,
    "a file no environment reads": _edit_readme,
    "an environment made invalid": _break_staging,
}


def _both_ways(ref: str = "HEAD", root: str = "environments") -> tuple[str, str]:
    scoped = make_plan(ref, root)
    full = make_plan(ref, root, only_changed=False)
    for render in (format_text, format_markdown):
        assert render(scoped, ref) == render(full, ref)
    return format_text(scoped, ref), format_text(full, ref)


# What each change shows (the rest is listed under "no changes").
CHANGED = {
    "one environment": ["dev"],
    "base": ["custom", "dev", "gone", "mirror", "prod", "staging"],  # merged under every one
    "new environment": ["new"],
    "removed environment": ["gone"],
    "target of a linked environment": ["mirror"],
    "user template": ["custom"],
    "a file no environment reads": [],
    "an environment made invalid": ["staging"],
    "nothing": [],
}


@pytest.mark.parametrize("change", CHANGED)
def test_each_change_prints_what_rendering_everything_prints(repo: Path, change: str) -> None:
    if change in CHANGES:
        CHANGES[change](repo)
    scoped, _full = _both_ways()
    shown = [line.split(":")[0] for line in scoped.splitlines()[1:] if not line.startswith(" ")]
    assert [name for name in shown if name != "no changes"] == CHANGED[change]


def test_all_changes_together_print_what_rendering_everything_prints(repo: Path) -> None:
    for change in CHANGES.values():
        change(repo)
    scoped, _full = _both_ways()
    for name in ("custom:", "dev:", "gone:", "mirror:", "new:", "staging:", "prod:"):
        assert f"\n{name} " in scoped


def test_committed_changes_against_an_older_revision(repo: Path) -> None:
    _edit_dev(repo)
    _edit_template(repo)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "dev and template")
    _remove_environment(repo)
    _both_ways("HEAD~1")


def test_from_a_subfolder_of_the_repository(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nested = repo / "deploy"
    nested.mkdir()
    shutil.move(repo / "environments", nested / "environments")
    shutil.move(repo / "shared", nested / "shared")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "move")
    _edit_link_target(nested)
    monkeypatch.chdir(nested)
    scoped, _full = _both_ways()
    assert "\nmirror: " in scoped


def test_an_untracked_template_outside_the_working_folder_is_noticed(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = repo / "tools"
    tools.mkdir()
    (tools / "README").write_text("run plan from here\n")
    # Written from the repository's top, as every path in a settings file is.
    edit(repo / "environments" / "custom" / "smtp.yaml", TEMPLATE, "templates/extra.j2")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "a template yet to be written")
    (repo / "templates" / "extra.j2").write_text("{{ effective.networkHost }}\n")
    monkeypatch.chdir(tools)
    scoped, _full = _both_ways(root="../environments")
    assert "\ncustom: " in scoped


def test_an_environment_git_does_not_see_change_is_not_read(repo: Path) -> None:
    # Told that the file is unchanged, git does not report it, so plan does not read it: the
    # proof that untouched environments are skipped, and the limit of relying on git.
    git(repo, "update-index", "--assume-unchanged", "environments/dev/smtp.yaml")
    _edit_dev(repo)
    scoped = format_text(make_plan("HEAD"), "HEAD")
    full = format_text(make_plan("HEAD", only_changed=False), "HEAD")
    assert "no changes: custom, dev, gone, mirror, prod, staging" in scoped
    assert "\ndev: " in full
