"""Every rule id: a YAML case that triggers it (rule, severity, line, column) and one that does not."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from smtp_gitops.lint.rules import all_rules
from smtp_gitops.settings.diagnostics import Diagnostic
from tests.helpers import VALID, VALID_V2, only

Check = Callable[..., list[Diagnostic]]


def test_the_valid_baseline_is_clean(check: Check) -> None:
    assert check(VALID) == []


def with_set(extra: str = "", **fields: str) -> str:
    """VALID with the primary set's fields replaced/added (each value is YAML text)."""
    lines = VALID.splitlines()
    out = []
    for line in lines:
        key = line.strip().split(":", 1)[0]
        if line.startswith("      ") and not line.startswith("        ") and key in fields:
            value = fields.pop(key)
            if value is not None:
                out.append(f"      {key}: {value}")
            continue
        out.append(line)
    out.extend(f"      {key}: {value}" for key, value in fields.items())
    return "\n".join(out) + "\n" + extra


CASES: list[tuple[str, str, str, int, int]] = [
    # rule, triggering YAML, severity, line, column
    (
        "sops-reference",
        VALID.replace(
            "{fromEnv: SMTP_PRIMARY_PASSWORD}",
            "{fromSops: {file: secrets/missing.sops.yaml, key: /smtp/password}}",
        ),
        "error",
        14,
        28,
    ),
    ("yaml-syntax", "apiVersion: smtp-gitops/v1\nkind: [SmtpSettings\n", "error", 3, 1),
    ("yaml-syntax", "apiVersion: smtp-gitops/v1\nmetadata:\n\tenvironment: prod\n", "error", 3, 1),
    (
        "duplicate-key",
        VALID.replace("  production: true\n", "  production: true\n  production: false\n"),
        "error",
        6,
        3,
    ),
    (
        "unsafe-yaml",
        VALID.replace("port: 587", "port: !!python/object:os.system 587"),
        "error",
        11,
        13,
    ),
    ("schema", VALID.replace("port: 587", 'port: "587"'), "error", 11, 13),
    ("schema", VALID.replace("port: 587", "port: 70000"), "error", 11, 13),
    ("schema", VALID.replace("      networkHost: smtp.gmail.com\n", ""), "error", 8, 7),
    ("unknown-key", VALID.replace("enableSsl: true", "enableSSL: true"), "error", 12, 7),
    ("api-version", VALID.replace("smtp-gitops/v1", "smtp-gitops/v3"), "error", 1, 13),
    ("api-version", VALID.replace("kind: SmtpSettings\n", ""), "error", 1, 1),
    (
        "environment-mismatch",
        VALID.replace("environment: prod", "environment: staging"),
        "error",
        4,
        16,
    ),
    (
        "duplicate-set-name",
        VALID
        + "    - name: primary\n      networkHost: smtp.example.com\n      defaultCredentials: true\n",
        "error",
        17,
        13,
    ),
    (
        "multiple-enabled",
        VALID + "    - name: backup\n      enabled: true\n      networkHost: smtp.example.com\n"
        "      defaultCredentials: true\n",
        "warning",
        18,
        16,
    ),
    (
        "no-enabled-set",
        VALID.replace("enabled: true\n      networkHost", "enabled: false\n      networkHost"),
        "error",
        7,
        3,
    ),
    (
        "plaintext-secret",
        VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "hunter2"),
        "error",
        14,
        17,
    ),
    (
        "credentials-missing",
        VALID.replace("      username: portal@example.com\n", ""),
        "error",
        8,
        7,
    ),
    ("credentials-ignored", with_set(defaultCredentials="true"), "warning", 13, 7),
    ("port-tls-mismatch", with_set(enableSsl="false"), "warning", 12, 18),
    (
        "port-tls-mismatch",
        with_set(enableSsl="false", port="465", networkHost="127.0.0.1"),
        "warning",
        12,
        18,
    ),
    ("invalid-host", with_set(networkHost="smtp://smtp.gmail.com"), "error", 10, 20),
    ("invalid-email", with_set(username="portal.example.com"), "error", 13, 17),
    ("invalid-email", VALID.replace("qa@example.com", "qa@"), "error", 16, 19),
    (
        "redirect-without-recipients",
        with_set(redirectToReportEmails="true").replace("enabled: true}", "enabled: false}"),
        "error",
        17,
        31,
    ),
    (
        "redirect-in-production",
        with_set(redirectToReportEmails="true"),
        "warning",
        17,
        31,
    ),
    (
        "duplicate-report-email",
        VALID + "        - {email: QA@example.com, enabled: true}\n",
        "warning",
        17,
        19,
    ),
    (
        "invalid-target",
        VALID + "  reload:\n    targets: ['http://[::1/r']\n    secretFromEnv: S\n",
        "error",
        18,
        15,
    ),
    (
        "insecure-target",
        VALID + "  reload:\n    targets:\n      - http://portal-1.example.com/r\n"
        "    secretFromEnv: S\n",
        "warning",
        19,
        9,
    ),
    (
        "oauth2-incomplete",
        VALID_V2.replace("          tenantId: 00000000-0000-0000-0000-000000000000\n", ""),
        "error",
        26,
        21,
    ),
    (
        "basic-auth-deprecated",
        VALID_V2.replace("networkHost: smtp.example.com", "networkHost: smtp.office365.com"),
        "warning",
        16,
        9,
    ),
    (
        "unused-ignore",
        VALID.replace("port: 587", "port: 587  # smtp-gitops: ignore[port-tls-mismatch] -- relay"),
        "warning",
        11,
        18,
    ),
]


@pytest.mark.parametrize(("rule", "text", "severity", "line", "column"), CASES)
def test_rule_triggers_at_the_offending_place(
    check: Check, rule: str, text: str, severity: str, line: int, column: int
) -> None:
    found = only(check(text), rule)
    assert found, f"{rule} not reported"
    assert (found[0].severity.value, found[0].line, found[0].column) == (severity, line, column)


NOT_TRIGGERED: list[tuple[str, str]] = [
    ("sops-reference", VALID),
    ("yaml-syntax", VALID),
    ("duplicate-key", VALID),
    ("unsafe-yaml", VALID.replace("port: 587", "port: !!int 587")),
    ("schema", VALID.replace("port: 587", "port: 465")),
    ("unknown-key", VALID),
    ("api-version", VALID),
    ("environment-mismatch", VALID),
    (
        "duplicate-set-name",
        VALID
        + "    - name: backup\n      networkHost: b.example.com\n      defaultCredentials: true\n",
    ),
    (
        "multiple-enabled",
        VALID
        + "    - name: backup\n      networkHost: b.example.com\n      defaultCredentials: true\n",
    ),
    ("no-enabled-set", VALID),
    (
        "plaintext-secret",
        VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "{fromFile: /run/secrets/smtp}"),
    ),
    ("credentials-missing", with_set(defaultCredentials="true", username=None, password=None)),  # type: ignore[arg-type]
    ("credentials-ignored", VALID),
    ("port-tls-mismatch", with_set(enableSsl="false", networkHost="localhost", port="25")),
    ("invalid-host", with_set(networkHost="2001:db8::1")),
    ("invalid-email", with_set(username="first.last+portal@mail.example.co.uk")),
    ("redirect-without-recipients", with_set(redirectToReportEmails="true")),
    (
        "redirect-in-production",
        with_set(redirectToReportEmails="true").replace("production: true", "production: false"),
    ),
    ("duplicate-report-email", VALID + "        - {email: ops@example.com, enabled: true}\n"),
    (
        "invalid-target",
        VALID
        + "  reload:\n    targets: ['https://[2001:db8::1]:8443/r', 'http://127.0.0.1:8787/r']"
        "\n    secretFromEnv: S\n",
    ),
    (
        "insecure-target",
        VALID + "  reload:\n    targets: [http://localhost:8787/r, https://p.example.com/r]"
        "\n    secretFromEnv: S\n",
    ),
    ("oauth2-incomplete", VALID_V2),
    ("basic-auth-deprecated", VALID_V2),
    (
        "unused-ignore",
        VALID.replace(
            "enableSsl: true",
            "enableSsl: false  # smtp-gitops: ignore[port-tls-mismatch] -- private relay",
        ),
    ),
]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/r",
        "https://user:pw@portal.example.com/r",
        "https://portal_1.example.com/r",
        "https://portal.example.com:0/r",
        "https://portal.example.com:70000/r",
        "https:///r",
    ],
)
def test_invalid_target_catches_urls_the_schema_lets_through(check: Check, url: str) -> None:
    text = VALID + f"  reload:\n    targets: ['{url}']\n    secretFromEnv: S\n"
    found = only(check(text), "invalid-target")
    assert len(found) == 1
    assert "pw@" not in found[0].message, "a password in a URL is not repeated"


@pytest.mark.parametrize(("rule", "text"), NOT_TRIGGERED)
def test_rule_stays_quiet_on_a_good_file(check: Check, rule: str, text: str) -> None:
    assert only(check(text), rule) == []


def test_every_rule_has_a_trigger_case_a_quiet_case_and_a_doc() -> None:
    rules = all_rules()
    assert {case[0] for case in CASES} == set(rules)
    assert {case[0] for case in NOT_TRIGGERED} == set(rules)
    for found in rules.values():
        assert len(found.doc.split()) >= 15, f"{found.id} needs a real doc"


def test_multiple_enabled_names_the_winning_set(check: Check) -> None:
    text = VALID + (
        "    - name: backup\n      enabled: true\n      networkHost: b.example.com\n"
        "      defaultCredentials: true\n"
    )
    [warning] = only(check(text), "multiple-enabled")
    assert "uses the first, 'primary'" in warning.message
    assert "ignores 'backup'" in warning.message


def test_unknown_key_suggests_the_nearest_known_key(check: Check) -> None:
    [found] = only(check(VALID.replace("networkHost:", "netwrokHost:")), "unknown-key")
    assert found.hint == "did you mean `networkHost`?"


def test_plaintext_secret_never_repeats_the_password(check: Check) -> None:
    found = check(VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "S3cr3t-Value-xyz"))
    assert found
    assert all("S3cr3t-Value-xyz" not in f"{d.message} {d.hint}" for d in found)


def test_duplicate_key_does_not_stop_the_other_checks(check: Check) -> None:
    text = VALID.replace(
        "  production: true\n", "  production: true\n  production: true\n"
    ).replace("port: 587", "port: 0")
    rules = {d.rule for d in check(text)}
    assert {"duplicate-key", "schema"} <= rules


def test_schema_reports_every_problem_in_one_run(check: Check) -> None:
    text = VALID.replace("port: 587", "port: -1").replace("enableSsl: true", "enableSsl: maybe")
    found = only(check(text), "schema")
    assert [(d.line, d.column) for d in found] == [(11, 13), (12, 18)]
