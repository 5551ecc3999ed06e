"""One rule for every command: a settings file that resolves outside the repository, through
a linked file or a linked folder, is an `unsafe-yaml` error; it is never read, skipped or
published."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, git

REPO = Path(__file__).resolve().parent.parent
OUTSIDE_HOST = "outside-host.example.net"
OUTSIDE_USER = "outside-user@example.net"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A committed repository with the bundled environments, and settings outside it."""
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "environments", repo / "environments")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial settings")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "smtp.yaml").write_text(
        VALID.replace("environment: prod", "environment: leak")
        .replace("smtp.gmail.com", OUTSIDE_HOST)
        .replace("portal@example.com", OUTSIDE_USER)
    )
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert OUTSIDE_HOST not in output and OUTSIDE_USER not in output
    return code, output


def link_folder(repo: Path) -> None:
    (repo / "environments" / "leak").symlink_to(repo.parent / "outside", target_is_directory=True)


def test_a_linked_folder_is_refused_by_validate_not_skipped(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link_folder(repo)
    code, out = run(capsys, "validate")
    assert code == 1
    assert "environments/leak/smtp.yaml:1:1: error unsafe-yaml:" in out
    assert "outside the repository" in out


@pytest.mark.parametrize(
    "command", [["render", "leak"], ["render", "leak", "--redact"], ["deploy", "leak", "--dry-run"]]
)
def test_a_linked_folder_is_refused_by_render_and_deploy(
    repo: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    link_folder(repo)
    code, out = run(capsys, *command)
    assert code == 1 and "error unsafe-yaml" in out


def test_plan_never_publishes_a_linked_folder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link_folder(repo)
    code, out = run(capsys, "plan", "--base", "HEAD", "--format", "markdown")
    assert code == 0
    assert "### `leak`" in out
    assert "> invalid in the work tree (1 error): run `smtp-gitops validate`" in out


def test_plan_never_follows_a_linked_file_out_of_the_repository(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = repo.parent / "outside" / "prod.yaml"  # valid as prod: only the link is wrong
    outside.write_text(
        VALID.replace("smtp.gmail.com", OUTSIDE_HOST).replace("portal@example.com", OUTSIDE_USER)
    )
    prod = repo / "environments" / "prod" / "smtp.yaml"
    prod.unlink()
    prod.symlink_to(outside)
    code, out = run(capsys, "plan", "--base", "HEAD")
    assert code == 0
    assert "\nprod: effective sets: " in out
    assert "! invalid in the work tree (1 error): run `smtp-gitops validate`" in out


def test_plan_follows_links_stored_in_the_revision_only_inside_the_repository(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envs = repo / "environments"
    (repo / "shared").mkdir()
    dev = (envs / "dev" / "smtp.yaml").read_text()
    (repo / "shared" / "mirror.yaml").write_text(
        dev.replace("environment: dev", "environment: mirror")
    )
    (envs / "mirror").mkdir()
    (envs / "mirror" / "smtp.yaml").symlink_to("../../shared/mirror.yaml")
    (envs / "escape").mkdir()
    (envs / "escape" / "smtp.yaml").symlink_to("../../../outside/smtp.yaml")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "links")
    shutil.rmtree(envs / "mirror")
    shutil.rmtree(envs / "escape")
    _, out = run(capsys, "plan", "--base", "HEAD")
    [mirror] = [line for line in out.splitlines() if line.startswith("mirror: ")]
    assert mirror.startswith("mirror: effective sets: administration local-catcher")
    assert mirror.endswith(" (environment removed)")
    assert (
        "escape: effective set: none\n  ! environment removed\n"
        "  ! invalid at HEAD (1 error): run `smtp-gitops validate`\n"  # refused unread
    ) in out
    assert out.count("! invalid at HEAD") == 1
