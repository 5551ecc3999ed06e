"""Around the edges every command says the truth: nothing found is an error, outputs replace only
regular files, and a literal secret is reported whatever else is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, write_env


@pytest.mark.parametrize(
    "args",
    [["--root", "nosuch"], [], ["dve"]],
    ids=["a-root-that-does-not-exist", "outside-a-repository", "a-typo"],
)
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_drift_check_that_finds_nothing_does_not_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    output_format: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status", *args, "--format", output_format]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Error: ")
    if output_format == "json":
        document = json.loads(captured.out)
        assert document["errors"] and document["summary"]["unchecked"] >= 1


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: "/dev/full", "is a character device"),
        (lambda d: _fifo(d / "fifo"), "is a FIFO"),
        (lambda d: ((d / "link").symlink_to(d / "target"), str(d / "link"))[1], "symbolic link"),
        (lambda d: "/nonexistent/dir/x.json", "the folder /nonexistent does not exist"),
        (
            lambda d: ((d / "file").write_text("x"), str(d / "file" / "x.json"))[1],
            "is not a folder",
        ),
    ],
    ids=["device", "fifo", "link", "missing-folder", "file-as-folder"],
)
def test_render_out_replaces_only_a_regular_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: object,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    write_env(tmp_path, "prod", VALID)
    out = make(tmp_path)  # type: ignore[operator]
    before = os.lstat(out) if os.path.lexists(out) else None
    assert main(["render", "prod", "--out", out]) == 2
    assert message in capsys.readouterr().err
    after = os.lstat(out) if os.path.lexists(out) else None
    assert (before and after and before.st_ino == after.st_ino) or before is after is None
    assert not Path("/nonexistent").exists(), "no folder is created outside the repository"


def test_a_literal_password_is_reported_with_a_schema_error(
    check: object,
) -> None:
    text = VALID.replace("port: 587", 'port: "587"').replace(
        "{fromEnv: SMTP_PRIMARY_PASSWORD}", "hunter2-literal"
    )
    found = check(text)  # type: ignore[operator]
    assert sorted(d.rule for d in found) == ["plaintext-secret", "schema"]
    assert all("hunter2" not in d.message for d in found)
