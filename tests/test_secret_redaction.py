"""A password written in any shape never reaches a diagnostic: parser errors quote tags, alias
names and keys, and each of those could be the secret itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.file_check import Validator
from tests.helpers import VALID, VALID_V2, write_env

SECRET = "Sup3rS3cret"
REFERENCE = "password: {fromEnv: SMTP_PRIMARY_PASSWORD}"
SPELLINGS = [
    f"password: !{SECRET}",
    f"password: !!{SECRET} x",
    f"password: !<{SECRET}> x",
    f"password: !{SECRET}!x y",
    f"password: *{SECRET}",
    f"password: &{SECRET}",
    f"password: {{{SECRET}}}",
    f"password: {{{SECRET}: 1, {SECRET}: 2}}",
    f"password: {{fromEnv: X, {SECRET}: 1}}",
    f'password: "{SECRET}',
    f"password: '{SECRET}",
    f"password: [{SECRET}]",
    f"password: [{SECRET}",
    f"password: {SECRET}: x",
    f"password: {SECRET}",
    f"password: {SECRET} #",
    f"password: |\n        {SECRET}",
    f"password:\n        !{SECRET}",
    f"password: {'9' * 5000}{SECRET}",
    f"password: @{SECRET}",
    f"password: `{SECRET}",
    f"clientSecret: !{SECRET}",
    f"&k password: {{fromEnv: X}}\n      *k : !{SECRET}",
]
FORMATS = ["text", "json", "github", "sarif"]


def validate(capsys: pytest.CaptureFixture[str], path: Path, output_format: str) -> str:
    code = main(["validate", "--no-color", "--format", output_format, str(path)])
    captured = capsys.readouterr()
    assert code == 1, captured.out
    return captured.out + captured.err


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_no_format_shows_a_password_however_it_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    assert REFERENCE in VALID
    path = write_env(tmp_path, "prod", VALID.replace(REFERENCE, spelling))
    for output_format in FORMATS:
        output = validate(capsys, path, output_format)
        assert SECRET not in output, (output_format, output)
        assert "smtp.yaml" in output  # there is a finding, and it was printed


@pytest.mark.parametrize(
    "spelling", [f"password: !{SECRET}", f"password: *{SECRET}", f"password: {{{SECRET}}}"]
)
def test_the_messages_would_quote_it_without_redaction(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
) -> None:
    """Guards the test above: it checks inputs whose raw messages really do quote the secret."""
    monkeypatch.setattr("smtp_gitops.settings.redaction.redacted", lambda diagnostic: diagnostic)
    path = write_env(tmp_path, "prod", VALID.replace(REFERENCE, spelling))
    assert SECRET in validate(capsys, path, "text")


def test_findings_elsewhere_keep_their_full_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(REFERENCE, f"password: !{SECRET}").replace("port: 587", "port: !Tagged 1")
    path = write_env(tmp_path, "prod", text)
    output = validate(capsys, path, "text")
    assert "tag '!Tagged' is not part of the YAML core schema" in output
    assert SECRET not in output


def test_a_secret_in_the_base_file_is_redacted_through_every_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(
        tmp_path,
        "base",
        "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\nmetadata:\n  environment: base\n"
        f"spec:\n  sets:\n    - name: primary\n      password: {{{SECRET}}}\n",
    )
    write_env(tmp_path, "prod", VALID.replace(f"      {REFERENCE}\n", ""))
    for output_format in FORMATS:
        code = main(["validate", "--format", output_format, str(tmp_path / "environments")])
        captured = capsys.readouterr()
        assert code == 1
        assert "base/smtp.yaml" in captured.out
        assert SECRET not in captured.out + captured.err


def test_render_does_not_show_it_either(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "prod", VALID.replace(REFERENCE, f"password: {{{SECRET}}}"))
    monkeypatch.chdir(tmp_path)
    assert main(["render", "prod", "--redact"]) == 1
    captured = capsys.readouterr()
    assert "unknown-key" in captured.err
    assert SECRET not in captured.out + captured.err


_AROUND = st.text(alphabet="!*&{}[]:,\"'#|>@`%? -\n\t\\", max_size=6)


class _OneFile:
    """A file source holding one settings file, so examples need no disk."""

    def __init__(self, text: str) -> None:
        self.data = text.encode()

    def read(self, path: str) -> bytes:
        return self.data

    def exists(self, path: str) -> bool:
        return path == PATH

    def close(self) -> None:
        pass


PATH = "environments/prod/smtp.yaml"
_KEYS = st.sampled_from(["password: ", '"password": ', "'password': ", "? password\n      : "])


@settings(max_examples=400, derandomize=True, deadline=None)
@given(key=_KEYS, before=_AROUND, after=_AROUND, indent=st.sampled_from(["", "\n        "]))
def test_no_spelling_of_a_password_reaches_a_message(
    key: str, before: str, after: str, indent: str
) -> None:
    text = VALID.replace(REFERENCE, f"{key}{indent}{before}{SECRET}{after}")
    for d in Validator(_OneFile(text)).check(PATH).diagnostics:
        assert SECRET not in d.message + (d.hint or ""), (text, d)


V2_SECRETS = {
    "password": "password: {fromEnv: SMTP_PRIMARY_PASSWORD}",
    "clientSecret": "clientSecret: {fromEnv: SMTP_OAUTH_CLIENT_SECRET}",
}


@pytest.mark.parametrize("key", V2_SECRETS)
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_v2_secrets_are_redacted_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, spelling: str
) -> None:
    assert V2_SECRETS[key] in VALID_V2
    written = spelling.replace("password", key, 1) if spelling.startswith("password") else spelling
    path = write_env(tmp_path, "prod", VALID_V2.replace(V2_SECRETS[key], written))
    for output_format in ("text", "sarif"):
        code = main(["validate", "--no-color", "--format", output_format, str(path)])
        captured = capsys.readouterr()
        assert code in (0, 1)
        assert SECRET not in captured.out + captured.err, (output_format, captured.out)
