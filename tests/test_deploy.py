"""`smtp-gitops deploy` end to end: real files, real HTTP portal nodes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from smtp_gitops.cli import main
from smtp_gitops.receiver import verify
from tests.conftest import VALID, write_env
from tests.portal import SECRET, closed_port_url, portal

PASSWORD = "Pa55-known-secret-value"


def settings(output: Path, targets: list[str], retries: int = 1) -> str:
    listed = "".join(f"      - {url}\n" for url in targets)
    return VALID + (
        f"  render:\n    output: {output}\n"
        f"  reload:\n    targets:\n{listed}"
        f"    secretFromEnv: PORTAL_RELOAD_SECRET\n    timeoutSeconds: 2\n    retries: {retries}\n"
    )


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["deploy", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert PASSWORD not in output and SECRET not in output
    assert SECRET.removeprefix("whsec_") not in output
    return code, output


def test_deploy_reloads_every_node_once_with_a_verified_signature(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "portal" / "smtp.json"
    with portal() as node1, portal() as node2:
        write_env(env, "prod", settings(out, [node1.url, node2.url]))
        code, output = run(capsys, "prod")
        deliveries = node1.state.deliveries + node2.state.deliveries
    assert code == 0, output
    assert len(node1.state.deliveries) == len(node2.state.deliveries) == 1
    for delivery in deliveries:
        verify(delivery.headers, delivery.body, SECRET)
        data = json.loads(delivery.body)["data"]
        assert data["environment"] == "prod"
        assert delivery.headers["webhook-id"] == f"deploy_{data['configSha256'][:32]}"
    assert json.loads(out.read_text())["EffectiveSet"]["Password"] == PASSWORD
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "2 node(s) reloaded" in output


def test_unchanged_config_skips_the_reload_unless_forced(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        assert run(capsys, "prod")[0] == 0
        code, output = run(capsys, "prod")
        assert code == 0 and "reload skipped" in output
        assert len(node.state.deliveries) == 1
        assert run(capsys, "prod", "--force")[0] == 0
        assert len(node.state.deliveries) == 2


def test_node_that_stays_down_fails_and_restores_the_previous_file(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    previous = b'{"previous": "config"}\n'
    out.write_bytes(previous)
    down = closed_port_url()
    with portal() as healthy:
        write_env(env, "prod", settings(out, [healthy.url, down]))
        code, output = run(capsys, "prod")
    assert code == 1
    assert out.read_bytes() == previous
    assert f"FAILED {down}: connection failed" in output
    assert "1 of 2 node(s) failed" in output
    assert [p.name for p in env.iterdir() if p.name.startswith(".smtp-gitops-")] == []


def test_failure_without_a_previous_file_leaves_none(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal([503, 503, 503]) as node:
        write_env(env, "prod", settings(out, [node.url], retries=1))
        code, output = run(capsys, "prod")
        assert len(node.state.deliveries) == 2
    assert code == 1 and not out.exists()
    assert "HTTP 503" in output


def test_retried_deliveries_share_one_webhook_id(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with portal([503, 503, 204]) as node:
        write_env(env, "prod", settings(env / "smtp.json", [node.url], retries=2))
        code, _ = run(capsys, "prod")
        ids = {d.headers["webhook-id"] for d in node.state.deliveries}
        assert len(node.state.deliveries) == 3 and len(ids) == 1
    assert code == 0


def test_400_fails_at_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with portal([400]) as node:
        write_env(env, "prod", settings(env / "smtp.json", [node.url], retries=3))
        code, output = run(capsys, "prod")
        assert len(node.state.deliveries) == 1
    assert code == 1 and "HTTP 400" in output


def test_dry_run_writes_and_sends_nothing(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        code, output = run(capsys, "prod", "--dry-run")
        assert node.state.deliveries == []
    assert code == 0 and not out.exists()
    assert '"Password": "***"' in output
    assert f"would POST smtp-settings.reload to {node.url}" in output
    assert "webhook-signature: v1,***" in output


def test_missing_reload_secret_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_RELOAD_SECRET")
    out = env / "smtp.json"
    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/x"]))
    code, output = run(capsys, "prod")
    assert code == 2 and "PORTAL_RELOAD_SECRET" in output and not out.exists()


def test_missing_output_is_a_usage_error(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(env, "prod", VALID)
    code, output = run(capsys, "prod")
    assert code == 2 and "spec.render.output" in output


def test_missing_smtp_password_is_an_error_naming_the_variable(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PRIMARY_PASSWORD")
    out = env / "smtp.json"
    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/x"]))
    code, output = run(capsys, "prod")
    assert code == 1 and "SMTP_PRIMARY_PASSWORD is not set" in output and not out.exists()


def test_invalid_settings_are_refused_before_anything_is_written(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/x"]).replace("port: 587", "port: 0"))
    code, output = run(capsys, "prod")
    assert code == 1 and "error schema" in output and not out.exists()
    assert not os.path.exists(out)
