"""`smtp-gitops init` scaffolds environments that validate clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smtp_gitops.cli import main
from smtp_gitops.validator import validate_files

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("production", [False, True])
def test_new_environment_validates_clean(tmp_path: Path, production: bool) -> None:
    root = tmp_path / "environments"
    args = ["init", "qa-eu", "--root", str(root)] + (["--production"] if production else [])
    assert main(args) == 0
    path = root / "qa-eu" / "smtp.yaml"
    assert path.read_text().startswith("# yaml-language-server: $schema=../../schema/")
    report, _ = validate_files([str(path)])
    assert report.diagnostics == []


def test_over_an_existing_base_the_file_is_a_lean_overlay(tmp_path: Path) -> None:
    root = tmp_path / "environments"
    shutil.copytree(REPO / "environments" / "base", root / "base")
    assert main(["init", "uat", "--root", str(root)]) == 0
    text = (root / "uat" / "smtp.yaml").read_text()
    assert "networkHost" not in text
    report, _ = validate_files([str(root / "uat" / "smtp.yaml")])
    assert report.diagnostics == []


def test_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(tmp_path / "environments")
    assert main(["init", "dev", "--root", root]) == 0
    assert main(["init", "dev", "--root", root]) == 2
    assert "already exists (use --force" in capsys.readouterr().err
    assert main(["init", "dev", "--root", root, "--force"]) == 0


@pytest.mark.parametrize("name", ["Prod", "-x", "base", "a/b"])
def test_refuses_bad_names(tmp_path: Path, name: str) -> None:
    assert main(["init", name, "--root", str(tmp_path)]) == 2
    assert list(tmp_path.iterdir()) == []
