"""Every diagnostic says what to do in the file's own terms: no pydantic wording, no regular
expressions, no parser states; and the usual slips get a hint that shows the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from smtp_gitops.lint.validator import validate_files
from smtp_gitops.settings.diagnostics import Diagnostic
from tests.helpers import VALID_V2, smtp_gitops_process, write_env

HEADER = "apiVersion: smtp-gitops/v2\nkind: SmtpSettings\nmetadata:\n  environment: prod\n"
ONE_SET = (
    "spec:\n  sets:\n    - name: a\n      enabled: true\n      networkHost: smtp.example.com\n"
    "      username: portal@example.com\n      auth:\n        password: {fromEnv: P}\n"
)
RELOAD = "  reload:\n    targets: [https://portal.example.com/reload]\n    secretFromEnv: S\n"

# Bad inputs that reach every kind of schema and parser error the format can produce.
BAD_SETTINGS = {
    "quoted port": ONE_SET + '      port: "587"\n',
    "port too large": ONE_SET + "      port: 70000\n",
    "port zero": ONE_SET + "      port: 0\n",
    "fractional port": ONE_SET + "      port: 587.5\n",
    "yes for true": ONE_SET.replace("enabled: true", "enabled: yes"),
    "set name": ONE_SET.replace("name: a", "name: Primary_1"),
    "variable name": ONE_SET.replace("{fromEnv: P}", "{fromEnv: smtp-pass}"),
    "both references": ONE_SET.replace("{fromEnv: P}", "{fromEnv: A, fromFile: /x}"),
    "empty reference": ONE_SET.replace("{fromEnv: P}", "{}"),
    "empty file reference": ONE_SET.replace("{fromEnv: P}", "{fromFile: ''}"),
    "category": ONE_SET + "      category: marketing\n",
    "report email as text": ONE_SET + "      reportEmails: [ops@example.com]\n",
    "report emails as text": ONE_SET + "      reportEmails: ops@example.com\n",
    "provider": ONE_SET.replace(
        "password: {fromEnv: P}",
        "oauth2: {provider: yahoo, clientId: x, clientSecret: {fromEnv: S}}",
    ),
    "oauth2 without client": ONE_SET.replace(
        "password: {fromEnv: P}", "oauth2: {provider: microsoft}"
    ),
    "reload values": ONE_SET
    + "  reload:\n    targets: [ftp://x, 'https://a b']\n    secretFromEnv: bad-name\n"
    "    timeoutSeconds: 0\n    retries: 11\n",
    "no targets": ONE_SET + "  reload:\n    targets: []\n    secretFromEnv: X\n",
    "infinite timeout": ONE_SET + RELOAD + "    timeoutSeconds: .inf\n",
    "empty template": ONE_SET + "  render:\n    template: ''\n",
    "sets as mapping": "spec:\n  sets: {a: 1}\n",
    "set as text": "spec:\n  sets: [x]\n",
    "bad environment name": ONE_SET,  # with the header changed below
    "unknown key": ONE_SET + "      prot: 25\n",
    "indentation": "spec:\n  sets:\n    - name: a\n      enabled: true\n   networkHost: x\n",
    "list not lined up": "spec:\n  sets:\n  - name: a\n  render: x\n  - name: b\n",
    "too far in": ONE_SET + "        port: 25\n",
    "key without colon": "spec\n  sets: []\n",
    "tab": "spec:\n\tsets: []\n",
    "open brace": "spec:\n  sets:\n    - {name: a, enabled: true\n",
    "open bracket": "spec:\n  sets: [a, b\n",
    "open quote": 'spec:\n  sets:\n    - name: "a\n',
    "two documents": ONE_SET + "---\na: 1\n",
    "odd character": "spec: `x\n",
    "flow node": "spec: {sets: [\n",
}
# Words that belong to pydantic, to regular expressions or to libyaml's parser states.
FOREIGN_WORDS = (
    "String should",
    "Input should",
    "List should",
    "Field required",
    "Extra inputs",
    "pattern",
    "^[",
    "]*$",
    "<block",
    "<stream",
    "<scalar",
    "while parsing",
    "while scanning",
    "validation error",
)


def _diagnostics(tmp_path: Path, body: str, header: str = HEADER) -> list[Diagnostic]:
    path = write_env(tmp_path, "prod", header + body)
    report, unreadable = validate_files([str(path)])
    assert not unreadable
    return report.diagnostics


@pytest.mark.parametrize("case", sorted(BAD_SETTINGS))
def test_no_diagnostic_shows_library_wording(tmp_path: Path, case: str) -> None:
    header = HEADER.replace("prod", "Prod_1") if case == "bad environment name" else HEADER
    found = _diagnostics(tmp_path, BAD_SETTINGS[case], header)
    assert found, case
    for d in found:
        shown = f"{d.message} {d.hint or ''}"
        assert not [word for word in FOREIGN_WORDS if word in shown], (case, shown)


def _one(found: list[Diagnostic], rule: str = "schema") -> Diagnostic:
    matching = [d for d in found if d.rule == rule]
    assert len(matching) == 1, found
    return matching[0]


def test_a_quoted_port_says_to_drop_the_quotes(tmp_path: Path) -> None:
    found = _one(_diagnostics(tmp_path, BAD_SETTINGS["quoted port"]))
    assert found.hint == "write the number without quotes: `port: 587`"


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("yes", "write `true` (YAML 1.2 reads `yes` as a string)"),
        ("Off", "write `false` (YAML 1.2 reads `Off` as a string)"),
        ('"true"', "write `true` (YAML 1.2 reads `true` as a string)"),
        ("maybe", "write `true` or `false`, without quotes"),
    ],
)
def test_a_yaml_1_1_boolean_says_what_to_write(tmp_path: Path, written: str, hint: str) -> None:
    found = _one(_diagnostics(tmp_path, ONE_SET.replace("enabled: true", f"enabled: {written}")))
    assert found.hint == hint


def test_both_secret_references_say_only_one_is_allowed(tmp_path: Path) -> None:
    found = _one(_diagnostics(tmp_path, BAD_SETTINGS["both references"]), "unknown-key")
    assert found.hint is not None
    assert "exactly one of `fromEnv` or `fromFile`" in found.hint
    assert "did you mean" not in found.hint


def test_a_bad_variable_name_says_what_a_name_may_contain(tmp_path: Path) -> None:
    found = _one(_diagnostics(tmp_path, BAD_SETTINGS["variable name"]))
    assert found.hint is not None
    assert "letters, digits and `_`" in found.hint and "SMTP_PASSWORD" in found.hint


def test_a_report_email_as_text_shows_the_expected_form(tmp_path: Path) -> None:
    found = _one(_diagnostics(tmp_path, BAD_SETTINGS["report email as text"]))
    assert found.hint == "write each address as `{email: ops@example.com, enabled: true}`"


def test_bad_indentation_is_told_in_plain_words_with_the_block_start(tmp_path: Path) -> None:
    found = _one(_diagnostics(tmp_path, BAD_SETTINGS["indentation"]), "yaml-syntax")
    assert (found.line, found.column) == (9, 4)
    assert found.message == (
        "this line is indented differently from the mapping it belongs to "
        "(the mapping started on line 6)"
    )
    assert found.hint is not None and "same column" in found.hint


def test_an_overlay_set_missing_from_the_base_names_the_closest_base_set(tmp_path: Path) -> None:
    write_env(
        tmp_path,
        "base",
        "apiVersion: smtp-gitops/v2\nkind: SmtpSettings\nmetadata:\n  environment: base\n"
        "spec:\n  sets:\n    - name: primary\n      networkHost: smtp.example.com\n"
        "      username: portal@example.com\n      auth:\n        password: {fromEnv: P}\n",
    )
    found = _one(
        _diagnostics(tmp_path, "spec:\n  sets:\n    - name: primay\n      enabled: true\n")
    )
    assert found.message.startswith("set `primay` is not in the base")
    assert (found.line, found.column) == (7, 13)
    assert found.hint == "did you mean `primary`? the base's sets: `primary`"


def test_a_new_complete_set_next_to_a_base_is_fine(tmp_path: Path) -> None:
    write_env(tmp_path, "base", VALID_V2.replace("environment: prod", "environment: base"))
    found = _diagnostics(tmp_path, ONE_SET)
    assert not [d for d in found if d.rule == "schema"], found


def _smtp_gitops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return smtp_gitops_process(cwd, *args, env=env)


def test_text_output_shows_the_line_with_a_caret_under_the_value(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", HEADER + BAD_SETTINGS["quoted port"])
    result = _smtp_gitops(tmp_path, "validate", "--no-color")
    assert result.stdout.splitlines()[:4] == [
        "environments/prod/smtp.yaml:13:13: error schema: spec.sets[a].port: expected an "
        "integer, found a string",
        ' 13 |       port: "587"',
        "    |             ^^^^^",
        "  hint: write the number without quotes: `port: 587`",
    ]
    assert "\033[" not in result.stdout


def test_a_line_holding_a_secret_is_never_shown(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", HEADER + ONE_SET.replace("{fromEnv: P}", "{fromEnv: s3cr-et}"))
    result = _smtp_gitops(tmp_path, "validate", "--no-color")
    assert result.returncode == 1
    assert "s3cr-et" not in result.stdout
    assert "a variable name may contain only letters" in result.stdout


@pytest.mark.parametrize("output_format", ["json", "github", "sarif"])
def test_only_the_text_format_shows_source_lines(tmp_path: Path, output_format: str) -> None:
    write_env(tmp_path, "prod", HEADER + BAD_SETTINGS["quoted port"])
    result = _smtp_gitops(tmp_path, "validate", "--format", output_format)
    assert "^^^^^" not in result.stdout


def test_render_shows_hints_and_the_source_line_like_validate(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", HEADER + BAD_SETTINGS["quoted port"])
    result = _smtp_gitops(tmp_path, "render", "prod")
    assert result.returncode == 1
    assert "  hint: write the number without quotes: `port: 587`" in result.stderr
    assert ' 13 |       port: "587"' in result.stderr
