"""The library API: documented names, data rather than strings, no forking unless asked."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import smtp_gitops
from smtp_gitops import (
    EnvironmentNotFound,
    InvalidSettings,
    PathProblem,
    Report,
    Severity,
    load_config,
    load_environment,
    render_environment,
    validate_paths,
)
from tests.helpers import VALID, write_env

REPO = Path(__file__).resolve().parent.parent


def python(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_every_exported_name_resolves() -> None:
    for name in smtp_gitops.__all__:
        assert getattr(smtp_gitops, name) is not None, name
    with pytest.raises(AttributeError):
        _ = smtp_gitops.no_such_name


def test_importing_the_package_loads_nothing_heavy() -> None:
    result = python(
        "import sys, smtp_gitops\n"
        "from smtp_gitops import validate_paths\n"
        "print(sorted(m for m in ('pydantic', 'jinja2', 'httpx', 'click') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_validate_paths_returns_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: 0"))
    (tmp_path / "environments" / "empty").mkdir()
    monkeypatch.chdir(tmp_path)
    report = validate_paths()
    assert isinstance(report, Report)
    assert report.files == ["environments/prod/smtp.yaml"]
    [diagnostic] = report.diagnostics
    assert (diagnostic.rule, diagnostic.severity, diagnostic.line) == ("schema", Severity.ERROR, 11)
    missing = validate_paths([tmp_path / "nowhere", "environments/empty"])
    assert missing.problems == [
        PathProblem(str(tmp_path / "nowhere"), "no such file or folder"),
        PathProblem("environments/empty", "no smtp.yaml or smtp.yml found in this folder"),
    ]


def test_validate_paths_applies_a_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(tmp_path, "prod", VALID.replace("enableSsl: true", "enableSsl: false"))
    (tmp_path / "environments").rename(tmp_path / "settings")
    (tmp_path / ".smtp-gitops.toml").write_text(
        'root = "settings"\n[severity]\nport-tls-mismatch = "error"\n'
    )
    monkeypatch.chdir(tmp_path)
    assert [d.severity for d in validate_paths(["settings"]).diagnostics] == [Severity.WARNING]
    report = validate_paths(config=load_config())
    assert report.files == ["settings/prod/smtp.yaml"]
    assert [(d.rule, d.severity) for d in report.diagnostics] == [
        ("port-tls-mismatch", Severity.ERROR)
    ]


def test_the_api_forks_no_workers_unless_asked(tmp_path: Path) -> None:
    for index in range(70):  # above the size at which the command line forks
        write_env(
            tmp_path,
            f"env-{index}",
            VALID.replace("environment: prod", f"environment: env-{index}"),
        )
    code = (
        "import sys\nfrom smtp_gitops import validate_paths\n"
        "report = validate_paths(jobs={jobs})\n"
        "print(len(report.files), 'smtp_gitops.lint.workers' in sys.modules)"
    )
    assert python(code.format(jobs=1), tmp_path).stdout.split() == ["70", "False"]
    assert python(code.format(jobs=2), tmp_path).stdout.split() == ["70", "True"]


def test_load_and_render_an_environment(tmp_path: Path) -> None:
    path = write_env(tmp_path, "prod", VALID)
    root = str(tmp_path / "environments")
    loaded = load_environment("prod", root)
    assert loaded.path == str(path) and loaded.settings.metadata.environment == "prod"
    rendered = json.loads(
        render_environment("prod", root, environ={"SMTP_PRIMARY_PASSWORD": "s3cret"})
    )
    assert rendered["EffectiveSet"]["Password"] == "s3cret"
    with pytest.raises(EnvironmentNotFound):
        load_environment("qa", root)
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: 0"))
    with pytest.raises(InvalidSettings) as refused:
        load_environment("prod", root)
    assert [d.rule for d in refused.value.diagnostics] == ["schema"]


def test_the_configuration_decides_what_refuses_an_environment(tmp_path: Path) -> None:
    from smtp_gitops.lint.config import Config

    write_env(tmp_path, "prod", VALID.replace("qa@example.com", "qa@localhost"))
    root = str(tmp_path / "environments")
    with pytest.raises(InvalidSettings):
        load_environment("prod", root)
    relaxed = Config(severity={"invalid-email": "warning"})
    assert [d.rule for d in load_environment("prod", root, relaxed).warnings] == ["invalid-email"]
    rendered = render_environment("prod", root, redact=True, config=relaxed)
    assert json.loads(rendered)["Environment"] == "prod"


def test_the_readme_example_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Library\n", 1)[1]
    snippet = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert snippet is not None
    assert len(snippet.group(1).strip().splitlines()) <= 5
    result = python(snippet.group(1))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "4 files, 0 errors, 0 problems\n"
