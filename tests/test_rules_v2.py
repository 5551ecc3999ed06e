"""The rules on `apiVersion: smtp-gitops/v2`: categories, `auth`, `email`, OAuth 2.0."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.file_check import Validator
from smtp_gitops.settings.diagnostics import Diagnostic
from tests.helpers import VALID, VALID_V2, only, write_env

Check = Callable[..., list[Diagnostic]]

OAUTH_SET = VALID_V2.split("    - name: notifications\n", 1)[1]
TENANT = "          tenantId: 00000000-0000-0000-0000-000000000000\n"


def extra_set(name: str, category: str, enabled: bool = True) -> str:
    return (
        f"    - name: {name}\n      enabled: {'true' if enabled else 'false'}\n"
        f"      category: {category}\n      networkHost: smtp.example.com\n"
        "      defaultCredentials: true\n"
    )


def test_the_v2_baseline_is_clean(check: Check) -> None:
    assert check(VALID_V2) == []


def test_multiple_enabled_is_per_category_and_names_category_and_winner(check: Check) -> None:
    [warning] = only(check(VALID_V2 + extra_set("alerts", "notifications")), "multiple-enabled")
    assert warning.severity.value == "warning"
    assert "category 'notifications'" in warning.message
    assert "uses the first, 'notifications'" in warning.message
    assert "ignores 'alerts'" in warning.message
    assert (warning.line, warning.column) == (31, 16)


def test_one_enabled_set_per_category_is_not_multiple_enabled(check: Check) -> None:
    text = VALID_V2 + extra_set("admin", "administration")
    assert only(check(text), "multiple-enabled") == []


def test_no_enabled_general_set_is_an_error_even_with_other_categories(check: Check) -> None:
    text = VALID_V2.replace(
        "enabled: true\n      networkHost: smtp.example.com",
        "enabled: false\n      networkHost: smtp.example.com",
    )
    [error] = only(check(text), "no-enabled-set")
    assert "category 'general'" in error.message
    assert (error.line, error.column, error.severity.value) == (7, 3, "error")


def test_categories_without_their_own_set_fall_back_silently(check: Check) -> None:
    text = VALID_V2.replace(
        "enabled: true\n      category: notifications",
        "enabled: false\n      category: notifications",
    )
    assert [d.rule for d in check(text)] == []


def test_plaintext_auth_password_and_client_secret(check: Check) -> None:
    text = VALID_V2.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "Pa55-word-xyz").replace(
        "{fromEnv: SMTP_OAUTH_CLIENT_SECRET}", "client-Secret-abc"
    )
    found = check(text)
    plaintext = only(found, "plaintext-secret")
    assert [(d.line, d.column) for d in plaintext] == [(16, 19), (29, 25)]
    assert "OAuth client secret" in plaintext[1].message
    assert "SMTP_NOTIFICATIONS_CLIENT_SECRET" in (plaintext[1].hint or "")
    for d in found:
        assert "Pa55-word-xyz" not in f"{d.message} {d.hint}"
        assert "client-Secret-abc" not in f"{d.message} {d.hint}"


def test_credentials_missing_follows_auth(check: Check) -> None:
    no_auth = VALID_V2.replace(
        "      auth:\n        password: {fromEnv: SMTP_PRIMARY_PASSWORD}\n", ""
    )
    [error] = only(check(no_auth), "credentials-missing")
    assert "no auth" in error.message
    assert (error.line, error.column) == (8, 7)
    empty = VALID_V2.replace(
        "      auth:\n        password: {fromEnv: SMTP_PRIMARY_PASSWORD}\n", "      auth: {}\n"
    )
    [error] = only(check(empty), "credentials-missing")
    assert (error.line, error.column) == (15, 13)
    default = no_auth.replace(
        "      username: portal@example.com\n      email",
        "      defaultCredentials: true\n      email",
    )
    assert only(check(default), "credentials-missing") == []


def test_credentials_ignored_follows_auth(check: Check) -> None:
    text = VALID_V2.replace(
        "      email: no-reply", "      defaultCredentials: true\n      email: no-reply"
    )
    ignored = only(check(text), "credentials-ignored")
    assert [(d.line, d.column, d.message.rsplit(" ", 3)[1]) for d in ignored] == [
        (13, 7, "username"),
        (16, 7, "auth"),
    ]


@pytest.mark.parametrize(
    ("change", "line", "column", "words"),
    [
        ((TENANT, ""), 26, 21, "needs `tenantId`"),
        (
            ("provider: microsoft\n" + TENANT, "provider: custom\n"),
            26,
            21,
            "needs `tokenUrl`",
        ),
        (
            (TENANT, TENANT + "          tokenUrl: http://login.example.com/token\n"),
            28,
            21,
            "https://",
        ),
        (
            (TENANT, TENANT + "          tokenUrl: login.example.com/token\n"),
            28,
            21,
            "https://",
        ),
        (
            (
                "      auth:\n        oauth2:",
                "      auth:\n        password: {fromEnv: X}\n        oauth2:",
            ),
            26,
            9,
            "both",
        ),
    ],
)
def test_oauth2_incomplete(
    check: Check, change: tuple[str, str], line: int, column: int, words: str
) -> None:
    text = VALID_V2.replace(*change)
    assert text != VALID_V2
    [error] = only(check(text), "oauth2-incomplete")
    assert (error.line, error.column, error.severity.value) == (line, column, "error")
    assert words in error.message


@pytest.mark.parametrize(
    "token_url",
    [
        "https://login.example.com/token",
        "http://127.0.0.1:8080/token",
        "http://localhost/t",
        "http://[::1]:9/t",
    ],
)
def test_oauth2_token_urls_that_are_fine(check: Check, token_url: str) -> None:
    text = VALID_V2.replace(TENANT, TENANT + f"          tokenUrl: {token_url}\n")
    assert only(check(text), "oauth2-incomplete") == []


def test_google_and_custom_need_no_tenant(check: Check) -> None:
    google = VALID_V2.replace("provider: microsoft\n" + TENANT, "provider: google\n")
    assert check(google) == []


@pytest.mark.parametrize(
    ("host", "provider", "extra"),
    [
        ("smtp.office365.com", "microsoft", None),
        ("SMTP-Mail.Outlook.com", "microsoft", None),
        ("smtp.gmail.com", "google", "app password"),
    ],
)
def test_basic_auth_deprecated(check: Check, host: str, provider: str, extra: str | None) -> None:
    text = VALID_V2.replace("networkHost: smtp.example.com", f"networkHost: {host}")
    [warning] = only(check(text), "basic-auth-deprecated")
    assert warning.severity.value == "warning"
    assert f"provider: {provider}" in (warning.hint or "")
    assert "auth.oauth2" in (warning.hint or "")
    if extra:
        assert extra in (warning.hint or "")


def test_basic_auth_deprecated_is_quiet_for_v1_and_oauth(check: Check) -> None:
    assert only(check(VALID), "basic-auth-deprecated") == []  # v1 on smtp.gmail.com
    assert only(check(VALID_V2), "basic-auth-deprecated") == []  # OAuth to office365


def test_invalid_email_covers_email(check: Check) -> None:
    text = VALID_V2.replace("email: no-reply@example.com", "email: no-reply")
    [error] = only(check(text), "invalid-email")
    assert (error.line, error.column) == (14, 14)
    assert "email 'no-reply'" in error.message


def test_diagnostics_point_at_the_base_or_the_overlay(tmp_path: Path) -> None:
    base = write_env(
        tmp_path,
        "base",
        VALID_V2.replace("environment: prod", "environment: base").replace(TENANT, ""),
    )
    overlay = write_env(
        tmp_path,
        "prod",
        "apiVersion: smtp-gitops/v2\nkind: SmtpSettings\nmetadata:\n  environment: prod\n"
        "spec:\n  sets:\n    - name: notifications\n      auth:\n        oauth2:\n"
        "          clientSecret: literal-value-q\n",
    )
    found = Validator().check(str(overlay)).diagnostics
    [incomplete] = only(found, "oauth2-incomplete")
    assert (incomplete.file, incomplete.line, incomplete.column) == (str(base), 26, 21)
    [plaintext] = only(found, "plaintext-secret")
    assert (plaintext.file, plaintext.line, plaintext.column) == (str(overlay), 10, 25)


@pytest.mark.parametrize("rule", ["oauth2-incomplete", "basic-auth-deprecated"])
def test_new_rules_explain_themselves(capsys: pytest.CaptureFixture[str], rule: str) -> None:
    assert main(["validate", "--explain", rule]) == 0
    out = capsys.readouterr().out
    assert out.startswith(rule)
    assert "v2" in out


def test_a_v1_password_in_a_v2_file_points_at_auth(check: Check) -> None:
    text = VALID_V2.replace(
        "      auth:\n        password: {fromEnv: SMTP_PRIMARY_PASSWORD}\n",
        "      password: {fromEnv: SMTP_PRIMARY_PASSWORD}\n",
    )
    [error] = only(check(text), "unknown-key")
    assert (error.line, error.column) == (15, 7)
    assert "`auth: {password: ...}`" in (error.hint or "")


def test_v2_keys_in_a_v1_file_suggest_migrate(check: Check) -> None:
    text = VALID.replace("      port: 587\n", "      port: 587\n      category: general\n")
    [error] = only(check(text), "unknown-key")
    assert "smtp-gitops/v2" in (error.hint or "")
    assert "migrate" in (error.hint or "")
