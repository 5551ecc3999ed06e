"""Project configuration (`[tool.smtp-gitops]` / `.smtp-gitops.toml`), `--show-config`,
`--select`/`--ignore`/`--severity`, and `root` for the other commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.config import ConfigError, load_config
from tests.helpers import VALID, write_env

SECOND_ENABLED = (
    "    - name: backup\n"
    "      enabled: true\n"
    "      networkHost: smtp.example.com\n"
    "      defaultCredentials: true\n"
)
REDIRECTING = VALID.replace("  production: true\n", "  production: false\n").replace(
    "      port: 587\n", "      port: 587\n      redirectToReportEmails: true\n"
)

PYPROJECT = """\
[project]
name = "portal-settings"

[tool.smtp-gitops]
root = "settings"
format = "json"
production-environments = ["prod", "prod-*"]

[tool.smtp-gitops.severity]
"multiple-enabled" = "off"
credentials-ignored = "error"

[tool.ruff]
line-length = 100
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (with .git) whose settings live in settings/, the working directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def settings_env(root: Path, env: str, text: str) -> Path:
    path = root / "settings" / env / "smtp.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("environment: prod", f"environment: {env}"), encoding="utf-8")
    return path


def json_findings(capsys: pytest.CaptureFixture[str]) -> list[tuple[str, str, str]]:
    document = json.loads(capsys.readouterr().out)
    return [(d["rule"], d["severity"], d["file"]) for d in document["diagnostics"]]


def test_pyproject_sets_root_format_severity_and_production_names(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    settings_env(project, "dev", VALID + SECOND_ENABLED)  # multiple-enabled: off
    settings_env(project, "prod-eu", REDIRECTING)  # production by name, not by metadata
    settings_env(project, "qa", REDIRECTING)  # neither
    assert main(["validate"]) == 0
    assert json_findings(capsys) == [
        ("redirect-in-production", "warning", "settings/prod-eu/smtp.yaml")
    ]


def test_flags_win_over_the_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    settings_env(project, "dev", VALID + SECOND_ENABLED)
    write_env(project, "qa", REDIRECTING.replace("environment: prod", "environment: qa"))
    assert (
        main(
            [
                "validate",
                "--format",
                "text",
                "--root",
                "environments",
                "--production-environment",
                "q*",
                "--severity",
                "redirect-in-production=error",
            ]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "environments/qa/smtp.yaml:12:31: error redirect-in-production:" in out
    assert "settings/" not in out
    assert main(["validate", "--severity", "multiple-enabled=warning", "--strict"]) == 1
    assert json_findings(capsys) == [("multiple-enabled", "warning", "settings/dev/smtp.yaml")]


def test_show_config_names_where_each_value_came_from(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    assert main(["validate", "--show-config", "--format", "sarif"]) == 0
    assert capsys.readouterr().out == (
        "# configuration file: pyproject.toml\n"
        'root = "settings"  # pyproject.toml:5\n'
        'format = "sarif"  # flag\n'
        'production-environments = ["prod", "prod-*"]  # pyproject.toml:7\n'
        "[severity]\n"
        '"credentials-ignored" = "error"  # pyproject.toml:11\n'
        '"multiple-enabled" = "off"  # pyproject.toml:10\n'
    )


def test_show_config_without_a_file_shows_the_defaults(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--show-config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# configuration file: none found\n")
    assert 'root = "environments"  # default\n' in out
    assert 'format = "text"  # default\n' in out


def test_own_file_wins_over_pyproject_in_the_same_folder(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / ".smtp-gitops.toml").write_text('root = "elsewhere"\n')
    config = load_config()
    assert (config.root, config.format, config.file) == ("elsewhere", "text", ".smtp-gitops.toml")


def test_a_pyproject_without_the_table_is_passed_over(project: Path) -> None:
    (project / "pyproject.toml").write_text(PYPROJECT)
    inner = project / "sub"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "smtp-gitops-helpers"\n')
    config = load_config(str(inner))
    assert config.file is not None and config.file.endswith("pyproject.toml")
    assert config.format == "json"


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    assert load_config(str(repository)).file is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tool.smtp-gitops]\nroot = "x"\n\nfromat = "json"\n',
            "pyproject.toml:4: unknown key `fromat` in [tool.smtp-gitops]",
        ),
        ('[tool.smtp-gitops]\nformat = "xml"\n', "pyproject.toml:2: `format` must be one of"),
        ("[tool.smtp-gitops]\nroot = 7\n", "pyproject.toml:2: `root` must be a non-empty string"),
        (
            '[tool.smtp-gitops]\nproduction-environments = "prod"\n',
            "pyproject.toml:2: `production-environments` must be a list",
        ),
        (
            '[tool.smtp-gitops]\nformat = "text"\n[tool.smtp-gitops.severity]\n'
            'multiple-enabled = "off"\n"no-such-rule" = "off"\n',
            "pyproject.toml:5: unknown rule 'no-such-rule'",
        ),
        (
            "[tool.smtp-gitops.severity]\n\nmultiple-enabled = 'loud'\n",
            "pyproject.toml:3: severity of 'multiple-enabled' must be one of 'error', 'warning', 'off'",
        ),
        (
            '[tool.smtp-gitops]\nseverity = { "yaml-syntax" = "off" }\n',
            "pyproject.toml:2: 'yaml-syntax' is always an error",
        ),
        ('[tool.smtp-gitops]\nroot = "unclosed\n', "pyproject.toml: not valid TOML"),
    ],
)
def test_a_bad_configuration_is_a_usage_error_naming_file_key_and_line(
    project: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (project / "pyproject.toml").write_text(text)
    write_env(project, "prod", VALID)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: {message}"), err
    with pytest.raises(ConfigError):
        load_config()


def test_a_bad_configuration_stops_the_other_commands_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".smtp-gitops.toml").write_text("root = 7\n")
    assert main(["render", "prod"]) == 2
    assert (
        "Error: .smtp-gitops.toml:1: `root` must be a non-empty string" in capsys.readouterr().err
    )


def test_root_from_the_configuration_is_the_default_of_the_other_commands(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".smtp-gitops.toml").write_text('root = "settings"\n')
    assert main(["init", "qa"]) == 0
    assert (project / "settings" / "qa" / "smtp.yaml").is_file()
    capsys.readouterr()
    assert main(["render", "qa", "--redact"]) == 0
    assert '"NetworkHost"' in capsys.readouterr().out
    assert main(["render", "qa", "--redact", "--root", "environments"]) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "multiple-enabled"], ["multiple-enabled"]),
        (
            ["--select", "multiple-enabled,port-tls-mismatch"],
            ["multiple-enabled", "port-tls-mismatch"],
        ),
        (
            ["--select", "multiple-enabled", "--select", "port-tls-mismatch"],
            ["multiple-enabled", "port-tls-mismatch"],
        ),
        (["--ignore", "multiple-enabled"], ["port-tls-mismatch", "schema"]),
        (["--ignore", "multiple-enabled, port-tls-mismatch"], ["schema"]),
        (["--select", "multiple-enabled,schema", "--ignore", "schema"], ["multiple-enabled"]),
    ],
)
def test_select_and_ignore(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], expected: list[str]
) -> None:
    write_env(
        tmp_path, "prod", VALID.replace("enableSsl: true", "enableSsl: false") + SECOND_ENABLED
    )
    write_env(
        tmp_path,
        "dev",
        VALID.replace("environment: prod", "environment: dev").replace("port: 587", "port: 0"),
    )
    main(["validate", "--format", "json", *args, str(tmp_path / "environments")])
    assert sorted({rule for rule, _, _ in json_findings(capsys)}) == expected


def test_select_overrides_off_in_the_configuration_and_keeps_syntax_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / ".smtp-gitops.toml").write_text('[severity]\n"multiple-enabled" = "off"\n')
    write_env(project, "prod", VALID + SECOND_ENABLED)
    write_env(project, "dev", "kind: [\n")
    assert main(["validate", "--format", "json", "--select", "multiple-enabled"]) == 1
    assert [rule for rule, _, _ in json_findings(capsys)] == ["yaml-syntax", "multiple-enabled"]


@pytest.mark.parametrize(
    "args",
    [
        ["--select", "no-such-rule"],
        ["--ignore", "multiple-enabled,nope"],
        ["--ignore", "unsafe-yaml"],
        ["--severity", "multiple-enabled"],
        ["--severity", "multiple-enabled=loud"],
    ],
)
def test_unknown_rules_and_bad_levels_on_the_command_line_are_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    write_env(tmp_path, "prod", VALID)
    assert main(["validate", *args, str(tmp_path / "environments")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "Traceback" not in err


def test_configuration_is_found_from_a_subdirectory_in_a_real_process(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    settings_env(
        tmp_path, "prod", VALID + SECOND_ENABLED.replace("backup", "backup\n      port: 0")
    )
    below = tmp_path / "docs" / "deeper"
    below.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "smtp_gitops", "validate"],
        cwd=below,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)  # format = "json" from the file
    assert [(d["rule"], d["file"]) for d in document["diagnostics"]] == [
        ("schema", "settings/prod/smtp.yaml")
    ]


def test_the_table_may_be_written_inline_under_tool(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool]\nsmtp-gitops = { format = "github" }\n'
    )
    config = load_config()
    assert (config.format, config.origin("format")) == ("github", "pyproject.toml:5")


def test_many_files_checked_in_workers_get_the_production_names_too(tmp_path: Path) -> None:
    from smtp_gitops.lint.validator import PARALLEL_THRESHOLD, validate_files

    files = [
        str(settings_env(tmp_path, f"prod-{number}", REDIRECTING))
        for number in range(PARALLEL_THRESHOLD + 1)
    ]
    report, _ = validate_files(files, production_environments=("prod-*",))
    assert [d.rule for d in report.diagnostics] == ["redirect-in-production"] * len(files)


def test_ignoring_a_rule_takes_its_findings_past_the_per_file_cap_out_of_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtp_gitops.settings.diagnostics import MAX_PER_FILE

    emails = "".join("        - {email: qa@example.com}\n" for _ in range(MAX_PER_FILE + 2))
    text = VALID.replace("        - {email: qa@example.com, enabled: true}\n", emails)
    text += "    - name: zz\n      networkHost: 'bad host!'\n      defaultCredentials: true\n"
    path = write_env(tmp_path, "prod", text)
    assert (
        main(["validate", "--format", "json", "--ignore", "duplicate-report-email", str(path)]) == 1
    )
    report = json.loads(capsys.readouterr().out)
    assert [d["rule"] for d in report["diagnostics"]] == ["invalid-host"]
    assert report["summary"] == {"files": 1, "errors": 1, "warnings": 0}
    assert (
        main(["validate", "--format", "json", "--severity", "invalid-host=warning", str(path)]) == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["summary"] == {"files": 1, "errors": 0, "warnings": MAX_PER_FILE + 2}
