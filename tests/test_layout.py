"""One layout for every command: ``smtp.yml`` is an environment's file as much as ``smtp.yaml``
(merged over the base whichever name either uses), and a file under another name is reported,
never skipped in silence."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from smtp_gitops.settings import layout
from smtp_gitops.settings.discovery import discover
from tests.helpers import VALID_V2, smtp_gitops_process, write_env

BASE = VALID_V2.replace("environment: prod", "environment: base").replace(
    "  production: true\n", ""
)
OVERLAY = """\
apiVersion: smtp-gitops/v2
kind: SmtpSettings
metadata:
  environment: dev
spec:
  sets:
    - name: primary
      port: 2525
"""


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    secrets = {"SMTP_PRIMARY_PASSWORD": "x", "SMTP_OAUTH_CLIENT_SECRET": "y"}
    return smtp_gitops_process(cwd, *args, env={**os.environ, **secrets})


def test_an_smtp_yml_overlay_is_merged_over_the_base(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE)
    write_env(tmp_path, "dev", OVERLAY, name="smtp.yml")
    validated = run(tmp_path, "validate", "environments/dev", "--format", "json")
    assert validated.returncode == 0, validated.stdout
    assert json.loads(validated.stdout)["summary"]["files"] == 2
    rendered = run(tmp_path, "render", "dev")
    assert rendered.returncode == 0, rendered.stderr
    assert '"Port": 2525' in rendered.stdout


def test_a_base_named_smtp_yml_is_found_too(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE, name="smtp.yml")
    write_env(tmp_path, "dev", OVERLAY)
    assert layout.base_file_for(str(tmp_path / "environments/dev/smtp.yaml")) == str(
        tmp_path / "environments/base/smtp.yml"
    )
    assert run(tmp_path, "validate").returncode == 0


def test_a_changed_base_brings_in_environments_of_either_name(tmp_path: Path) -> None:
    base = write_env(tmp_path, "base", BASE)
    write_env(tmp_path, "dev", OVERLAY, name="smtp.yml")
    found = discover([str(base)])
    assert [Path(f).name for f in found.files] == ["smtp.yaml", "smtp.yml"]


def test_a_misnamed_settings_file_is_reported_with_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "base", BASE)
    write_env(tmp_path, "dev", OVERLAY)
    write_env(tmp_path, "prod", VALID_V2, name="settings.yaml")
    monkeypatch.chdir(tmp_path)
    found = discover([])
    assert [str(problem) for problem in found.problems] == [
        "environments/prod: holds settings.yaml but no smtp.yaml or smtp.yml; rename it to "
        "smtp.yaml (other names are not read)"
    ]
    assert found.problems[0].path == "environments/prod"
    validated = run(tmp_path, "validate")
    assert validated.returncode == 2
    assert "environments/prod: holds settings.yaml" in validated.stderr
    rendered = run(tmp_path, "render", "prod")
    assert rendered.returncode == 2
    assert "environments/prod holds settings.yaml" in rendered.stderr


def test_environments_are_listed_by_name_without_the_base(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE)
    write_env(tmp_path, "dev", OVERLAY, name="smtp.yml")
    write_env(tmp_path, "prod", VALID_V2)
    root = str(tmp_path / "environments")
    assert layout.environments(root) == {
        "dev": os.path.join(root, "dev", "smtp.yml"),
        "prod": os.path.join(root, "prod", "smtp.yaml"),
    }
    assert layout.environment_file(root, "base") is None
