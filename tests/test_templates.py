"""User templates are untrusted (a pull request can change them): they render in Jinja2's
immutable sandbox, and only regular files inside the repository are read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.render.template_files import MAX_TEMPLATE_BYTES
from tests.helpers import VALID, write_env

ESCAPE = "{{ cycler.__init__.__globals__.os.popen('touch PWNED').read() }}"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    monkeypatch.setenv("LEAK_ME", "environment-value-leaked")
    return repo


def with_template(repo: Path, template: str) -> None:
    write_env(
        repo,
        "prod",
        VALID + f"  render:\n    template: {template!r}\n    output: build/smtp.json\n",
    )


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "environment-value-leaked" not in output
    return code, output


@pytest.mark.parametrize(
    "command", [["render", "prod"], ["render", "prod", "--redact"], ["deploy", "prod", "--dry-run"]]
)
def test_a_template_cannot_run_code(
    repo: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    (repo / "evil.j2").write_text("fine so far\n" + ESCAPE + "\n")
    with_template(repo, "evil.j2")
    code, out = run(capsys, *command)
    assert code == 1
    assert "template evil.j2 (line 2): access to attribute '__init__'" in out and "unsafe" in out
    assert not (repo / "PWNED").exists()


def test_a_template_cannot_change_the_data(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mutate.j2").write_text("{{ sets.append(1) }}{{ sets | length }}\n")
    with_template(repo, "mutate.j2")
    code, out = run(capsys, "render", "prod")
    assert code == 1 and "template mutate.j2 (line 1)" in out and "unsafe" in out


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("/proc/self/environ", "is an absolute path"),
        ("../outside.j2", "resolves outside the repository"),
        ("link.j2", "resolves outside the repository"),
        ("linked-folder/outside.j2", "resolves outside the repository"),
        # git's folder holds the checkout's token (.git/config): never a template.
        (".git/config", "resolves outside the repository or into its .git folder"),
        ("git-link.j2", "resolves outside the repository or into its .git folder"),
        ("fifo.j2", "is not a regular file"),
        ("huge.j2", f"is larger than {MAX_TEMPLATE_BYTES} bytes"),
        ("latin1.j2", "is not UTF-8"),
        ("missing.j2", "is neither built in (portal-json, dotenv) nor a file"),
    ],
)
def test_only_regular_files_inside_the_repository_are_templates(
    repo: Path, capsys: pytest.CaptureFixture[str], template: str, reason: str
) -> None:
    (repo.parent / "outside.j2").write_text("{{ environment }}\n")
    (repo / "link.j2").symlink_to("/proc/self/environ")
    (repo / "linked-folder").symlink_to(repo.parent, target_is_directory=True)
    (repo / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic x\n")
    (repo / "git-link.j2").symlink_to(repo / ".git" / "config")
    os.mkfifo(repo / "fifo.j2")
    (repo / "huge.j2").write_text("x" * (MAX_TEMPLATE_BYTES + 1))
    (repo / "latin1.j2").write_bytes("caf\xe9\n".encode("latin-1"))
    with_template(repo, template)
    for args in (["render", "prod", "--redact"], ["deploy", "prod", "--dry-run"]):
        code, out = run(capsys, *args)
        assert code == 1, out
        assert f"template {template!r} {reason}" in out or f"{template} {reason}" in out, out
    code, out = run(capsys, "render", "prod", "--template", template)
    assert code == 1 and reason in out


def test_includes_follow_the_same_rule(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "templates").mkdir()
    (repo / "templates" / "part.j2").write_text("host={{ effective.networkHost }}\n")
    (repo / "templates" / "main.j2").write_text('{% include "templates/part.j2" %}')
    with_template(repo, "templates/main.j2")
    assert run(capsys, "render", "prod") == (0, "host=smtp.gmail.com\n")
    (repo / "templates" / "main.j2").write_text('{% include "/proc/self/environ" %}')
    code, out = run(capsys, "render", "prod")
    assert code == 1 and "template '/proc/self/environ' is an absolute path" in out


def test_a_template_inside_the_repository_renders_from_a_sub_folder_link(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "templates").mkdir()
    (repo / "templates" / "real.j2").write_text("env={{ environment }}\n")
    (repo / "alias.j2").symlink_to("templates/real.j2")
    with_template(repo, "alias.j2")
    assert run(capsys, "render", "prod") == (0, "env=prod\n")


def test_any_template_failure_is_a_clear_error_without_secrets(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "secret-used-as-a-key")
    with_template(repo, "portal-json")
    (repo / "divide.j2").write_text("ok\n{{ effective.port / 0 }}\n")
    (repo / "key.j2").write_text("{{ effective[effective.password] }}\n")
    code, out = run(capsys, "render", "prod", "--template", "divide.j2")
    assert (
        code == 1
        and "template divide.j2 (line 2): ZeroDivisionError (the value involved is not shown)"
        in out
    )
    assert "Traceback" not in out
    code, out = run(capsys, "render", "prod", "--template", "key.j2")
    assert code == 1 and "template key.j2 (line 1): 'dict object' has no attribute '***'" in out
    assert "secret-used-as-a-key" not in out
