"""Validating many files uses forked workers; a worker that dies must not hang the run.

Nothing in the product crashes on purpose, so these tests make a worker die for real: a small
driver replaces the file reader with one that SIGKILLs its own process on chosen files, then
runs the real CLI. Workers are forked, so they inherit the replacement."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers import VALID, write_env

FILES = 70  # over the threshold at which validate starts workers

DRIVER = """
import os, signal, sys
from smtp_gitops.lint import file_check, validator

deadly = set(sys.argv[1].split(","))
read = file_check.load_file

def load_file(path):
    if os.path.basename(os.path.dirname(path)) in deadly:
        os.kill(os.getpid(), signal.SIGKILL)
    return read(path)

check = file_check.Validator._check

def check_path(self, path):
    if "check:" + os.path.basename(os.path.dirname(path)) in deadly:
        os.kill(os.getpid(), signal.SIGKILL)
    return check(self, path)

file_check.load_file = load_file
file_check.Validator._check = check_path
validator._workers = lambda count: 3
from smtp_gitops.commands.cli import main
sys.exit(main(sys.argv[2:]))
"""


def environments(root: Path, count: int = FILES) -> list[str]:
    """``count`` environments, each with one finding of its own (an unknown key)."""
    names = [f"env{i}" for i in range(count)]
    for name in names:
        text = VALID.replace("environment: prod", f"environment: {name}")
        write_env(root, name, f"{text}extra{name}: 1\n")
    return names


def validate_with_crashes(root: Path, *deadly: str) -> tuple[int, dict[str, list[str]], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, ",".join(deadly), "validate", "--format", "json"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    seconds = time.monotonic() - started
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    rules: dict[str, list[str]] = {}
    for diagnostic in report["diagnostics"]:
        folder = Path(diagnostic["file"]).parent.name
        rules.setdefault(folder, []).append(diagnostic["rule"])
    return result.returncode, rules, seconds


def crash_messages(root: Path, *deadly: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, ",".join(deadly), "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return [line for line in result.stdout.splitlines() if "crashed" in line]


def test_a_worker_that_dies_becomes_a_diagnostic_and_every_other_file_is_reported(
    tmp_path: Path,
) -> None:
    names = environments(tmp_path)
    code, rules, seconds = validate_with_crashes(tmp_path, "env7")
    assert code == 1
    assert seconds < 60
    assert rules.pop("env7") == ["unsafe-yaml"]
    assert rules == {name: ["unknown-key"] for name in names if name != "env7"}
    (message,) = crash_messages(tmp_path, "env7")
    assert "env7/smtp.yaml:1:1: error unsafe-yaml: checking this file crashed" in message
    assert "killed by SIGKILL" in message


def test_several_deadly_files_in_the_same_worker(tmp_path: Path) -> None:
    names = environments(tmp_path)
    deadly = {"env3", "env6", "env9", "env69"}  # env3/env6/env9 share a worker of three
    code, rules, _ = validate_with_crashes(tmp_path, *deadly)
    assert code == 1
    assert {name: rules[name] for name in deadly} == {name: ["unsafe-yaml"] for name in deadly}
    assert all(rules[name] == ["unknown-key"] for name in names if name not in deadly)
    assert len(rules) == FILES


def test_a_deadly_base_is_the_file_blamed_not_the_environments_built_on_it(
    tmp_path: Path,
) -> None:
    environments(tmp_path)
    write_env(tmp_path, "base", "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\n")
    code, rules, seconds = validate_with_crashes(tmp_path, "base")
    assert code == 1 and seconds < 60
    # Environments are not merged over a base that could not be read, as with any broken base.
    assert rules == {"base": ["unsafe-yaml"]}
    (message,) = crash_messages(tmp_path, "base")
    assert "base/smtp.yaml:1:1:" in message


def test_without_crashes_the_workers_agree_with_a_serial_run(tmp_path: Path) -> None:
    from smtp_gitops.lint.file_check import check_serially as _check_all

    environments(tmp_path)
    code, rules, _ = validate_with_crashes(tmp_path)
    files = sorted(str(p) for p in (tmp_path / "environments").glob("*/smtp.yaml"))
    serial = _check_all(files)[0]
    assert code == 1
    assert sum(len(found) for found in rules.values()) == len(serial) == FILES


def test_a_worker_dying_after_parsing_blames_the_file_it_was_checking(tmp_path: Path) -> None:
    """Not a parser crash: it dies again even when told not to parse the file; no endless retry."""
    names = environments(tmp_path)
    code, rules, seconds = validate_with_crashes(tmp_path, "check:env7")
    assert code == 1 and seconds < 60
    assert rules.pop("env7") == ["unsafe-yaml"]
    assert rules == {name: ["unknown-key"] for name in names if name != "env7"}


def test_workers_cap_each_file_like_a_serial_run(tmp_path: Path) -> None:
    for i in range(FILES):
        text = VALID.replace("environment: prod", f"environment: env{i}")
        write_env(tmp_path, f"env{i}", text + "".join(f"extra{k}: 1\n" for k in range(150)))
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, "", "validate", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report["summary"] == {"files": FILES, "errors": FILES * 150, "warnings": 0}
    assert len(report["diagnostics"]) == FILES * 101
    notes = [d for d in report["diagnostics"] if "more diagnostics in this file" in d["message"]]
    assert len(notes) == FILES
    assert all(d["message"].startswith("50 more diagnostics") for d in notes)
