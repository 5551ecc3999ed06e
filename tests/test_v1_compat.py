"""v1 files stay accepted everywhere, and render byte for byte as before v2 existed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, only, write_env

DATA = Path(__file__).resolve().parent / "data"
SECRETS = {"SMTP_PRIMARY_PASSWORD": "primary-pw", "SMTP_BACKUP_PASSWORD": "backup-pw"}


@pytest.fixture
def v1_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The bundled example as it was written for v1 (a frozen copy)."""
    shutil.copytree(DATA / "v1-environments", tmp_path / "environments")
    monkeypatch.chdir(tmp_path)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize("template", ["portal-json", "dotenv"])
def test_v1_render_output_is_pinned(
    v1_repo: Path, capsys: pytest.CaptureFixture[str], environment: str, template: str
) -> None:
    assert main(["render", environment, "--template", template]) == 0
    suffix = "json" if template == "portal-json" else "env"
    expected = (DATA / "v1-render" / f"{environment}.{suffix}").read_text(encoding="utf-8")
    assert capsys.readouterr().out == expected


def test_v1_example_still_validates(v1_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert "1 warning" in capsys.readouterr().out


def test_base_and_overlay_of_different_api_versions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "base", VALID.replace("environment: prod", "environment: base"))
    overlay = write_env(
        tmp_path,
        "prod",
        "apiVersion: smtp-gitops/v2\nkind: SmtpSettings\nmetadata:\n  environment: prod\n"
        "spec:\n  sets:\n    - name: primary\n      enabled: true\n",
    )
    from smtp_gitops.lint.file_check import Validator

    diagnostics = only(Validator().check(str(overlay)).diagnostics, "api-version")
    assert len(diagnostics) == 1
    found = diagnostics[0]
    assert (found.file, found.line, found.column, found.severity.value) == (
        str(overlay),
        1,
        13,
        "error",
    )
    base = str(tmp_path / "environments" / "base" / "smtp.yaml")
    assert str(overlay) in found.message
    assert base in found.message
    assert "'smtp-gitops/v1'" in found.message
    assert "'smtp-gitops/v2'" in found.message
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 1
