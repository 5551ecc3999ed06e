"""`smtp-gitops plan` on a real git repository made in a temporary folder."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import git

REPO = Path(__file__).resolve().parent.parent
SECRET_VALUE = "plan-must-never-print-this"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled example environments, committed; the test then edits the work tree."""
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "initial settings")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", SECRET_VALUE)
    monkeypatch.setenv("SMTP_BACKUP_PASSWORD", SECRET_VALUE)
    monkeypatch.setenv("SMTP_PRIMARY_CLIENT_SECRET", SECRET_VALUE)
    monkeypatch.setenv("SMTP_NOTIFICATIONS_PASSWORD", SECRET_VALUE)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def plan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["plan", *args])
    captured = capsys.readouterr()
    assert SECRET_VALUE not in captured.out + captured.err
    return code, captured.out + captured.err


def test_no_changes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = plan(capsys)
    assert code == 0
    assert "no changes: dev, prod, staging" in out


def test_markdown_shows_changed_fields_and_the_effective_set(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = repo / "environments" / "prod" / "smtp.yaml"
    edit(prod, "the fallback\n      enabled: true", "the fallback\n      enabled: false")
    edit(prod, "      enabled: false\n  render:", "      enabled: true\n      port: 465\n  render:")
    code, out = plan(capsys, "--base", "HEAD", "--format", "markdown")
    assert code == 0
    assert "### `prod`" in out
    assert (
        "Effective sets: administration `primary` (fallback) → `backup` (fallback), "
        "general `primary` → `backup`, notifications `notifications`"
    ) in out
    assert "| field | before | after |" in out
    assert "| `sets.primary.Enabled` | true | false |" in out
    assert "| `sets.backup.Enabled` | false | true |" in out
    assert "| `sets.backup.Port` | 587 | 465 |" in out
    assert "No changes: `dev`, `staging`" in out


def test_changing_base_shows_in_every_environment_built_on_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        repo / "environments" / "base" / "smtp.yaml",
        "username: portal@mg.example.com",
        "username: relay@mg.example.com",
    )
    _, out = plan(capsys)
    for env in ("dev", "prod", "staging"):
        assert f"{env}: effective sets: administration " in out
    assert out.count("~ sets.backup.Username: portal@mg.example.com → relay@mg.example.com") == 3


def test_secret_reference_change_shows_the_reference_not_the_value(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo / "environments" / "base" / "smtp.yaml"
    edit(base, "SMTP_BACKUP_PASSWORD", "SMTP_MAIN_PASSWORD")
    edit(base, "SMTP_PRIMARY_CLIENT_SECRET", "SMTP_PORTAL_CLIENT_SECRET")
    _, out = plan(capsys)
    assert "sets.backup.Password: env:SMTP_BACKUP_PASSWORD → env:SMTP_MAIN_PASSWORD" in out
    assert (
        "sets.primary.OAuth2.ClientSecret: env:SMTP_PRIMARY_CLIENT_SECRET → "
        "env:SMTP_PORTAL_CLIENT_SECRET"
    ) in out


def test_added_removed_and_invalid_environments(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envs = repo / "environments"
    shutil.copytree(envs / "prod", envs / "qa")
    edit(envs / "qa" / "smtp.yaml", "environment: prod", "environment: qa")
    shutil.rmtree(envs / "dev")
    edit(envs / "staging" / "smtp.yaml", "enabled: true", "enabled: maybe")
    _, out = plan(capsys, "--format", "markdown")
    assert "### `qa`" in out and "> new environment" in out
    assert "### `dev`" in out and "> environment removed" in out
    assert "> invalid in the work tree (1 error): run `smtp-gitops validate`" in out


def test_plan_reads_the_base_revision_from_git_not_the_disk(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = repo / "environments" / "prod" / "smtp.yaml"
    edit(prod, "retries: 3", "retries: 5")
    git(repo, "commit", "-q", "-am", "more retries")
    _, out = plan(capsys, "--base", "HEAD~1")
    assert "~ reload.retries: 3 → 5" in out


def test_unknown_ref_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = plan(capsys, "--base", "no-such-branch")
    assert code == 2 and "unknown git revision 'no-such-branch'" in out
    assert "Traceback" not in out


def test_outside_a_git_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out = plan(capsys)
    assert code == 2 and "not inside a git work tree" in out


def test_a_change_to_a_template_alone_shows(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = repo / "templates" / "portal.ini.j2"
    template.parent.mkdir()
    template.write_text("host={{ effective.networkHost }}\n")
    edit(
        repo / "environments" / "prod" / "smtp.yaml",
        "template: portal-json",
        "template: templates/portal.ini.j2",
    )
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "own template")
    assert "no changes: dev, prod, staging" in plan(capsys)[1]
    before = template.read_bytes()
    template.write_text("server={{ effective.networkHost }}\n")
    _, out = plan(capsys)
    old, new = (hashlib.sha256(data).hexdigest()[:12] for data in (before, template.read_bytes()))
    assert "\nprod: effective sets: " in out
    assert f"\n  ~ render.templateDigest: sha256:{old} → sha256:{new}\n" in out
    assert "no changes: dev, staging" in out


def test_a_template_outside_the_repository_is_not_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(
        repo / "environments" / "prod" / "smtp.yaml",
        "template: portal-json",
        "template: /proc/self/environ",
    )
    _, out = plan(capsys)
    assert "~ render.templateDigest: sha256:" in out and " → unreadable\n" in out


def test_plan_from_a_sub_folder_finds_the_environments_at_the_top(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    edit(repo / "environments/dev/smtp.yaml", "port: 1025", "port: 2525")
    (repo / "docs").mkdir()
    monkeypatch.chdir(repo / "docs")
    code, out = plan(capsys)
    assert code == 0
    assert "sets.local-catcher.Port: 1025 → 2525" in out


def test_plan_without_the_environments_folder_fails_instead_of_an_empty_plan(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = plan(capsys, "--root", "settings")
    assert code == 2
    assert "settings: no such folder here or at the top of the repository" in out


def test_a_plan_longer_than_a_github_comment_is_cut_with_a_note(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from markdown_it import MarkdownIt

    sets = "".join(
        f"    - name: set-{i}\n      enabled: {'true' if i == 0 else 'false'}\n"
        f"      networkHost: smtp-{i}.example.com\n      username: user-{i}@example.com\n"
        f"      auth:\n        password: {{fromEnv: SMTP_SET_{i}_PASSWORD}}\n"
        for i in range(400)
    )
    big = repo / "environments/bulk/smtp.yaml"
    big.parent.mkdir()
    big.write_text(
        "apiVersion: smtp-gitops/v2\nkind: SmtpSettings\nmetadata:\n  environment: bulk\n"
        "spec:\n  sets:\n" + sets
    )
    edit(repo / "environments/dev/smtp.yaml", "port: 1025", "port: 2525")
    code, out = plan(capsys, "--format", "markdown")
    assert code == 0
    assert len(out) <= 65_536
    assert "### `bulk`" in out
    assert "**Cut short:** this plan is longer than GitHub's 65,536-character comment limit" in out
    assert "more changed field(s) of `bulk`" in out
    assert "1 more environment(s): `dev`" in out
    assert "the list of unchanged environments" in out
    html = MarkdownIt("commonmark").enable("table").render(out)
    assert "<blockquote>\n<p>new environment</p>\n</blockquote>" in html
    assert html.count("<table>") == 1
