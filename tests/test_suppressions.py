"""Inline `# smtp-gitops: ignore[RULE] -- reason` comments and the `unused-ignore` rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.suppressions import find_ignores
from tests.helpers import VALID, write_env

SECOND_ENABLED = (
    "    - name: backup\n"
    "      enabled: true\n"
    "      networkHost: smtp.example.com\n"
    "      defaultCredentials: true\n"
)
REASON = " -- backup stays enabled during the cut-over"


def findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, list[tuple[str, int, str]]]:
    """Exit code and (rule, line, message) of each finding of `validate` on tmp_path."""
    capsys.readouterr()
    code = main(["validate", "--format", "json", *args, str(tmp_path / "environments")])
    document = json.loads(capsys.readouterr().out)
    return code, [(d["rule"], d["line"], d["message"]) for d in document["diagnostics"]]


def test_a_trailing_ignore_with_a_reason_suppresses_the_finding_on_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + SECOND_ENABLED.replace(
        "enabled: true\n", f"enabled: true  # smtp-gitops: ignore[multiple-enabled]{REASON}\n"
    )
    write_env(tmp_path, "prod", text)
    assert findings(tmp_path, capsys, "--strict") == (0, [])


def test_an_ignore_on_its_own_line_covers_the_next_yaml_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + SECOND_ENABLED.replace(
        "      enabled: true\n",
        f"      # smtp-gitops: ignore[multiple-enabled]{REASON}\n"
        "      # (further comment lines between the ignore and its line are fine)\n"
        "\n"
        "      enabled: true\n",
    )
    write_env(tmp_path, "prod", text)
    assert findings(tmp_path, capsys, "--strict") == (0, [])


def test_the_ignore_must_name_the_reported_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + SECOND_ENABLED.replace(
        "enabled: true\n", f"enabled: true  # smtp-gitops: ignore[port-tls-mismatch]{REASON}\n"
    )
    write_env(tmp_path, "prod", text)
    code, found = findings(tmp_path, capsys)
    assert code == 0
    assert [(rule, line) for rule, line, _ in found] == [
        ("multiple-enabled", 18),
        ("unused-ignore", 18),
    ]
    assert found[1][2] == "ignore[port-tls-mismatch] suppresses nothing on line 18"


def test_several_rules_in_one_ignore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = VALID.replace(
        "      enableSsl: true\n",
        "      enableSsl: false  # smtp-gitops: ignore[port-tls-mismatch, multiple-enabled]"
        " -- relay on the private network\n",
    )
    write_env(tmp_path, "prod", text)
    assert findings(tmp_path, capsys)[1] == [
        ("unused-ignore", 12, "ignore[multiple-enabled] suppresses nothing on line 12")
    ]


@pytest.mark.parametrize(
    ("comment", "message"),
    [
        ("# smtp-gitops: ignore[multiple-enabled]", "ignore comment has no reason"),
        ("# smtp-gitops: ignore[multiple-enabled] because", "ignore comment has no reason"),
        ("# smtp-gitops: ignore[multiple-enabled] --   ", "ignore comment has no reason"),
        ("# smtp-gitops: ignore[]" + REASON, "ignore comment names no rule"),
        ("# smtp-gitops: ignore multiple-enabled" + REASON, "ignore comment not understood"),
    ],
)
def test_an_ignore_without_a_reason_or_rule_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], comment: str, message: str
) -> None:
    text = VALID + SECOND_ENABLED.replace("enabled: true\n", f"enabled: true  {comment}\n")
    write_env(tmp_path, "prod", text)
    code, found = findings(tmp_path, capsys, "--select", "unused-ignore")
    assert code == 0
    assert found == [("unused-ignore", 18, message)]


def test_an_ignore_without_a_reason_still_suppresses_and_fails_strict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + SECOND_ENABLED.replace(
        "enabled: true\n", "enabled: true  # smtp-gitops: ignore[multiple-enabled]\n"
    )
    write_env(tmp_path, "prod", text)
    code, found = findings(tmp_path, capsys, "--strict")
    assert code == 1
    assert [rule for rule, _, _ in found] == ["unused-ignore"]


def test_unknown_and_unignorable_rules_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID.replace(
        "  production: true\n",
        f"  production: true  # smtp-gitops: ignore[no-such-rule, yaml-syntax]{REASON}\n",
    )
    write_env(tmp_path, "prod", text)
    assert findings(tmp_path, capsys)[1] == [
        (
            "unused-ignore",
            5,
            "'yaml-syntax' cannot be ignored: a file with this error was not checked",
        ),
        ("unused-ignore", 5, "ignore names unknown rule 'no-such-rule'"),
    ]


def test_an_ignore_for_a_rule_that_did_not_run_is_not_called_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = VALID + SECOND_ENABLED.replace(
        "enabled: true\n", f"enabled: true  # smtp-gitops: ignore[multiple-enabled]{REASON}\n"
    )
    write_env(tmp_path, "prod", text)
    assert findings(tmp_path, capsys, "--ignore", "multiple-enabled") == (0, [])
    # A schema error stops the semantic rules: the ignore cannot be judged there.
    write_env(tmp_path, "prod", text.replace("port: 587", "port: 0"))
    assert [rule for rule, _, _ in findings(tmp_path, capsys)[1]] == ["schema"]


def test_a_finding_in_the_base_is_suppressed_by_a_comment_in_the_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(
        tmp_path,
        "base",
        "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\nmetadata:\n  environment: base\n"
        "spec:\n  sets:\n    - name: relay\n      networkHost: relay.internal.example.com\n"
        "      defaultCredentials: true\n"
        f"      enableSsl: false  # smtp-gitops: ignore[port-tls-mismatch]{REASON}\n",
    )
    overlay = VALID.replace("  production: true\n", "")
    write_env(tmp_path, "prod", overlay)
    write_env(tmp_path, "dev", overlay.replace("environment: prod", "environment: dev"))
    assert findings(tmp_path, capsys, "--strict") == (0, [])
    # Without the comment the base's finding is reported (once, in the base file).
    base = tmp_path / "environments" / "base" / "smtp.yaml"
    base.write_text(base.read_text().split("  # smtp-gitops")[0] + "\n")
    code, found = findings(tmp_path, capsys)
    assert code == 0
    assert [(rule, line) for rule, line, _ in found] == [("port-tls-mismatch", 10)]


def test_an_unused_ignore_in_a_base_read_for_one_environment_is_not_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Checking only prod says nothing about what the base's ignore is for (maybe staging)."""
    base = VALID.replace("environment: prod", "environment: base").replace(
        "      enabled: true\n",
        f"      enabled: true  # smtp-gitops: ignore[multiple-enabled]{REASON}\n",
    )
    write_env(tmp_path, "base", base)
    prod = write_env(tmp_path, "prod", VALID)
    capsys.readouterr()
    assert main(["validate", "--strict", "-q", str(prod)]) == 0
    assert capsys.readouterr().out == ""
    assert main(["validate", "--strict", "-q", str(tmp_path / "environments")]) == 1
    assert "unused-ignore" in capsys.readouterr().out


TEXT_WITH_LOOKALIKES = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
note: "value # smtp-gitops: ignore[schema] -- inside double quotes"
other: 'value # smtp-gitops: ignore[schema] -- inside single quotes'
"key # smtp-gitops: ignore[schema] -- a quoted key": 1
multi: "first line
  # smtp-gitops: ignore[schema] -- continuation of a quoted scalar"
block: |
  # smtp-gitops: ignore[schema] -- text of a block scalar
  more text
plain: a#b # smtp-gitops: ignore[duplicate-key] -- the real comment
# smtp-gitops: ignore[unknown-key] -- a comment line
list: [a, "b # not", c] # smtp-gitops: ignore[schema, unknown-key] -- after a flow list
"""


def test_only_real_yaml_comments_count() -> None:
    ignores = find_ignores("f.yaml", TEXT_WITH_LOOKALIKES)
    assert [(i.mark.line, i.mark.column, i.covers, i.rules) for i in ignores] == [
        (11, 12, 11, ("duplicate-key",)),
        (12, 1, 13, ("unknown-key",)),
        (13, 25, 13, ("schema", "unknown-key")),
    ]
    assert ignores[0].reason == "the real comment"


def test_without_a_parse_a_quote_before_the_hash_is_not_taken_for_a_comment() -> None:
    broken = (
        'a: "unclosed # smtp-gitops: ignore[schema] -- x\nb: [ # smtp-gitops: ignore[schema] -- y\n'
    )
    assert [i.mark.line for i in find_ignores("f.yaml", broken)] == [2]


def test_a_file_without_the_marker_is_not_parsed_again() -> None:
    assert find_ignores("f.yaml", "a: [unclosed\n") == []


def test_explain_unused_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--explain", "unused-ignore"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("unused-ignore (warning)")
    assert "-- reason" in out


def test_render_honours_the_ignores_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    text = VALID + SECOND_ENABLED
    write_env(tmp_path, "prod", text)
    assert main(["render", "prod", "--redact"]) == 0
    assert "warning multiple-enabled" in capsys.readouterr().err
    write_env(
        tmp_path,
        "prod",
        text.replace(
            "      enabled: true\n      networkHost: smtp.example.com",
            f"      enabled: true  # smtp-gitops: ignore[multiple-enabled]{REASON}\n"
            "      networkHost: smtp.example.com",
        ),
    )
    assert main(["render", "prod", "--redact"]) == 0
    assert capsys.readouterr().err == ""


def test_comments_are_found_in_yaml_1_2_only_documents_and_with_crlf() -> None:
    # libyaml (YAML 1.1) rejects a URL in a flow list; the YAML 1.2 parser reads it.
    text = (
        'targets: [https://host/x, "a # b"]  # smtp-gitops: ignore[invalid-target] -- lab\r\n'
        "next: 1\r\n"
    )
    [ignore] = find_ignores("f.yaml", text)
    assert (ignore.mark.line, ignore.mark.column, ignore.covers) == (1, 37, 1)
    assert ignore.reason == "lab"
