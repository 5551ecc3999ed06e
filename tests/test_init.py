"""`smtp-gitops init` scaffolds environments that validate clean."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.validator import validate_files

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("production", [False, True])
def test_new_environment_validates_clean(
    tmp_path: Path, production: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "environments"
    args = ["init", "qa-eu", "--root", str(root)] + (["--production"] if production else [])
    assert main(args) == 0
    path = root / "qa-eu" / "smtp.yaml"
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {path} (one set;")
    assert "$QA_EU_SMTP_PASSWORD" in out
    assert f"smtp-gitops check-connection qa-eu --root {root}" in out
    text = path.read_text()
    # No schema/ in this repository: init writes it, and the modeline is a local path to the
    # full schema (the file has no base).
    assert text.startswith(
        "# yaml-language-server: $schema=../../schema/smtp-settings.v2.schema.json\n"
        "apiVersion: smtp-gitops/v2\n"
    )
    assert sorted(p.name for p in (tmp_path / "schema").iterdir()) == sorted(
        p.name for p in (REPO / "schema").iterdir()
    )
    assert (tmp_path / "schema" / "smtp-settings.v2.schema.json").read_bytes() == (
        REPO / "schema" / "smtp-settings.v2.schema.json"
    ).read_bytes()
    assert "      auth:\n        password: {fromEnv: QA_EU_SMTP_PASSWORD}\n" in text
    assert f"production: {'true' if production else 'false'}" in text
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == "1 file checked: 0 errors, 0 warnings\n"


def test_over_an_existing_base_the_file_is_a_lean_overlay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "environments"
    shutil.copytree(REPO / "environments" / "base", root / "base")
    assert main(["init", "uat", "--root", str(root), "--production"]) == 0
    text = (root / "uat" / "smtp.yaml").read_text()
    assert "networkHost" not in text and "password" not in text
    # Merged over a base, the file is partial: its editor checks it against the overlay schema.
    assert text.startswith(
        "# yaml-language-server: $schema=../../schema/smtp-settings.v2.overlay.schema.json\n"
    )
    assert (root / "uat" / "../../schema/smtp-settings.v2.overlay.schema.json").resolve().is_file()
    capsys.readouterr()
    assert main(["validate", str(root)]) == 0
    assert capsys.readouterr().out == "2 files checked: 0 errors, 0 warnings\n"


def test_the_overlay_enables_the_bases_first_set_by_its_name(tmp_path: Path) -> None:
    root = tmp_path / "environments"
    (root / "base").mkdir(parents=True)
    base = (REPO / "environments" / "base" / "smtp.yaml").read_text()
    (root / "base" / "smtp.yaml").write_text(base.replace("name: primary", "name: main-relay"))
    assert main(["init", "qa", "--root", str(root)]) == 0
    assert "- name: main-relay" in (root / "qa" / "smtp.yaml").read_text()
    report, _ = validate_files([str(root / "qa" / "smtp.yaml")])
    assert report.diagnostics == []


def test_a_broken_base_gets_a_complete_file_that_does_not_rely_on_it(tmp_path: Path) -> None:
    root = tmp_path / "environments"
    (root / "base").mkdir(parents=True)
    (root / "base" / "smtp.yaml").write_text("spec: [unclosed\n")
    assert main(["init", "qa", "--root", str(root)]) == 0
    assert "networkHost: smtp.example.com" in (root / "qa" / "smtp.yaml").read_text()


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


def test_auth_oauth2_writes_an_oauth_set_that_validates_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "environments"
    assert main(["init", "qa", "--auth", "oauth2", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert "one OAuth 2.0 set" in out
    assert "provide the OAuth client secret as $QA_SMTP_CLIENT_SECRET" in out
    path = root / "qa" / "smtp.yaml"
    text = path.read_text()
    assert "        oauth2:\n          provider: microsoft " in text
    assert "clientSecret: {fromEnv: QA_SMTP_CLIENT_SECRET}" in text
    assert "password" not in text
    assert main(["validate", str(path)]) == 0
    assert capsys.readouterr().out == "1 file checked: 0 errors, 0 warnings\n"


def test_over_a_v1_base_the_overlay_stays_v1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "environments"
    shutil.copytree(Path(__file__).parent / "data" / "v1-environments" / "base", root / "base")
    assert main(["init", "qa", "--root", str(root)]) == 0
    assert "`smtp-gitops migrate` moves them all to v2" in capsys.readouterr().out
    text = (root / "qa" / "smtp.yaml").read_text()
    assert text.startswith(
        "# yaml-language-server: $schema=../../schema/smtp-settings.v1.overlay.schema.json\n"
        "apiVersion: smtp-gitops/v1\n"
    )
    assert main(["validate", str(root)]) == 0


@pytest.mark.parametrize(
    ("root", "schema_ref"),
    [
        ("environments", "../../schema/smtp-settings.v2.schema.json"),
        ("deploy/environments", "../../../schema/smtp-settings.v2.schema.json"),
    ],
)
def test_a_repository_with_its_own_schema_folder_gets_a_relative_modeline(
    tmp_path: Path, root: str, schema_ref: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    shutil.copytree(REPO / "schema", tmp_path / "schema")
    assert main(["init", "qa", "--root", str(tmp_path / root)]) == 0
    first = (tmp_path / root / "qa" / "smtp.yaml").read_text().splitlines()[0]
    assert first == f"# yaml-language-server: $schema={schema_ref}"
    assert (tmp_path / root / "qa" / schema_ref).resolve().is_file()
