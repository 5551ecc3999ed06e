"""environments/base/smtp.yaml is merged under every environment; diagnostics point at the file
and line where the offending value was written."""

from __future__ import annotations

from pathlib import Path

from smtp_gitops.lint.file_check import Validator
from smtp_gitops.lint.validator import validate_files
from tests.helpers import write_env

BASE = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: base
spec:
  sets:
    - name: primary
      networkHost: smtp.gmail.com
      username: portal@example.com
      password: {fromEnv: SMTP_PASSWORD}
      enableSsl: false
    - name: backup
      networkHost: smtp.office365.com
      defaultCredentials: true
"""

OVERLAY = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: prod
spec:
  sets:
    - name: backup
      enabled: true
    - name: extra
      networkHost: mail.example.com
      defaultCredentials: true
"""


def test_sets_merge_by_name_and_new_names_append(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE)
    prod = write_env(tmp_path, "prod", OVERLAY)
    checked = Validator().check(str(prod))
    assert checked.settings is not None
    sets = checked.settings.spec.sets
    assert [s.name for s in sets] == ["primary", "backup", "extra"]
    assert sets[1].enabled and sets[1].networkHost == "smtp.office365.com"
    assert checked.settings.effective_set() is sets[1]


def test_diagnostic_on_a_base_value_points_into_the_base_file(tmp_path: Path) -> None:
    base = write_env(tmp_path, "base", BASE)
    prod = write_env(tmp_path, "prod", OVERLAY)
    report, _ = validate_files([str(prod)])
    [tls] = [d for d in report.diagnostics if d.rule == "port-tls-mismatch"]
    assert (tls.file, tls.line, tls.column) == (str(base), 11, 18)


def test_overlay_value_wins_and_its_place_is_reported(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE)
    prod = write_env(
        tmp_path,
        "prod",
        OVERLAY + "    - name: primary\n      port: 99999\n",
    )
    report, _ = validate_files([str(prod)])
    [schema] = [d for d in report.diagnostics if d.rule == "schema"]
    assert (schema.file, schema.line, schema.column) == (str(prod), 13, 13)


def test_base_problem_is_reported_once_across_environments(tmp_path: Path) -> None:
    write_env(tmp_path, "base", BASE)
    write_env(tmp_path, "prod", OVERLAY)
    write_env(tmp_path, "dev", OVERLAY.replace("environment: prod", "environment: dev"))
    report, _ = validate_files(
        [str(tmp_path / "environments" / e / "smtp.yaml") for e in ("base", "dev", "prod")]
    )
    assert len([d for d in report.diagnostics if d.rule == "port-tls-mismatch"]) == 1


def test_base_alone_checks_types_but_not_required_keys(tmp_path: Path) -> None:
    base = write_env(tmp_path, "base", BASE.replace("smtp.gmail.com", "[1]"))
    report, _ = validate_files([str(base)])
    assert [(d.rule, d.line) for d in report.diagnostics] == [("schema", 8)]


def test_changing_base_checks_the_environments_built_on_it(tmp_path: Path) -> None:
    from smtp_gitops.settings.discovery import discover

    base = write_env(tmp_path, "base", BASE.replace("enableSsl: false", "enableSsl: true"))
    write_env(tmp_path, "prod", OVERLAY.replace("enabled: true", "enabled: false"))
    found = discover([str(base)])
    assert len(found.files) == 2
    report, _ = validate_files(found.files)
    assert [d.rule for d in report.diagnostics] == ["no-enabled-set"]


def test_base_with_syntax_error_is_reported_through_an_environment(tmp_path: Path) -> None:
    base = write_env(tmp_path, "base", "spec: [\n")
    prod = write_env(tmp_path, "prod", OVERLAY)
    report, _ = validate_files([str(prod)])
    assert [(d.file, d.rule) for d in report.diagnostics] == [(str(base), "yaml-syntax")]
