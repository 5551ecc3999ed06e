"""`smtp-gitops deploy` end to end: real files, real HTTP portal nodes on 127.0.0.1, real
processes where the failure is a kill, a signal or a race."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.deploy.deploy import DeployOptions, deploy
from smtp_gitops.deploy.receiver import verify
from smtp_gitops.environment import load_environment
from tests.helpers import VALID, write_env
from tests.portal import SECRET, closed_port_url, digest_of, portal

PASSWORD = "Pa55-known-secret-value"


def settings(
    output: Path, targets: list[str], retries: int = 1, timeout: float = 2, port: int = 587
) -> str:
    listed = "".join(f"      - {url}\n" for url in targets)
    return VALID.replace("port: 587", f"port: {port}") + (
        f"  render:\n    output: {output}\n"
        f"  reload:\n    targets:\n{listed}"
        f"    secretFromEnv: PORTAL_RELOAD_SECRET\n    timeoutSeconds: {timeout}\n"
        f"    retries: {retries}\n"
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


def deploy_with_fast_retries(environment: str = "prod") -> tuple[int, str, list[float]]:
    """Deploy through ``smtp_gitops.deploy.deploy.deploy`` with the retry back-off recorded instead of
    slept, for the tests where nodes fail and deliveries are retried; returns the exit code,
    the output and the back-off delays asked for."""
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    lines: list[str] = []
    loaded = load_environment(environment)
    result = deploy(
        loaded.settings, DeployOptions(sleep=record), lines.append, repository=loaded.repository
    )
    output = "\n".join(lines)
    assert PASSWORD not in output and SECRET not in output
    return result.exit_code, output, delays


def state_of(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(Path(f"{out}.state.json").read_text())  # type: ignore[no-any-return]


def spawn_deploy(cwd: Path, *args: str) -> subprocess.Popen[str]:
    environ = {**os.environ, "SMTP_PRIMARY_PASSWORD": PASSWORD, "PORTAL_RELOAD_SECRET": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "smtp_gitops", "deploy", "prod", *args],
        cwd=cwd,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(condition: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_deploy_reloads_every_node_with_a_keyed_digest_and_records_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "portal" / "smtp.json"
    with portal() as node1, portal() as node2:
        write_env(env, "prod", settings(out, [node1.url, node2.url]))
        code, output = run(capsys, "prod")
        deliveries = node1.state.deliveries + node2.state.deliveries
    assert code == 0, output
    assert len(node1.state.deliveries) == len(node2.state.deliveries) == 1
    content = out.read_bytes()
    ids = set()
    for delivery in deliveries:
        verify(delivery.headers, delivery.body, SECRET)
        data = json.loads(delivery.body)["data"]
        assert data["environment"] == "prod"
        assert data["configDigest"] == digest_of(content)
        assert delivery.headers["webhook-id"] == f"deploy_{data['deployId']}"
        ids.add(delivery.headers["webhook-id"])
    assert len(ids) == 1, "one run has one webhook-id on every node"
    assert json.loads(content)["EffectiveSet"]["Password"] == PASSWORD
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "2 node(s) reloaded" in output
    state = state_of(out)
    assert state["last"]["result"] == "succeeded"
    assert state["deployed"]["configDigest"] == digest_of(content)
    assert {r["status"] for r in state["last"]["nodes"].values()} == {"accepted"}
    state_file = Path(f"{out}.state.json")
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    history = Path(f"{out}.history.jsonl").read_text().splitlines()
    assert len(history) == 1 and json.loads(history[0])["result"] == "succeeded"
    for text in (state_file.read_text(), history[0], output):
        assert PASSWORD not in text
    # No unkeyed hash of the secret-bearing file anywhere (an offline guessing oracle).
    import hashlib

    plain = hashlib.sha256(content).hexdigest()
    for text in (
        state_file.read_text(),
        history[0],
        output,
        *(d.body.decode() for d in deliveries),
    ):
        assert plain[:12] not in text


def test_unchanged_and_confirmed_skips_the_reload_force_sends_a_new_id(
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
        ids = [d.headers["webhook-id"] for d in node.state.deliveries]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_a_revert_is_not_mistaken_for_a_duplicate_by_a_deduplicating_node(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        for port in (1025, 2525, 1025):
            write_env(env, "prod", settings(out, [node.url], port=port))
            code, output = run(capsys, "prod")
            assert code == 0, output
            assert "confirmed" in output
            assert node.state.last_reload is not None
            assert node.state.last_reload["configDigest"] == digest_of(out.read_bytes())
        ids = [d.headers["webhook-id"] for d in node.state.deliveries]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert json.loads(out.read_text())["EffectiveSet"]["Port"] == 1025


def test_killed_between_write_and_reload_the_next_deploy_reloads(env: Path) -> None:
    out = env / "smtp.json"
    with portal(delay=30) as hanging:
        write_env(env, "prod", settings(out, [hanging.url], retries=0, timeout=60))
        process = spawn_deploy(env)
        wait_for(lambda: len(hanging.state.deliveries) == 1)
        process.kill()
        process.wait(timeout=10)
    assert out.exists(), "the new file was written before the kill"
    assert state_of(out)["last"]["result"] == "pending"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        done = spawn_deploy(env)
        output, _ = done.communicate(timeout=30)
        assert done.returncode == 0, output
        assert "do not confirm running it: sending the reload" in output
        assert len(node.state.deliveries) == 1
    assert state_of(out)["last"]["result"] == "succeeded"


def test_a_new_target_gets_the_reload_although_the_file_is_unchanged(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal() as node1, portal() as node2:
        write_env(env, "prod", settings(out, [node1.url]))
        assert run(capsys, "prod")[0] == 0
        write_env(env, "prod", settings(out, [node1.url, node2.url]))
        code, output = run(capsys, "prod")
        assert code == 0, output
        assert len(node2.state.deliveries) == 1


def test_partial_failure_rolls_back_the_node_that_took_the_new_config(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as good:
        write_env(env, "prod", settings(out, [good.url], port=1025))
        assert run(capsys, "prod")[0] == 0
        previous = out.read_bytes()
        os.chmod(out, 0o640)
        with portal([500, 500]) as bad:
            write_env(env, "prod", settings(out, [good.url, bad.url], port=2525))
            code, output, delays = deploy_with_fast_retries()
        assert code == 1, output
        assert len(delays) == 1, "one retry, after a back-off"
        assert out.read_bytes() == previous
        assert stat.S_IMODE(out.stat().st_mode) == 0o640, "the previous mode is restored"
        new_id, rollback_id = (d.headers["webhook-id"] for d in good.state.deliveries[1:])
        assert new_id != rollback_id
        rollback = json.loads(good.state.deliveries[2].body)["data"]
        assert rollback["rollbackOf"] == new_id.removeprefix("deploy_")
        assert rollback["configDigest"] == digest_of(previous)
        assert good.state.last_reload is not None
        assert good.state.last_reload["configDigest"] == digest_of(previous)
        assert f"rolled back {good.url}" in output
        assert "1 of 2 node(s) failed" in output
        state = state_of(out)
        assert state["last"]["result"] == "rolled-back"
        assert state["last"]["nodes"][good.url]["status"] == "rolled-back"
        # Re-deploying the old config: the node itself says it runs it (its signed status,
        # not the state file's memory), so nothing needs sending.
        write_env(env, "prod", settings(out, [good.url], port=1025))
        code, output = run(capsys, "prod")
        assert code == 0 and "reload skipped" in output


def test_a_failed_rollback_names_the_nodes_that_may_run_the_new_config(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal([204, 503, 503]) as flaky, portal([500, 500]) as bad:
        write_env(env, "prod", settings(out, [flaky.url, bad.url]))
        code, output, _ = deploy_with_fast_retries()
    assert code == 1
    assert f"these node(s) may still run the new config: {flaky.url}" in output
    assert state_of(out)["last"]["result"] == "rollback-failed"


def test_a_node_that_loaded_a_different_file_fails_the_deploy(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    wrong = json.dumps({"configDigest": "0" * 64}).encode()
    with portal([(200, {"content-type": "application/json"}, wrong)]) as node:
        write_env(env, "prod", settings(out, [node.url]))
        code, output = run(capsys, "prod")
    assert code == 1
    assert "loaded a different file" in output
    assert not out.exists()


def test_node_that_stays_down_fails_and_restores_the_previous_file(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    previous = b'{"previous": "config"}\n'
    out.write_bytes(previous)
    down = closed_port_url()
    with portal() as healthy:
        write_env(env, "prod", settings(out, [healthy.url, down]))
        code, output, _ = deploy_with_fast_retries()
    assert code == 1
    assert out.read_bytes() == previous
    assert f"FAILED {down}: connection failed" in output
    assert "1 of 2 node(s) failed" in output
    assert f"rolled back {healthy.url}" in output
    assert [p.name for p in env.iterdir() if p.name.startswith(".smtp-gitops-")] == []


def test_failure_without_a_previous_file_leaves_none(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal([503, 503, 503]) as node:
        write_env(env, "prod", settings(out, [node.url], retries=1))
        code, output, delays = deploy_with_fast_retries()
    assert delays, "the 503 was retried after a back-off"
    assert code == 1 and not out.exists()
    assert "HTTP 503" in output


def test_400_fails_at_once(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with portal([400]) as node:
        write_env(env, "prod", settings(env / "smtp.json", [node.url], retries=3))
        code, output = run(capsys, "prod")
        assert len(node.state.deliveries) == 1
    assert code == 1 and "HTTP 400" in output


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_during_the_reload_rolls_back_and_exits_non_zero(
    env: Path, signum: signal.Signals
) -> None:
    out = env / "smtp.json"
    previous = b'{"previous": "config"}\n'
    out.write_bytes(previous)
    with portal(delay=1.5) as node:
        write_env(env, "prod", settings(out, [node.url], retries=0, timeout=20))
        process = spawn_deploy(env)
        wait_for(lambda: len(node.state.deliveries) == 1)
        process.send_signal(signum)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 1, output
        assert f"stopped by {signum.name}: rolling back" in output
        assert out.read_bytes() == previous
        assert len(node.state.deliveries) == 2, "the node that got the request is rolled back"
        assert json.loads(node.state.deliveries[1].body)["data"]["rollbackOf"]
    assert "Traceback" not in output
    assert state_of(out)["last"]["result"] == "rolled-back"


def test_two_deploys_at_once_end_on_one_config_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "portal" / "smtp.json"
    # Nodes take 3 s, so the second deploy starts while the first holds the lock, however
    # slowly a loaded machine starts processes.
    with portal(config=str(out), delay=3) as node1, portal(config=str(out), delay=3) as node2:
        checkouts = []
        for name, port in (("a", 1025), ("b", 2525)):
            checkout = tmp_path / name
            targets = [node1.url, node2.url]
            write_env(checkout, "prod", settings(out, targets, port=port, timeout=10))
            checkouts.append(checkout)
        first = spawn_deploy(checkouts[0])
        wait_for(lambda: len(node1.state.deliveries) == 1)
        second = spawn_deploy(checkouts[1])
        outputs = [p.communicate(timeout=60)[0] for p in (first, second)]
        assert [first.returncode, second.returncode] == [0, 0], outputs
        final = digest_of(out.read_bytes())
        for node in (node1, node2):
            assert node.state.last_reload is not None
            assert node.state.last_reload["configDigest"] == final
    assert "waiting for another deploy" in outputs[1]
    assert json.loads(out.read_text())["EffectiveSet"]["Port"] == 2525, "the later deploy wins"
    history = [json.loads(line) for line in Path(f"{out}.history.jsonl").read_text().splitlines()]
    assert [h["result"] for h in history] == ["succeeded", "succeeded"]
    assert history[-1]["configDigest"] == final


def test_a_deploy_that_cannot_get_the_lock_exits_1_naming_the_holder(env: Path) -> None:
    out = env / "smtp.json"
    with portal(delay=2) as node:
        write_env(env, "prod", settings(out, [node.url], retries=0, timeout=20))
        first = spawn_deploy(env)
        wait_for(lambda: len(node.state.deliveries) == 1)
        second = spawn_deploy(env, "--lock-timeout", "0.2")
        output, _ = second.communicate(timeout=30)
        first.communicate(timeout=30)
    assert second.returncode == 1, output
    assert "another deploy of" in output and f"pid {first.pid}" in output


def test_stale_temporary_files_are_removed_on_the_next_run(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    stale = env / ".smtp-gitops-smtp.json.abc123"
    stale.write_text(f'{{"Password": "{PASSWORD}"}}')
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        code, output = run(capsys, "prod")
    assert code == 0 and not stale.exists()
    assert "removed 1 temporary file(s)" in output


def test_policy_refuses_outputs_and_targets_outside_what_the_deployer_allows(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = env / "portal"
    allowed.mkdir()
    outside = env / "home" / ".bashrc"
    write_env(env, "prod", settings(outside, ["http://127.0.0.1:9/r"]))
    code, output = run(capsys, "prod", "--allow-output", str(allowed))
    assert code == 2 and "outside the allowed folders" in output and not outside.exists()
    # A symlink inside the allowed folder that points out is refused too.
    (allowed / "link.json").symlink_to(outside)
    write_env(env, "prod", settings(allowed / "link.json", ["http://127.0.0.1:9/r"]))
    code, output = run(capsys, "prod", "--allow-output", str(allowed))
    assert code == 2 and not outside.exists()
    write_env(env, "prod", settings(allowed / "smtp.json", ["http://evil.example.net/r"]))
    monkeypatch.setenv("SMTP_GITOPS_ALLOW_TARGET", "127.0.0.1 *.example.com")
    code, output = run(capsys, "prod", "--allow-output", str(allowed))
    assert code == 2 and "evil.example.net/r is not an allowed host" in output
    assert not (allowed / "smtp.json").exists()
    with portal() as node:
        write_env(env, "prod", settings(allowed / "smtp.json", [node.url]))
        code, output = run(capsys, "prod", "--allow-output", str(allowed))
        assert code == 0, output
        # The same policy from the environment alone, folders separated by ':'.
        monkeypatch.setenv("SMTP_GITOPS_ALLOW_OUTPUT", f"{env / 'elsewhere'}:{allowed}")
        assert run(capsys, "prod", "--force")[0] == 0
        monkeypatch.setenv("SMTP_GITOPS_ALLOW_OUTPUT", str(env / "elsewhere"))
        code, output = run(capsys, "prod", "--force")
    assert code == 2 and "outside the allowed folders" in output


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
    assert not Path(f"{out}.state.json").exists()


def test_missing_reload_secret_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PORTAL_RELOAD_SECRET")
    out = env / "smtp.json"
    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/x"]))
    code, output = run(capsys, "prod")
    assert code == 2 and "PORTAL_RELOAD_SECRET" in output and not out.exists()


def test_short_reload_secret_is_a_usage_error(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", "whsec_c2hvcnQta2V5")
    out = env / "smtp.json"
    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/x"]))
    code, output = run(capsys, "prod")
    assert code == 2 and "at least 24" in output and not out.exists()


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


def test_an_unchanged_file_is_skipped_only_for_the_nodes_that_say_they_run_it(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal() as node, portal() as restarted:
        write_env(env, "prod", settings(out, [node.url, restarted.url]))
        assert run(capsys, "prod")[0] == 0
        # The state file is gone, and one node restarted and forgot what it loaded: only that
        # one is reloaded; a deploy with no flags converges.
        Path(f"{out}.state.json").unlink()
        restarted.state.last_reload = None
        code, output = run(capsys, "prod")
        assert code == 0 and "1 of 2 node(s) do not confirm running it" in output
        assert (len(node.state.deliveries), len(restarted.state.deliveries)) == (1, 2)
        assert state_of(out)["last"]["nodes"][node.url]["status"] == "confirmed"
        code, output = run(capsys, "prod")
        assert code == 0 and "reload skipped" in output
