"""`smtp-gitops migrate`: v1 files become v2 with comments and layout kept, and render the same."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import write_env

DATA = Path(__file__).resolve().parent / "data"
SECRETS = {"SMTP_PRIMARY_PASSWORD": "primary-pw", "SMTP_BACKUP_PASSWORD": "backup-pw"}
V1_FIELDS = (
    "Name",
    "Enabled",
    "NetworkHost",
    "Username",
    "Password",
    "Port",
    "EnableSsl",
    "DefaultCredentials",
    "RedirectToReportEmail",
    "ReportEmails",
)


@pytest.fixture
def v1_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(DATA / "v1-environments", tmp_path / "environments")
    monkeypatch.chdir(tmp_path)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("smtp.yaml"))}


def v1_view(portal_set: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if portal_set is None else {k: portal_set[k] for k in V1_FIELDS}


def test_the_bundled_v1_example_migrates_and_renders_the_same_settings(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {}
    for env in ("dev", "staging", "prod"):
        assert main(["render", env]) == 0
        before[env] = json.loads(capsys.readouterr().out)
    code, out = run(capsys, "migrate")
    assert code == 0, out
    assert "4 file(s) checked: 4 migrated, 0 already v2" in out
    for path in (v1_repo / "environments").glob("*/smtp.yaml"):
        text = path.read_text()
        assert "apiVersion: smtp-gitops/v2" in text
        # The base and the files merged over it: the overlay schema.
        assert text.startswith(
            "# yaml-language-server: $schema=../../schema/smtp-settings.v2.overlay.schema.json\n"
        )
    code, out = run(capsys, "validate")
    assert code == 0, out
    assert "0 errors" in out  # v2 adds basic-auth-deprecated warnings for Gmail and Office 365
    assert "basic-auth-deprecated" in out
    for env in ("dev", "staging", "prod"):
        assert main(["render", env]) == 0
        after = json.loads(capsys.readouterr().out)
        assert v1_view(after["EffectiveSet"]) == v1_view(before[env]["EffectiveSet"])
        assert [v1_view(s) for s in after["SmtpSettings"]] == [
            v1_view(s) for s in before[env]["SmtpSettings"]
        ]
        # v1 has no categories: every category uses the one effective set.
        assert {v1_view(s)["Name"] for s in after["EffectiveSets"].values() if s} <= {  # type: ignore[index]
            before[env]["EffectiveSet"]["Name"]
        }
    code, out = run(capsys, "migrate", "--check")
    assert (code, out.strip()) == (0, "4 file(s) checked: 0 would be migrated, 4 already v2")


TRICKY = """\
# yaml-language-server: $schema=../../schema/smtp-settings.v1.schema.json
# A hand-written file: comments, quoting and odd layouts must survive.
apiVersion: "smtp-gitops/v1"   # the format
kind: SmtpSettings
metadata:
  environment: prod
spec:
  sets:
    # the main set
    - name: primary
      enabled: true
      networkHost: smtp.example.com
      username: portal@example.com
      password: {fromEnv: SMTP_PRIMARY_PASSWORD}   # rotated monthly

      reportEmails: [{email: qa@example.com}]
    - password:                # first key of its set, value on the next lines
        fromFile: /run/secrets/backup
      name: backup
      networkHost: smtp.example.com
      username: backup@example.com
    - {name: flow, networkHost: smtp.example.com, username: f@example.com, password: {fromEnv: F}}
    - name: default
      networkHost: smtp.example.com
      defaultCredentials: true
"""

TRICKY_V2 = """\
# yaml-language-server: $schema=../../schema/smtp-settings.v2.schema.json
# A hand-written file: comments, quoting and odd layouts must survive.
apiVersion: "smtp-gitops/v2"   # the format
kind: SmtpSettings
metadata:
  environment: prod
spec:
  sets:
    # the main set
    - name: primary
      enabled: true
      networkHost: smtp.example.com
      username: portal@example.com
      auth:
        password: {fromEnv: SMTP_PRIMARY_PASSWORD}   # rotated monthly

      reportEmails: [{email: qa@example.com}]
    - auth:
        password:                # first key of its set, value on the next lines
          fromFile: /run/secrets/backup
      name: backup
      networkHost: smtp.example.com
      username: backup@example.com
    - {name: flow, networkHost: smtp.example.com, username: f@example.com, auth: {password: {fromEnv: F}}}
    - name: default
      networkHost: smtp.example.com
      defaultCredentials: true
"""


def test_only_what_v2_spells_differently_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_env(tmp_path, "prod", TRICKY)
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "migrate")
    assert code == 0, out
    assert path.read_text() == TRICKY_V2
    code, out = run(capsys, "validate", str(path))
    assert code == 0, out


def test_crlf_and_bom_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_env(tmp_path, "prod", "")
    path.write_bytes(b"\xef\xbb\xbf" + TRICKY.replace("\n", "\r\n").encode())
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "migrate")[0] == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + TRICKY_V2.replace("\n", "\r\n").encode()


def test_check_changes_nothing_and_exits_1(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(v1_repo)
    code, out = run(capsys, "migrate", "--check")
    assert code == 1
    assert "would migrate environments/prod/smtp.yaml" in out
    assert snapshot(v1_repo) == before


def test_usage_errors_exit_2(v1_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "migrate", "no/such/folder")[0] == 2
    assert run(capsys, "migrate", "--check", "no/such/file.yaml")[0] == 2
    assert run(capsys, "migrate", "--bogus")[0] == 2


def test_a_base_and_its_environments_migrate_together(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run(capsys, "migrate", "environments/prod/smtp.yaml")
    assert code == 0, out
    for env in ("base", "dev", "staging", "prod"):
        text = (v1_repo / "environments" / env / "smtp.yaml").read_text()
        assert "apiVersion: smtp-gitops/v2" in text, env
    assert run(capsys, "validate")[0] == 0


def test_a_broken_file_stops_the_whole_migration(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    staging = v1_repo / "environments" / "staging" / "smtp.yaml"
    staging.write_text(staging.read_text().replace("kind: SmtpSettings", "kind: [SmtpSettings"))
    before = snapshot(v1_repo)
    code, out = run(capsys, "migrate")
    assert code == 2
    assert "staging/smtp.yaml" in out
    assert "nothing was changed" in out
    assert snapshot(v1_repo) == before


def test_permissions_are_kept_and_no_temporary_file_is_left(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prod = v1_repo / "environments" / "prod" / "smtp.yaml"
    prod.chmod(0o640)
    assert run(capsys, "migrate")[0] == 0
    assert stat.S_IMODE(prod.stat().st_mode) == 0o640
    assert sorted(p.name for p in prod.parent.iterdir()) == ["smtp.yaml"]


def test_an_unknown_api_version_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(tmp_path, "prod", TRICKY.replace("smtp-gitops/v1", "smtp-gitops/v9"))
    monkeypatch.chdir(tmp_path)
    code, out = run(capsys, "migrate")
    assert code == 2
    assert "'smtp-gitops/v9'" in out


OWN_LINE_IGNORES = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: dev
spec:
  sets:
    - name: primary
      enabled: true
      networkHost: localhost
      port: 1025
      defaultCredentials: true
      # smtp-gitops: ignore[plaintext-secret, credentials-ignored] -- local catcher only
      password: "catcher"
    - name: other
      enabled: false
      networkHost: localhost
      port: 1025
      username: dev@example.com
      # smtp-gitops: ignore[plaintext-secret] -- local catcher only

      password: "x"
"""


def test_ignores_on_their_own_line_above_a_password_keep_covering_their_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = write_env(tmp_path, "dev", OWN_LINE_IGNORES)
    before = run(capsys, "validate", "--strict", "--format", "json")
    assert before[0] == 0, before[1]
    assert run(capsys, "migrate")[0] == 0
    migrated = path.read_text()
    assert (
        "      # smtp-gitops: ignore[credentials-ignored] -- local catcher only\n"
        "      auth:\n"
        "        # smtp-gitops: ignore[plaintext-secret] -- local catcher only\n"
        '        password: "catcher"\n'
    ) in migrated
    assert (
        "      auth:\n"
        "        # smtp-gitops: ignore[plaintext-secret] -- local catcher only\n"
        '        password: "x"\n'
    ) in migrated
    after = run(capsys, "validate", "--strict", "--format", "json")
    assert after[0] == 0, after[1]
    assert json.loads(after[1])["diagnostics"] == []
