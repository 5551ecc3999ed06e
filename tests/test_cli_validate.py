"""The `validate` command as users run it: exit codes, formats, bad input without tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, write_env

REPO = Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a real process, as pre-commit and CI call it."""
    return subprocess.run(
        [sys.executable, "-m", "smtp_gitops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )


def test_bundled_example_validates_clean_even_when_strict() -> None:
    """staging's deliberate second enabled set is suppressed by a comment that says why."""
    result = run(["validate", "--strict"], REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "4 files checked: 0 errors, 0 warnings\n"
    staging = (REPO / "environments" / "staging" / "smtp.yaml").read_text()
    assert "# smtp-gitops: ignore[multiple-enabled] -- " in staging


def test_strict_turns_warnings_into_failure(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", VALID.replace("enableSsl: true", "enableSsl: false"))
    assert run(["validate", "environments"], tmp_path).returncode == 0
    assert run(["validate", "--strict", "environments"], tmp_path).returncode == 1


BAD_INPUTS = {
    "malformed": ("apiVersion: smtp-gitops/v1\nkind: {\n", "yaml-syntax"),
    "list-where-map": (
        VALID.replace("metadata:\n  environment: prod\n  production: true\n", "metadata: [prod]\n"),
        "schema",
    ),
    "number-where-string": (VALID.replace("smtp.gmail.com", "42"), "schema"),
    "empty": ("", "schema"),
    "only-comments": ("# nothing here yet\n# still nothing\n", "schema"),
    "top-level-list": ("- a\n- b\n", "schema"),
    "scalar-document": ("just text\n", "schema"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_gives_a_diagnostic_not_a_traceback(tmp_path: Path, case: str) -> None:
    text, rule = BAD_INPUTS[case]
    write_env(tmp_path, "prod", text)
    result = run(["validate", "--format", "json", "environments"], tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert rule in {d["rule"] for d in document["diagnostics"]}
    for diagnostic in document["diagnostics"]:
        assert diagnostic["line"] >= 1 and diagnostic["column"] >= 1
        assert diagnostic["file"] == "environments/prod/smtp.yaml"


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = run(["validate", "nowhere/smtp.yaml"], tmp_path)
    assert result.returncode == 2
    assert "nowhere/smtp.yaml: no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_settings_files_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    result = run(["validate", "empty"], tmp_path)
    assert result.returncode == 2
    assert "no smtp.yaml or smtp.yml found" in result.stderr


def test_unreadable_file_is_an_io_error_and_others_are_still_checked(tmp_path: Path) -> None:
    dangling = tmp_path / "environments" / "dev" / "smtp.yaml"
    dangling.parent.mkdir(parents=True)
    dangling.symlink_to(tmp_path / "environments" / "dev" / "gone.yaml")
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: 0"))
    result = run(
        ["validate", "environments/dev/smtp.yaml", "environments/prod/smtp.yaml"], tmp_path
    )
    assert result.returncode == 2
    assert "cannot read environments/dev/smtp.yaml" in result.stderr
    assert "environments/prod/smtp.yaml:11:13: error schema" in result.stdout


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write_env(tmp_path, "dev", "kind: [\n")
    write_env(tmp_path, "prod", VALID.replace("enableSsl: true", "enableSSL: true"))
    result = run(["validate", "--no-color"], tmp_path)
    assert result.returncode == 1
    assert "environments/dev/smtp.yaml:2:1: error yaml-syntax:" in result.stdout
    assert (
        "environments/prod/smtp.yaml:12:7: error unknown-key: unknown key `enableSSL`"
        in result.stdout
    )
    assert "hint: did you mean `enableSsl`?" in result.stdout


def test_json_format_has_diagnostics_and_summary(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: 0"))
    result = run(["validate", "--format", "json"], tmp_path)
    document = json.loads(result.stdout)
    assert document["summary"] == {"files": 1, "errors": 1, "warnings": 0}
    [diagnostic] = document["diagnostics"]
    assert diagnostic == {
        "rule": "schema",
        "severity": "error",
        "file": "environments/prod/smtp.yaml",
        "line": 11,
        "column": 13,
        "message": "spec.sets[primary].port: must be at least 1",
        "hint": "a port is 1 to 65535; 587 is recommended",
    }


def test_quiet_prints_only_diagnostics(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(tmp_path, "prod", VALID)
    assert main(["validate", "-q", str(tmp_path / "environments")]) == 0
    assert capsys.readouterr().out == ""


def test_explain_prints_the_rule_doc(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--explain", "multiple-enabled"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("multiple-enabled (warning)")
    assert "first enabled set" in out


def test_explain_unknown_rule_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--explain", "no-such-rule"]) == 2
    assert "unknown rule" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--bogus"]) == 2


def test_version() -> None:
    result = run(["--version"], REPO)
    assert result.returncode == 0
    assert result.stdout.startswith("smtp-gitops, version ")
