"""A file with a huge number of problems is reported quickly, in bounded output and memory: the
first MAX_PER_FILE diagnostics of each file, then one saying how many more there are."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.loader import MAX_FILE_BYTES
from smtp_gitops.settings.diagnostics import (
    MAX_PER_FILE,
    Diagnostic,
    Mark,
    Omitted,
    Report,
    Severity,
)
from tests.helpers import VALID, git, write_env

MEASURE = """
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=False)
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{result.returncode} {peak_kib} {len(result.stdout)}")
sys.stderr.write(result.stderr)
"""


def unknown_keys_file(root: Path, env: str = "prod", keys: int = 60_000) -> Path:
    """Up to 1 MiB of distinct unknown keys."""
    text = VALID.replace("environment: prod", f"environment: {env}")
    text += "".join(f"unknownKey{i}: {i}\n" for i in range(keys))
    text = text[: MAX_FILE_BYTES - 64]
    return write_env(root, env, text[: text.rfind("\n") + 1])


def test_a_mebibyte_of_unknown_keys_validates_in_seconds_with_bounded_memory(
    tmp_path: Path,
) -> None:
    unknown_keys_file(tmp_path)
    command = [sys.executable, "-m", "smtp_gitops", "validate", "--format", "sarif"]
    started = time.monotonic()
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    seconds = time.monotonic() - started
    code, peak_kib, output_chars = (int(n) for n in measured.stdout.split())
    assert code == 1, measured.stderr
    assert seconds < 30  # about 3 s; it took 10 s and 655 MB before the cap
    assert peak_kib < 300 * 1024
    assert output_chars < 200_000


def test_json_lists_the_first_diagnostics_then_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = unknown_keys_file(tmp_path, keys=5_000)
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    diagnostics = report["diagnostics"]
    assert len(diagnostics) == MAX_PER_FILE + 1
    assert [d["rule"] for d in diagnostics] == ["unknown-key"] * (MAX_PER_FILE + 1)
    assert diagnostics[0]["message"] == "unknown key `unknownKey0` in (document)"
    assert diagnostics[-1]["message"] == (
        f"{5_000 - MAX_PER_FILE} more diagnostics in this file not shown "
        f"({5_000 - MAX_PER_FILE} errors, 0 warnings)"
    )
    assert report["summary"]["errors"] == 5_000


def test_every_file_gets_its_own_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(8):
        unknown_keys_file(tmp_path, f"env{i}", keys=1_000)
    assert main(["validate", "--format", "text", str(tmp_path / "environments")]) == 1
    lines = capsys.readouterr().out.splitlines()
    notes = [line for line in lines if "more diagnostics in this file not shown" in line]
    assert len(notes) == 8
    assert lines[-1] == "8 files checked: 8000 errors, 0 warnings"
    # each with its source line, the caret under it and its hint line
    assert len(lines) == 8 * (4 * (MAX_PER_FILE + 1)) + 1


def test_repeated_keys_are_capped_while_loading(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", "a: 1\n" * 100_000)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "smtp_gitops", "validate", "--format", "github"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert time.monotonic() - started < 30
    lines = result.stdout.splitlines()
    assert len(lines) <= MAX_PER_FILE + 1
    # 99,999 repeats, plus the missing apiVersion/kind and the unknown key `a`
    assert "99904 more diagnostics in this file not shown (99904 errors" in lines[-1]


def test_hidden_errors_still_fail_the_run_when_only_warnings_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emails = "".join("        - {email: qa@example.com}\n" for _ in range(MAX_PER_FILE + 2))
    text = VALID.replace("        - {email: qa@example.com, enabled: true}\n", emails)
    # An error placed after all the warnings.
    text += "    - name: zz\n      networkHost: 'bad host!'\n      defaultCredentials: true\n"
    path = write_env(tmp_path, "prod", text)
    assert main(["validate", "--format", "json", str(path)]) == 1
    report = json.loads(capsys.readouterr().out)
    shown = report["diagnostics"]
    assert {d["rule"] for d in shown[:-1]} == {"duplicate-report-email"}
    assert shown[-1]["severity"] == "error"
    assert shown[-1]["message"].endswith("(1 errors, 1 warnings)")
    assert report["summary"] == {"files": 1, "errors": 1, "warnings": MAX_PER_FILE + 1}


def test_report_counts_what_it_does_not_list() -> None:
    report = Report(files=["a.yaml", "b.yaml"])
    many = [
        Diagnostic("schema", Severity.WARNING, Mark("a.yaml", line, 1), f"w{line}")
        for line in range(1, 151)
    ]
    report.add(many)
    report.add(many)  # the same findings through a second environment count once
    report.add([Omitted("schema", Severity.ERROR, Mark("a.yaml", 1, 1), "counted", count=7)])
    report.add([Diagnostic("schema", Severity.ERROR, Mark("b.yaml", 1, 1), "e")])
    report.finish()
    a_file = [d for d in report.diagnostics if d.file == "a.yaml"]
    assert len(a_file) == MAX_PER_FILE + 1
    assert (
        a_file[-1].message == "57 more diagnostics in this file not shown (7 errors, 50 warnings)"
    )
    assert (report.errors, report.warnings) == (8, 150)
    assert report.exit_code(strict=False) == 1


def test_a_run_keeps_only_base_files_in_memory(tmp_path: Path) -> None:
    from smtp_gitops.lint.file_check import Validator

    write_env(tmp_path, "base", "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\n")
    paths = [str(unknown_keys_file(tmp_path, f"env{i}", keys=100)) for i in range(3)]
    validator = Validator()
    for path in paths:
        assert validator.check(path).diagnostics
    base = str(tmp_path / "environments" / "base" / "smtp.yaml")
    assert list(validator._loaded) == [base]


def test_plan_counts_every_error_of_a_capped_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "prod", VALID)
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "start")
    unknown_keys_file(tmp_path, keys=5_000)
    monkeypatch.chdir(tmp_path)
    main(["plan", "--base", "HEAD"])
    assert "(5000 errors)" in capsys.readouterr().out
