"""`check-dns` against a real DNS server on 127.0.0.1 (dnslib), reached through --nameserver
by the production resolver code, unchanged."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from smtp_gitops.commands.cli import main
from tests.dns_server import Zone, dns_server, silent_server
from tests.helpers import write_env

M365_SPF = ("spf.protection.outlook.com", [("TXT", "v=spf1 ip4:40.92.0.0/15 -all")])
GOOGLE_SPF = ("_spf.google.com", [("TXT", "v=spf1 ip4:35.190.247.0/24 ~all")])


def settings(environment: str, host: str, sender: str, *, enabled: bool = True) -> str:
    return f"""\
apiVersion: smtp-gitops/v2
kind: SmtpSettings
metadata:
  environment: {environment}
spec:
  sets:
    - name: primary
      enabled: {"true" if enabled else "false"}
      networkHost: {host}
      username: {sender}
      email: {sender}
      auth:
        password: {{fromEnv: SMTP_PRIMARY_PASSWORD}}
"""


def clean_m365(domain: str = "m365.test") -> dict[str, list[tuple[str, str]]]:
    return {
        domain: [
            ("TXT", "v=spf1 include:spf.protection.outlook.com -all"),
            ("MX", f"mx.{domain}"),
        ],
        f"_dmarc.{domain}": [("TXT", "v=DMARC1; p=reject; rua=mailto:d@example.com")],
        f"selector1._domainkey.{domain}": [("CNAME", "selector1-x._domainkey.tenant.test")],
        M365_SPF[0]: M365_SPF[1],
    }


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], server: str, *args: str) -> tuple[int, Any]:
    code = main(["check-dns", "--nameserver", server, "--format", "json", "--timeout", "5", *args])
    return code, json.loads(capsys.readouterr().out)


def kinds(document: Any) -> list[str]:
    return sorted(
        finding["kind"]
        for environment in document["environments"]
        for checked in environment["sets"]
        for finding in checked["findings"]
    )


@pytest.mark.parametrize(
    ("host", "sender", "zone"),
    [
        ("smtp.office365.com", "no-reply@m365.test", clean_m365()),
        (
            "smtp.gmail.com",
            "portal@gmail-domain.test",
            {
                "gmail-domain.test": [
                    ("TXT", "v=spf1 include:_spf.google.com ~all"),
                    ("MX", "aspmx.l.google.test"),
                ],
                "_dmarc.gmail-domain.test": [("TXT", "v=DMARC1; p=quarantine")],
                "google._domainkey.gmail-domain.test": [("TXT", "v=DKIM1; k=rsa; p=MIGf")],
                GOOGLE_SPF[0]: GOOGLE_SPF[1],
            },
        ),
        (
            "relay.relay.test",
            "portal@relay.test",
            {
                "relay.test": [("TXT", "v=spf1 a:relay.relay.test -all"), ("A", "192.0.2.1")],
                "relay.relay.test": [("A", "192.0.2.10"), ("AAAA", "2001:db8::10")],
                "_dmarc.relay.test": [("TXT", "v=DMARC1; p=none")],
            },
        ),
    ],
    ids=["microsoft-365", "google", "relay"],
)
def test_a_clean_domain_has_no_findings(
    repo: Path, capsys: pytest.CaptureFixture[str], host: str, sender: str, zone: Zone
) -> None:
    write_env(repo, "prod", settings("prod", host, sender))
    with dns_server(zone) as (server, _):
        code, document = check(capsys, server)
    assert (code, kinds(document)) == (0, [])
    [environment] = document["environments"]
    [checked] = environment["sets"]
    assert checked["domain"] == sender.split("@")[1]
    assert checked["categories"] == ["administration", "general", "notifications"]


def zone_with(**records: list[tuple[str, str]] | None) -> dict[str, list[tuple[str, str]]]:
    zone: dict[str, list[tuple[str, str]]] = clean_m365()
    for name, value in records.items():
        real = {
            "domain": "m365.test",
            "dmarc": "_dmarc.m365.test",
            "dkim": "selector1._domainkey.m365.test",
        }[name]
        if value is None:
            zone.pop(real)
        else:
            zone[real] = value
    return zone


@pytest.mark.parametrize(
    ("zone", "expected", "code"),
    [
        (zone_with(domain=[("MX", "mx.m365.test")]), ["spf-missing"], 1),
        (
            zone_with(
                domain=[
                    ("TXT", "v=spf1 include:spf.protection.outlook.com -all"),
                    ("TXT", "v=spf1 -all"),
                    ("MX", "mx.m365.test"),
                ]
            ),
            ["spf-multiple"],
            1,
        ),
        (
            zone_with(
                domain=[
                    ("TXT", "v=spf1 include:spf.protection.outlook.com foo:x -all"),
                    ("MX", "m"),
                ]
            ),
            ["spf-invalid"],
            1,
        ),
        (zone_with(domain=[("TXT", "v=spf1 ip4:300.1.1.1 -all"), ("MX", "m")]), ["spf-invalid"], 1),
        (
            zone_with(domain=[("TXT", "v=spf1 include:_spf.google.com -all"), ("MX", "m")])
            | {GOOGLE_SPF[0]: GOOGLE_SPF[1]},
            ["spf-not-authorized"],
            1,
        ),
        (zone_with(dmarc=None), ["dmarc-missing"], 0),
        (zone_with(dmarc=[("TXT", "p=reject; v=DMARC1")]), ["dmarc-invalid"], 1),
        (zone_with(dmarc=[("TXT", "v=DMARC1; p=maybe")]), ["dmarc-invalid"], 1),
        (zone_with(dkim=None), ["dkim-missing"], 0),
        (
            zone_with(domain=[("TXT", "v=spf1 include:spf.protection.outlook.com -all")]),
            ["mx-missing"],
            0,
        ),
    ],
    ids=[
        "spf-missing",
        "spf-multiple",
        "spf-invalid-mechanism",
        "spf-invalid-ip4",
        "spf-not-authorized",
        "dmarc-missing",
        "dmarc-not-first",
        "dmarc-bad-policy",
        "dkim-missing",
        "mx-missing",
    ],
)
def test_each_finding(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    zone: Zone,
    expected: list[str],
    code: int,
) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    with dns_server(zone) as (server, _):
        got, document = check(capsys, server)
    assert (got, kinds(document)) == (code, expected)
    [finding] = document["environments"][0]["sets"][0]["findings"]
    assert finding["message"] and finding["hint"], finding


def test_warnings_fail_only_with_strict(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    with dns_server(zone_with(dkim=None)) as (server, _):
        assert check(capsys, server)[0] == 0
        assert check(capsys, server, "--strict")[0] == 1


def test_the_relay_must_be_permitted_by_its_addresses(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings("prod", "relay.relay.test", "portal@relay.test"))
    zone = {
        "relay.test": [("TXT", "v=spf1 ip4:198.51.100.0/24 mx -all"), ("MX", "mx.relay.test")],
        "mx.relay.test": [("A", "198.51.100.7")],
        "relay.relay.test": [("A", "192.0.2.10")],
        "_dmarc.relay.test": [("TXT", "v=DMARC1; p=none")],
    }
    with dns_server(zone) as (server, _):
        code, document = check(capsys, server)
    assert (code, kinds(document)) == (1, ["spf-not-authorized"])
    finding = document["environments"][0]["sets"][0]["findings"][0]
    assert "192.0.2.10" in finding["message"] and "a:relay.relay.test" in finding["hint"]


def test_includes_nested_three_deep_authorize_the_provider(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    zone = zone_with(domain=[("TXT", "v=spf1 include:one.test -all"), ("MX", "m")]) | {
        "one.test": [("TXT", "v=spf1 include:two.test -all")],
        "two.test": [("TXT", "v=spf1 redirect=three.test")],
        "three.test": [("TXT", "v=spf1 include:spf.protection.outlook.com -all")],
    }
    with dns_server(zone) as (server, _):
        code, document = check(capsys, server)
    assert (code, kinds(document)) == (0, [])


def test_eleven_lookups_are_too_many(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    many = " ".join(f"include:n{i}.test" for i in range(10))
    zone = zone_with(
        domain=[("TXT", f"v=spf1 {many} include:spf.protection.outlook.com -all"), ("MX", "m")]
    ) | {f"n{i}.test": [("TXT", "v=spf1 -all")] for i in range(10)}
    with dns_server(zone) as (server, _):
        code, document = check(capsys, server)
    assert (code, kinds(document)) == (1, ["spf-too-many-lookups"])
    assert "11 DNS lookups" in json.dumps(document)


def test_a_server_that_never_answers_is_a_dns_error_within_the_timeout(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    with silent_server() as server:
        started = time.monotonic()
        code = main(["check-dns", "--nameserver", server, "--timeout", "1.5"])
        elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1
    assert elapsed < 5, "the whole run is bounded by --timeout"
    assert "dns-error" in out and "could not check" in out
    assert "missing" not in out, "a resolver that says nothing is never 'missing'"


def test_two_hundred_environments_on_five_domains_ask_each_name_once(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    domains = [f"d{n}.test" for n in range(5)]
    zone: dict[str, list[tuple[str, str]]] = {}
    for domain in domains:
        zone |= clean_m365(domain)
    for number in range(200):
        name = f"env{number:03d}"
        write_env(
            repo, name, settings(name, "smtp.office365.com", f"app{number}@{domains[number % 5]}")
        )
    with dns_server(zone) as (server, resolver):
        started = time.monotonic()
        code, document = check(capsys, server)
        elapsed = time.monotonic() - started
    assert code == 0 and kinds(document) == []
    assert document["summary"] == {"environments": 200, "errors": 0, "warnings": 0}
    assert resolver.asked and max(resolver.asked.values()) == 1, resolver.asked.most_common(3)
    assert elapsed < 30


def test_set_checks_a_disabled_set_and_categories_pick_the_sets_in_use(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = settings("prod", "smtp.office365.com", "no-reply@m365.test") + (
        "    - name: notices\n      enabled: true\n      category: notifications\n"
        "      networkHost: smtp.gmail.com\n      username: n@m365.test\n"
        "      auth: {password: {fromEnv: P}}\n"
        "    - name: spare\n      networkHost: smtp.office365.com\n      username: s@m365.test\n"
        "      auth: {password: {fromEnv: P}}\n"
    )
    write_env(repo, "prod", text)
    zone = clean_m365() | {GOOGLE_SPF[0]: GOOGLE_SPF[1]}
    with dns_server(zone) as (server, _):
        code, document = check(capsys, server)
        sets = document["environments"][0]["sets"]
        assert [(s["set"], s["categories"]) for s in sets] == [
            ("primary", ["administration", "general"]),
            ("notices", ["notifications"]),
        ]
        # Google sends for m365.test, whose SPF does not include Google's.
        assert code == 1 and kinds(document) == ["dkim-missing", "spf-not-authorized"]
        code, document = check(capsys, server, "--set", "spare")
        assert [s["set"] for s in document["environments"][0]["sets"]] == ["spare"]


def test_text_and_markdown_formats(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    with dns_server(zone_with(dmarc=None)) as (server, _):
        assert main(["check-dns", "--nameserver", server]) == 0
        text = capsys.readouterr().out
        assert main(["check-dns", "--nameserver", server, "--format", "markdown"]) == 0
        markdown = capsys.readouterr().out
    assert (
        "prod / primary (administration, general, notifications): m365.test via Microsoft 365"
        in text
    )
    assert "warning dmarc-missing:" in text and "hint: add a TXT record at _dmarc.m365.test" in text
    assert markdown.startswith("## Will the mail arrive?")
    assert "| `prod` | `primary` | `m365.test` | Microsoft 365 | ⚠️ `dmarc-missing`" in markdown


@pytest.mark.parametrize(
    "args",
    [["--nameserver", "dns.example.com"], ["nosuch"], ["--set", "nosuch"]],
    ids=["a-name-as-nameserver", "unknown-environment", "unknown-set"],
)
def test_usage_errors_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    assert main(["check-dns", *args]) == 2
    assert capsys.readouterr().err.startswith("Error: ")


def test_an_include_loop_and_a_huge_record_end_in_findings_not_a_hang(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test"))
    zone = zone_with(domain=[("TXT", "v=spf1 include:loop-a.test -all"), ("MX", "m")]) | {
        "loop-a.test": [("TXT", "v=spf1 include:loop-b.test -all")],
        "loop-b.test": [("TXT", "v=spf1 include:loop-a.test " + "ip4:192.0.2.1 " * 150 + "-all")],
    }
    with dns_server(zone) as (server, resolver):
        started = time.monotonic()
        code, document = check(capsys, server)
        elapsed = time.monotonic() - started
    assert code == 1 and "spf-too-many-lookups" in kinds(document)
    assert elapsed < 10
    assert max(resolver.asked.values()) == 1, "each record of the loop is fetched once"


def test_the_configured_severities_decide_which_environments_can_be_checked(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # validate passes this file under the project's configuration, so check-dns must too.
    local_reports = "      reportEmails:\n        - {email: qa@localhost, enabled: true}\n"
    write_env(
        repo, "prod", settings("prod", "smtp.office365.com", "no-reply@m365.test") + local_reports
    )
    with dns_server(clean_m365()) as (server, _):
        refused = main(["check-dns", "--nameserver", server, "--timeout", "5"])
        assert refused == 2 and "prod: the settings have 1 error(s)" in capsys.readouterr().err
        (repo / "pyproject.toml").write_text(
            '[tool.smtp-gitops.severity]\n"invalid-email" = "warning"\n'
        )
        assert main(["validate"]) == 0
        capsys.readouterr()
        code, document = check(capsys, server)
    assert (code, kinds(document)) == (0, [])
