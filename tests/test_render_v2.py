"""Rendering and planning `apiVersion: smtp-gitops/v2`: categories, email, OAuth 2.0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID_V2, git, write_env

PASSWORD = "v2-password-Value-7"
CLIENT_SECRET = "v2-client-Secret-9"
ADMIN_SET = """\
    - name: admin
      enabled: true
      category: administration
      networkHost: smtp.gmail.com
      username: admin@example.com
      auth:
        oauth2:
          provider: google
          clientId: admin-client
          clientSecret: {fromFile: SECRET_FILE}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("SMTP_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    write_env(tmp_path, "prod", VALID_V2)
    return tmp_path


def render(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["render", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_portal_json_writes_effective_sets_per_category_after_fallback(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = render(capsys, "prod")
    assert code == 0, err
    config = json.loads(out)
    effective = config["EffectiveSets"]
    assert list(effective) == ["Administration", "General", "Notifications"]
    assert effective["General"]["Name"] == "primary"
    assert effective["Administration"]["Name"] == "primary"  # no own set: falls back
    assert effective["Notifications"]["Name"] == "notifications"
    assert config["EffectiveSet"] == effective["General"]
    primary, notifications = config["SmtpSettings"]
    assert primary["Category"] == "General"
    assert primary["Email"] == "no-reply@example.com"
    assert primary["AuthenticationMethod"] == "Password"
    assert primary["Password"] == PASSWORD
    assert primary["OAuth2"] is None
    assert notifications["Category"] == "Notifications"
    assert notifications["Email"] == "portal@example.com"  # defaults to the username
    assert notifications["AuthenticationMethod"] == "OAuth2"
    assert notifications["Password"] is None
    tenant = "00000000-0000-0000-0000-000000000000"
    assert notifications["OAuth2"] == {
        "Provider": "Microsoft",
        "TenantId": tenant,
        "ClientId": "11111111-2222-3333-4444-555555555555",
        "ClientSecret": CLIENT_SECRET,
        "TokenUrl": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "Scope": "https://outlook.office365.com/.default",
    }


def test_own_category_set_wins_and_google_defaults_apply(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    secret = tmp_path / "admin.secret"
    secret.write_text("admin-file-secret\n")
    write_env(tmp_path, "prod", VALID_V2 + ADMIN_SET.replace("SECRET_FILE", str(secret)))
    code, out, err = render(capsys, "prod")
    assert code == 0, err
    config = json.loads(out)
    admin = config["EffectiveSets"]["Administration"]
    assert admin["Name"] == "admin"
    assert admin["OAuth2"]["Provider"] == "Google"
    assert admin["OAuth2"]["TokenUrl"] == "https://oauth2.googleapis.com/token"
    assert admin["OAuth2"]["Scope"] == "https://mail.google.com/"
    assert admin["OAuth2"]["TenantId"] is None
    assert admin["OAuth2"]["ClientSecret"] == "admin-file-secret"


def test_only_enabled_sets_secrets_are_resolved(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SMTP_OAUTH_CLIENT_SECRET")
    text = VALID_V2.replace(
        "enabled: true\n      category: notifications",
        "enabled: false\n      category: notifications",
    )
    write_env(tmp_path, "prod", text)
    code, out, err = render(capsys, "prod")
    assert code == 0, err
    config = json.loads(out)
    assert config["SmtpSettings"][1]["OAuth2"]["ClientSecret"] is None
    assert config["EffectiveSets"]["Notifications"]["Name"] == "primary"


def test_a_missing_client_secret_names_the_variable(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_OAUTH_CLIENT_SECRET")
    code, out, err = render(capsys, "prod")
    assert code == 1
    assert "SMTP_OAUTH_CLIENT_SECRET" in err
    assert "OAuth client secret of set 'notifications'" in err
    assert out == ""


def test_redacted_render_shows_no_secret(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = render(capsys, "prod", "--redact")
    assert code == 0
    assert PASSWORD not in out
    assert CLIENT_SECRET not in out
    config = json.loads(out)
    assert config["SmtpSettings"][1]["OAuth2"]["ClientSecret"] == "***"


def test_custom_provider_uses_its_token_url_and_scope(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = VALID_V2.replace(
        "provider: microsoft\n          tenantId: 00000000-0000-0000-0000-000000000000\n",
        "provider: custom\n          tokenUrl: https://idp.example.com/token\n"
        "          scope: smtp.send\n",
    )
    write_env(tmp_path, "prod", text)
    code, out, err = render(capsys, "prod")
    assert code == 0, err
    oauth2 = json.loads(out)["SmtpSettings"][1]["OAuth2"]
    assert (oauth2["Provider"], oauth2["TokenUrl"], oauth2["Scope"]) == (
        "Custom",
        "https://idp.example.com/token",
        "smtp.send",
    )


def test_dotenv_writes_the_general_set_with_email_and_auth(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Make the OAuth set the General one, so its OAuth variables are written.
    text = VALID_V2.replace(
        "enabled: true\n      networkHost: smtp.example.com",
        "enabled: false\n      networkHost: smtp.example.com",
    ).replace("category: notifications", "category: general")
    write_env(tmp_path, "prod", text)
    code, out, err = render(capsys, "prod", "--template", "dotenv")
    assert code == 0, err
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert lines["SMTP_SET"] == "notifications"
    assert lines["SMTP_EMAIL"] == "portal@example.com"
    assert lines["SMTP_AUTHENTICATION_METHOD"] == "oauth2"
    assert lines["SMTP_PASSWORD"] == ""
    assert lines["SMTP_OAUTH2_CLIENT_SECRET"] == CLIENT_SECRET
    assert lines["SMTP_OAUTH2_SCOPE"] == "https://outlook.office365.com/.default"


def _plan(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["plan", "--base", "HEAD", *args]) == 0
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert PASSWORD not in output
    assert CLIENT_SECRET not in output
    return output


def test_plan_diffs_v2_fields_and_names_the_effective_set_per_category(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "v2 settings")
    path = repo / "environments" / "prod" / "smtp.yaml"
    text = path.read_text()
    text = text.replace("clientId: 11111111-2222-3333-4444-555555555555", "clientId: new-client")
    text = text.replace("{fromEnv: SMTP_OAUTH_CLIENT_SECRET}", "{fromEnv: SMTP_OAUTH_NEW_SECRET}")
    text = text.replace(
        "enabled: true\n      category: notifications",
        "enabled: false\n      category: notifications",
    )
    text = text.replace("email: no-reply@example.com", "email: mailer@example.com")
    path.write_text(text)
    out = _plan(capsys)
    assert (
        "sets.notifications.OAuth2.ClientId: 11111111-2222-3333-4444-555555555555 → new-client"
        in out
    )
    assert (
        "sets.notifications.OAuth2.ClientSecret: env:SMTP_OAUTH_CLIENT_SECRET → "
        "env:SMTP_OAUTH_NEW_SECRET" in out
    )
    assert "sets.primary.Email: no-reply@example.com → mailer@example.com" in out
    assert (
        "effective sets: administration primary (fallback), general primary, "
        "notifications notifications → primary (fallback)" in out
    )
    markdown = _plan(capsys, "--format", "markdown")
    assert (
        "Effective sets: administration `primary` (fallback), general `primary`, "
        "notifications `notifications` → `primary` (fallback)" in markdown
    )
    assert "| `sets.notifications.Category` |" not in markdown  # unchanged fields stay out
