"""The `github` and `sarif` output formats, field by field (SPEC §3)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from smtp_gitops import __version__
from smtp_gitops.commands.cli import main
from smtp_gitops.lint.reporters import github, sarif
from smtp_gitops.lint.rules import all_rules
from smtp_gitops.settings.diagnostics import Diagnostic, Mark, Report, Severity
from tests.helpers import VALID, write_env


def report_of(*diagnostics: Diagnostic) -> Report:
    report = Report(files=sorted({d.file for d in diagnostics}), diagnostics=list(diagnostics))
    report.finish()
    return report


def test_github_annotation_format() -> None:
    diagnostic = Diagnostic(
        "multiple-enabled",
        Severity.WARNING,
        Mark("environments/staging/smtp.yaml", 19, 16),
        "2 sets",
    )
    assert github.format(report_of(diagnostic), color=False) == (
        "::warning file=environments/staging/smtp.yaml,line=19,col=16,"
        "title=smtp-gitops (multiple-enabled)::2 sets\n"
    )


def test_github_escapes_message_and_properties() -> None:
    diagnostic = Diagnostic(
        "schema", Severity.ERROR, Mark("dir,a:b/smtp.yaml", 1, 2), "100% bad\r\nnext", hint="h"
    )
    line = github.format(report_of(diagnostic), color=False)
    assert line == (
        "::error file=dir%2Ca%3Ab/smtp.yaml,line=1,col=2,title=smtp-gitops (schema)"
        "::100%25 bad%0D%0Anext%0Ah\n"
    )


def test_github_format_from_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "prod", VALID.replace("enableSsl: true", "enableSSL: true"))
    assert main(["validate", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "::error file=environments/prod/smtp.yaml,line=12,col=7,title=smtp-gitops (unknown-key)::"
        "unknown key `enableSSL` in spec.sets[primary]%0Adid you mean `enableSsl`?"
    )


def test_sarif_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: 0"))
    assert main(["validate", "--format", "sarif"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["$schema"] == sarif.SARIF_SCHEMA
    assert document["version"] == "2.1.0"
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("smtp-gitops", __version__)
    assert [r["id"] for r in driver["rules"]] == list(all_rules())
    for rule in driver["rules"]:
        known = all_rules()[rule["id"]]
        assert rule["shortDescription"]["text"] == known.summary
        assert rule["fullDescription"]["text"] == known.doc
        assert rule["help"]["text"] == known.doc
    [result] = run["results"]
    assert result["ruleId"] == "schema"
    assert driver["rules"][result["ruleIndex"]]["id"] == "schema"
    assert result["level"] == "error"
    assert (
        result["message"]["text"]
        == "spec.sets[primary].port: must be at least 1 (a port is 1 to 65535; 587 is recommended)"
    )
    [location] = result["locations"]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "environments/prod/smtp.yaml"
    assert physical["region"] == {
        "startLine": 11,
        "startColumn": 13,
        "endLine": 11,
        "endColumn": 14,
    }


def test_sarif_warning_level_and_empty_results() -> None:
    warning = Diagnostic("duplicate-report-email", Severity.WARNING, Mark("f.yaml", 3, 5), "twice")
    assert (
        json.loads(sarif.format(report_of(warning), color=False))["runs"][0]["results"][0]["level"]
        == "warning"
    )
    assert json.loads(sarif.format(Report(), color=False))["runs"][0]["results"] == []


def test_sarif_passes_an_independent_sarif_2_1_0_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """sarif-pydantic models SARIF 2.1.0 (types, enums, required fields) apart from this code."""
    from sarif_pydantic import Sarif

    monkeypatch.chdir(tmp_path)
    literal = VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "literal")
    write_env(tmp_path, "prod", literal + "        - {email: qa@example.com, enabled: true}\n")
    main(["validate", "--format", "sarif"])
    document = json.loads(capsys.readouterr().out)
    log = Sarif.model_validate(document)
    [run] = log.runs
    results = run.results or []
    assert [(r.rule_id, r.level.value if r.level else None) for r in results] == [
        ("plaintext-secret", "error"),
        ("duplicate-report-email", "warning"),
    ]


# OASIS's schema is not ours to redistribute; CI (and the shared workspace) keep a copy beside
# the repository, at ../shared/data/.
SARIF_SCHEMA_FILE = Path(__file__).resolve().parents[2] / "shared/data/sarif-schema-2.1.0.json"


def official_sarif_validator() -> jsonschema.Draft4Validator:
    """The OASIS SARIF 2.1.0 schema (read from disk: tests run offline), formats checked too."""
    if not SARIF_SCHEMA_FILE.is_file():
        pytest.skip(
            f"the OASIS SARIF 2.1.0 schema is not at {SARIF_SCHEMA_FILE} (CI provides it); "
            "the sarif-pydantic test checks the output without it"
        )
    schema = json.loads(SARIF_SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    checker = jsonschema.FormatChecker()
    # Without the optional URI validators jsonschema skips these formats silently.
    assert {"uri", "uri-reference"} <= set(checker.checkers)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def assert_valid_sarif(document: Any) -> None:
    errors = sorted(official_sarif_validator().iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_sarif_of_the_cli_passes_the_official_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    literal = VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "literal")
    write_env(tmp_path, "prod", literal + "        - {email: qa@example.com, enabled: true}\n")
    assert main(["validate", "--format", "sarif"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert [r["level"] for r in document["runs"][0]["results"]] == ["error", "warning"]
    assert_valid_sarif(document)


def test_sarif_uris_are_encoded_so_odd_paths_stay_valid() -> None:
    odd = Diagnostic("schema", Severity.ERROR, Mark("my env,x:y/100%/smtp.yaml", 2, 1), "bad")
    document = json.loads(sarif.format(report_of(odd), color=False))
    [result] = document["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20env%2Cx%3Ay/100%25/smtp.yaml"
    assert_valid_sarif(document)


def test_the_official_schema_rejects_what_code_scanning_would() -> None:
    """The official schema really checks: a result without a message is refused."""
    document = json.loads(
        sarif.format(
            report_of(Diagnostic("schema", Severity.ERROR, Mark("f.yaml", 1, 1), "m")), color=False
        )
    )
    del document["runs"][0]["results"][0]["message"]
    assert not official_sarif_validator().is_valid(document)
    assert official_sarif_validator().is_valid(json.loads(sarif.format(Report(), color=False)))


def sarif_fingerprints(capsys: pytest.CaptureFixture[str], path: Path) -> dict[str, str]:
    main(["validate", "--format", "sarif", str(path)])
    document = json.loads(capsys.readouterr().out)
    assert_valid_sarif(document)
    return {
        r["ruleId"]: r["partialFingerprints"][sarif.FINGERPRINT_KEY]
        for r in document["runs"][0]["results"]
    }


TWO_FINDINGS = VALID.replace("enableSsl: true", "enableSsl: false") + (
    "    - name: backup\n"
    "      enabled: true\n"
    "      networkHost: smtp.example.com\n"
    "      defaultCredentials: true\n"
)


def test_sarif_fingerprints_survive_moved_lines_but_not_a_renamed_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_env(tmp_path, "prod", TWO_FINDINGS)
    before = sarif_fingerprints(capsys, path)
    assert set(before) == {"port-tls-mismatch", "multiple-enabled"}
    assert len(set(before.values())) == 2

    path.write_text("# a comment added at the top\n\n" + TWO_FINDINGS)
    assert sarif_fingerprints(capsys, path) == before

    # A line added inside a set moves one finding down: still the same alerts.
    path.write_text(TWO_FINDINGS.replace("name: backup", "name: backup\n      port: 25"))
    assert sarif_fingerprints(capsys, path) == before

    path.write_text(TWO_FINDINGS.replace("name: backup", "name: fallback"))
    after = sarif_fingerprints(capsys, path)
    assert after["port-tls-mismatch"] == before["port-tls-mismatch"]
    assert after["multiple-enabled"] != before["multiple-enabled"]


def test_sarif_fingerprint_without_a_logical_place_ignores_line_numbers() -> None:
    def repeated(line: int) -> Diagnostic:
        message = f"key 'port' is repeated (first at line {line - 1}); the later value is used"
        return Diagnostic("duplicate-key", Severity.ERROR, Mark("f.yaml", line, 3), message)

    assert sarif.fingerprint(repeated(5)) == sarif.fingerprint(repeated(9))
    assert sarif.fingerprint(repeated(5)) != sarif.fingerprint(
        Diagnostic("duplicate-key", Severity.ERROR, Mark("g.yaml", 5, 3), repeated(5).message)
    )


def test_rule_diagnostics_carry_their_logical_place(tmp_path: Path) -> None:
    from smtp_gitops.lint.validator import validate_files

    path = write_env(tmp_path, "prod", TWO_FINDINGS)
    report, _ = validate_files([str(path)])
    assert sorted(d.where or "" for d in report.diagnostics) == [
        "spec.sets[backup].enabled",
        "spec.sets[primary].enableSsl",
    ]
