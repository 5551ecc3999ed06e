"""`smtp-gitops render`: portal field names, templates, secrets, determinism, refusals."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, write_env

PASSWORD = "render-secret-Value-42"
SECOND = """\
    - name: backup
      enabled: true
      networkHost: smtp.example.com
      username: backup@example.com
      password: {fromFile: SECRET_FILE}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    secret_file = tmp_path / "backup.secret"
    secret_file.write_text("file-secret\n")
    write_env(tmp_path, "prod", VALID + SECOND.replace("SECRET_FILE", str(secret_file)))
    return tmp_path


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["render", *args])
    captured = capsys.readouterr()
    assert PASSWORD not in captured.err
    return code, captured.out, captured.err


def test_portal_json_uses_portal_field_names_and_the_first_enabled_set(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = render(capsys, "prod")
    assert code == 0
    config = json.loads(out)
    assert config["EffectiveSet"] == {
        "Name": "primary",
        "Enabled": True,
        "NetworkHost": "smtp.gmail.com",
        "Username": "portal@example.com",
        "Password": PASSWORD,
        "Port": 587,
        "EnableSsl": True,
        "DefaultCredentials": False,
        "RedirectToReportEmail": False,
        "ReportEmails": [{"Email": "qa@example.com", "Enabled": True}],
    }
    assert [s["Name"] for s in config["SmtpSettings"]] == ["primary", "backup"]
    assert config["SmtpSettings"][1]["Password"] == "file-secret"


def test_output_is_byte_for_byte_deterministic(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = render(capsys, "prod")[1]
    assert render(capsys, "prod")[1] == first


def test_redact_resolves_no_secret(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PRIMARY_PASSWORD")
    code, out, _ = render(capsys, "prod", "--redact")
    assert code == 0
    assert [s["Password"] for s in json.loads(out)["SmtpSettings"]] == ["***", "***"]


def test_dotenv_template(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = render(capsys, "prod", "--template", "dotenv")
    assert code == 0
    assert "SMTP_SET=primary\n" in out
    assert "SMTP_NETWORK_HOST=smtp.gmail.com\n" in out
    assert f"SMTP_PASSWORD={PASSWORD}\n" in out
    assert "SMTP_REPORT_EMAILS=qa@example.com\n" in out


def test_user_template(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    template = repo / "custom.ini.j2"
    template.write_text("[smtp]\nhost={{ effective.networkHost }}\nsets={{ sets | length }}\n")
    code, out, _ = render(capsys, "prod", "--template", "custom.ini.j2")
    assert (code, out) == (0, "[smtp]\nhost=smtp.gmail.com\nsets=2\n")


def test_undefined_template_variable_is_a_clear_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = repo / "bad.j2"
    template.write_text("first line\n{{ effective.hostname }}\n")
    code, out, err = render(capsys, "prod", "--template", "bad.j2")
    assert code == 1 and out == ""
    assert "template bad.j2 (line 2): 'dict object' has no attribute 'hostname'" in err
    assert "Traceback" not in err


def test_missing_secret_names_the_variable_and_renders_nothing(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PRIMARY_PASSWORD")
    code, out, err = render(capsys, "prod")
    assert code == 1 and out == ""
    assert "SMTP_PRIMARY_PASSWORD is not set" in err


def test_missing_secret_file_names_the_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "backup.secret").unlink()
    code, _, err = render(capsys, "prod")
    assert code == 1 and "backup.secret" in err


def test_invalid_settings_are_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(repo, "prod", VALID.replace("port: 587", "port: 0"))
    code, out, err = render(capsys, "prod", "--out", "smtp.json")
    assert code == 1 and out == ""
    assert "environments/prod/smtp.yaml:11:13: error schema" in err
    assert not (repo / "smtp.json").exists()


def test_unknown_environment_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = render(capsys, "nope")
    assert code == 2 and "no environment 'nope'" in err and "known: prod" in err


def test_out_writes_owner_only_and_leaves_no_temporary_files(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = repo / "out" / "smtp.json"
    code, out, _ = render(capsys, "prod", "--out", str(target))
    assert code == 0 and out == ""
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["Environment"] == "prod"
    assert [p.name for p in target.parent.iterdir()] == ["smtp.json"]


def test_secrets_are_redacted_when_printing_to_a_terminal(repo: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "smtp_gitops", "render", "prod"],
        stdout=follower,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, "SMTP_PRIMARY_PASSWORD": PASSWORD},
    )
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert done.returncode == 0
    assert "secrets redacted on a terminal" in done.stderr
    assert PASSWORD.encode() not in screen and b'"Password": "***"' in screen


def test_unwritable_out_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "blocker").write_text("a file, not a folder")
    code, _, err = render(capsys, "prod", "--out", str(repo / "blocker" / "smtp.json"))
    assert code == 2 and "blocker is not a folder" in err and "Traceback" not in err


@pytest.mark.parametrize("special", ["/dev/zero", "fifo", "folder"])
def test_a_secret_file_must_be_a_regular_file(
    repo: Path, capsys: pytest.CaptureFixture[str], special: str
) -> None:
    import os

    path = special
    if special == "fifo":
        os.mkfifo(repo / "fifo")  # opening it for reading would wait for a writer forever
        path = str(repo / "fifo")
    elif special == "folder":
        (repo / "folder").mkdir()
        path = str(repo / "folder")
    write_env(repo, "prod", VALID + SECOND.replace("SECRET_FILE", path))
    code, out, err = render(capsys, "prod")
    assert code == 1 and out == ""
    assert f"secret file {path} is not a regular file (password of set 'backup')" in err


def test_a_secret_file_over_the_cap_is_refused_unread(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtp_gitops.render.secrets import MAX_SECRET_FILE_BYTES

    big = repo / "big.secret"
    big.write_bytes(b"x" * (MAX_SECRET_FILE_BYTES + 1))
    (repo / "link.secret").symlink_to(big)  # the cap applies to what a link resolves to
    write_env(repo, "prod", VALID + SECOND.replace("SECRET_FILE", str(repo / "link.secret")))
    code, out, err = render(capsys, "prod")
    assert code == 1 and out == ""
    assert f"is larger than {MAX_SECRET_FILE_BYTES} bytes" in err
    big.write_bytes(b"x" * (MAX_SECRET_FILE_BYTES - 1) + b"\n")
    code, out, _ = render(capsys, "prod")
    assert code == 0
    assert json.loads(out)["SmtpSettings"][1]["Password"] == "x" * (MAX_SECRET_FILE_BYTES - 1)
