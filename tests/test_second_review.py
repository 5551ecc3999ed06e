"""The attacks of the second review of deploy, status and the receiver: each one reproduced,
each one refused. Real processes, real receivers and raw sockets on 127.0.0.1, real git."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.deploy.delivery import NodeResult, RetryPolicy, Signed, deliver_all
from smtp_gitops.deploy.receiver import (
    ReceiverServer,
    ReceiverState,
    VerificationError,
    seen_file_for,
    verify,
)
from smtp_gitops.deploy.webhook import signed_headers
from tests.helpers import git, write_env
from tests.portal import KEY, SECRET, answer, digest_of, portal, raw_node
from tests.test_deploy import PASSWORD, settings, spawn_deploy, state_of, wait_for

BODY = json.dumps({"type": "smtp-settings.reload", "data": {"environment": "prod"}}).encode()


def deliver(url: str, expected: str | None = "sha-expected") -> NodeResult:
    policy = RetryPolicy(timeout=3, retries=0)
    [result] = deliver_all([url], Signed(KEY, "deploy_x", BODY, expected), policy)
    return result


def http(status: str, body: bytes, content_type: str | None = "application/json") -> bytes:
    kind = f"content-type: {content_type}\r\n" if content_type else ""
    head = f"HTTP/1.1 {status}\r\n{kind}content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    return head.encode() + body


# 1. An answer that cannot be read is not a confirmation.


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        # Another digest, behind 70 KB of padding: over the read cap.
        (
            http("200 OK", json.dumps({"pad": "x" * 70_000, "configDigest": "other"}).encode()),
            "over 64 KiB",
        ),
        (http("200 OK", b'{"configDigest": "sha-exp'), "claims to be JSON but does not parse"),
        (http("200 OK", b'{"configDigest": 12}'), "configDigest is not a string"),
        (http("200 OK", b'{"configDigest": null}'), "configDigest is not a string"),
        (http("200 OK", b'["configDigest"]'), "not an object"),
    ],
    ids=["over-the-cap", "broken-json", "integer-digest", "null-digest", "json-array"],
)
def test_an_answer_that_cannot_be_read_fails_the_node(raw: bytes, reason: str) -> None:
    with raw_node(answer(raw)) as url:
        result = deliver(url)
    assert not result.ok and reason in (result.reason or ""), result


def test_the_same_other_digest_in_a_small_answer_is_a_different_file() -> None:
    raw = http("200 OK", json.dumps({"pad": "x" * 1000, "configDigest": "other"}).encode())
    with raw_node(answer(raw)) as url:
        result = deliver(url)
    assert not result.ok and "loaded a different file" in (result.reason or "")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n",
        http("200 OK", b"reloaded", "text/plain"),
        http("200 OK", b'{"ok": true}'),
    ],
    ids=["bare-204", "plain-text", "json-without-digest"],
)
def test_a_bare_acknowledgement_is_accepted_unconfirmed(raw: bytes) -> None:
    with raw_node(answer(raw)) as url:
        result = deliver(url)
    assert result.ok and not result.confirmed


# 2. Unconfirmed is not proof for skipping.


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    return tmp_path


def deploy_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["deploy", "prod", *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_a_receiver_whose_config_is_missing_fails_the_reload(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal(config=str(env / "not-where-the-portal-reads.json")) as node:
        write_env(env, "prod", settings(out, [node.url], retries=0))
        code, output = deploy_cli(capsys)
        assert code == 1, output
        assert "cannot read --config" in output and "HTTP 500" in output
        # Nothing recorded as taken: the next deploy sends again rather than "unchanged".
        code, output = deploy_cli(capsys)
        assert code == 1 and "reload skipped" not in output
        assert len(node.state.deliveries) >= 2


# 3. An older commit must not overwrite a newer one.


def commit_port(repo: Path, out: Path, url: str, port: int, message: str) -> str:
    write_env(repo, "prod", settings(out, [url], port=port))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)
    return git(repo, "rev-parse", "HEAD")


def test_an_ancestor_of_the_deployed_revision_is_refused_unless_allowed(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "build" / "smtp.json"
    git(env, "init", "-q")
    (env / ".gitignore").write_text("build/\n")
    with portal() as node:
        c1 = commit_port(env, out, node.url, 587, "c1")
        c2 = commit_port(env, out, node.url, 2525, "c2")
        assert deploy_cli(capsys)[0] == 0
        assert state_of(out)["deployed"]["revision"] == c2
        git(env, "checkout", "-q", c1)
        code, output = deploy_cli(capsys)
        assert code == 1 and "older than the deployed" in output and "--allow-older" in output
        assert state_of(out)["deployed"]["revision"] == c2, "nothing was deployed"
        code, output = deploy_cli(capsys, "--allow-older")
        assert code == 0, output
        assert state_of(out)["deployed"]["revision"] == c1
        # Back on the branch; a revert of c2 is a new commit and deploys normally.
        git(env, "checkout", "-q", "-")
        assert deploy_cli(capsys)[0] == 0
        git(env, "revert", "--no-edit", "HEAD")
        code, output = deploy_cli(capsys)
        assert code == 0, output
        assert state_of(out)["deployed"]["revision"] == git(env, "rev-parse", "HEAD")


def test_three_checkouts_deploying_at_once_end_on_the_newest(env: Path) -> None:
    out = env / "shared" / "smtp.json"
    repo = env / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    with portal(delay=0.5, config=str(out)) as node:
        revisions = [
            commit_port(repo, out, node.url, port, f"c{port}") for port in (2525, 2526, 2527)
        ]
        checkouts = []
        for number, revision in enumerate(revisions):
            checkout = env / f"checkout-{number}"
            git(repo, "worktree", "add", "-q", "--detach", str(checkout), revision)
            checkouts.append(checkout)
        # The newest first, holding the lock while the older ones wait for it.
        newest = spawn_deploy(checkouts[2])
        wait_for(lambda: len(node.state.deliveries) == 1)
        older = [spawn_deploy(checkout) for checkout in checkouts[:2]]
        outputs = [p.communicate(timeout=60)[0] for p in (newest, *older)]
        codes = [p.returncode for p in (newest, *older)]
    assert codes == [0, 1, 1], outputs
    assert all("older than the deployed" in output for output in outputs[1:])
    assert state_of(out)["deployed"]["revision"] == revisions[2]
    assert node.state.last_reload is not None
    assert node.state.last_reload["configDigest"] == digest_of(out.read_bytes())
    assert '"Port": 2527' in out.read_text()


# 4. A closed stdout is not a reason to skip the rollback or the state.


def test_a_reader_that_goes_away_does_not_stop_the_deploy(env: Path) -> None:
    out = env / "smtp.json"
    with portal(delay=1.0) as node:
        write_env(env, "prod", settings(out, [node.url, node.url + "?2"], timeout=5))
        environ = {**os.environ, "SMTP_PRIMARY_PASSWORD": PASSWORD, "PORTAL_RELOAD_SECRET": SECRET}
        process = subprocess.Popen(
            [sys.executable, "-m", "smtp_gitops", "deploy", "prod"],
            cwd=env,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert process.stdout is not None
        assert process.stdout.readline().startswith(b"wrote ")
        process.stdout.close()  # the reader goes away while the nodes are being reloaded
        assert process.wait(timeout=30) == 0
    state = state_of(out)
    assert state["last"]["result"] == "succeeded"
    history = Path(f"{out}.history.jsonl").read_text().splitlines()
    assert json.loads(history[-1])["result"] == "succeeded"


# 5. The policy is checked under the lock, after any wait.


def test_a_folder_swapped_for_a_link_during_the_lock_wait_is_refused(env: Path) -> None:
    """While one deploy reloads and another waits for the lock, the output's folder is swapped
    for a link out of the allowed folder. The first finishes in the folder it opened; the
    second checks under the lock and refuses; nothing is written outside."""
    allowed = env / "allowed"
    folder = allowed / "portal"
    folder.mkdir(parents=True)
    outside = env / "outside"
    outside.mkdir()
    out = folder / "smtp.json"
    environ = {
        **os.environ,
        "SMTP_PRIMARY_PASSWORD": PASSWORD,
        "PORTAL_RELOAD_SECRET": SECRET,
        "SMTP_GITOPS_ALLOW_OUTPUT": str(allowed),
    }

    def spawn() -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "smtp_gitops", "deploy", "prod"],
            cwd=env,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    with portal(delay=2.0) as node:
        write_env(env, "prod", settings(out, [node.url], timeout=10))
        first = spawn()
        wait_for(lambda: len(node.state.deliveries) == 1)  # the first holds the lock
        write_env(env, "prod", settings(out, [node.url], timeout=10, port=2525))
        second = spawn()
        time.sleep(0.7)  # the second has checked the policy and waits for the lock
        folder.rename(allowed / "portal-old")
        folder.symlink_to(outside)
        first_output = first.communicate(timeout=30)[0]
        second_output = second.communicate(timeout=30)[0]
    assert first.returncode == 0, first_output
    assert second.returncode == 2, second_output
    assert "outside the allowed folders" in second_output
    assert list(outside.iterdir()) == [], "nothing was written outside the allowed folder"
    kept = allowed / "portal-old"
    assert {p.name for p in kept.iterdir()} >= {"smtp.json", "smtp.json.state.json"}
    assert json.loads((kept / "smtp.json.state.json").read_text())["last"]["result"] == (
        "succeeded"
    )


# 6. Empty policy entries never widen the policy.


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SMTP_GITOPS_ALLOW_OUTPUT", "", "is set but empty"),
        ("SMTP_GITOPS_ALLOW_OUTPUT", ":", "empty entry"),
        ("SMTP_GITOPS_ALLOW_OUTPUT", "/etc/portal:", "empty entry"),
        ("SMTP_GITOPS_ALLOW_TARGET", "", "is set but empty"),
        ("SMTP_GITOPS_ALLOW_TARGET", " ", "is set but empty"),
    ],
)
def test_a_set_but_empty_policy_is_a_usage_error(
    env: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    out = env / "smtp.json"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        monkeypatch.setenv(variable, value)
        code, output = deploy_cli(capsys)
        assert node.state.deliveries == []
    assert code == 2 and message in output and variable in output
    assert not out.exists()


def test_an_empty_allow_output_flag_is_refused(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(env, "prod", settings(env / "smtp.json", ["http://127.0.0.1:9/r"]))
    code, output = deploy_cli(capsys, "--allow-output", "")
    assert code == 2 and "--allow-output was given an empty value" in output


def test_the_message_names_the_variable_that_set_the_limit(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(env, "prod", settings(env / "elsewhere" / "smtp.json", ["http://127.0.0.1:9/r"]))
    (env / "portal").mkdir()
    monkeypatch.setenv("SMTP_GITOPS_ALLOW_OUTPUT", str(env / "portal"))
    code, output = deploy_cli(capsys)
    assert code == 2 and "set by SMTP_GITOPS_ALLOW_OUTPUT" in output


# 9. Text from other machines is shown escaped.


def test_a_forged_digest_cannot_forge_a_workflow_command_in_status(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        assert deploy_cli(capsys)[0] == 0
        node.state.last_reload = {"configDigest": "\n::error::forged"}
        code = main(["status", "prod"])
        shown = capsys.readouterr().out
    assert code == 1
    assert "\n::error::" not in shown and "\\x0a::error" in shown


def test_a_hostile_lock_holder_text_is_shown_escaped(env: Path) -> None:
    out = env / "smtp.json"
    lock = Path(f"{out}.lock")
    import fcntl

    write_env(env, "prod", settings(out, ["http://127.0.0.1:9/r"]))
    for text, shown in (
        (json.dumps({"pid": "1\n::error::forged", "host": "h"}), "\\x0a::error::forged"),
        ("[" * 3000, "holder unknown"),
    ):
        with lock.open("w") as held:
            held.write(text)
            held.flush()
            fcntl.flock(held.fileno(), fcntl.LOCK_EX)
            process = spawn_deploy(env, "--lock-timeout", "0.5")
            output = process.communicate(timeout=30)[0]
        assert process.returncode == 1, output
        assert "Traceback" not in output and "\n::error::" not in output
        assert shown in output, output


# 10-13. Hostile files beside the output.


@pytest.mark.parametrize(("which", "deploy_code"), [("history", 1), ("state", 0), ("output", 1)])
def test_a_fifo_beside_the_output_cannot_hang_deploy_or_status(
    env: Path, which: str, deploy_code: int
) -> None:
    out = env / "smtp.json"
    path = {"history": f"{out}.history.jsonl", "state": f"{out}.state.json", "output": str(out)}
    os.mkfifo(path[which])
    environ = {**os.environ, "SMTP_PRIMARY_PASSWORD": PASSWORD, "PORTAL_RELOAD_SECRET": SECRET}
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        status = subprocess.run(
            [sys.executable, "-m", "smtp_gitops", "status", "prod"],
            cwd=env,
            env=environ,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        process = spawn_deploy(env)
        output = process.communicate(timeout=30)[0]
    assert "Traceback" not in output + status.stdout + status.stderr
    assert status.returncode == 1, status.stdout + status.stderr  # not deployed: drift
    assert process.returncode == deploy_code, output
    assert "FIFO" in output, output
    if which == "output":
        assert Path(path[which]).is_fifo(), "left as it was"
        assert "FIFO" in status.stdout


def test_a_link_to_dev_zero_as_the_output_is_refused_not_read(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    out.symlink_to("/dev/zero")
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        code, output = deploy_cli(capsys)
    assert code == 1 and "symbolic link" in output
    assert out.is_symlink()


def test_state_values_of_the_wrong_type_are_a_finding_not_a_traceback(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal() as node:
        write_env(env, "prod", settings(out, [node.url]))
        assert deploy_cli(capsys)[0] == 0
        state = state_of(out)
        state["deployed"]["deployId"] = 7
        state["deployed"]["revision"] = 12345
        state["last"]["configDigest"] = 99
        Path(f"{out}.state.json").write_text(json.dumps(state))
        code = main(["status", "prod"])
        shown = capsys.readouterr()
    assert code == 1
    assert "deployId is not a string" in shown.out or "is not a string" in shown.out
    assert "Traceback" not in shown.out + shown.err


# 14-19. The reference receiver acts once per delivery, and stays up.


def post(url: str, webhook_id: str, body: bytes = BODY, timeout: float = 30) -> int:
    import httpx

    headers = signed_headers(KEY, webhook_id, body, int(time.time()))
    return httpx.post(url, content=body, headers=headers, timeout=timeout).status_code


def test_concurrent_deliveries_of_one_id_run_the_command_once(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    command = f"sh -c 'echo x >> {runs}; sleep 1'"
    state = ReceiverState(SECRET, command=command, quiet=True)
    server = ReceiverServer(("127.0.0.1", 0), state)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        codes: list[int] = []
        threads = [
            threading.Thread(target=lambda: codes.append(post(server.url, "deploy_same")))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert codes == [204, 204, 204]
        assert runs.read_text().count("x") == 1
        # And a retry after the answer (deploy's own, after a timeout) does not act again.
        assert post(server.url, "deploy_same") == 204
        assert runs.read_text().count("x") == 1
    finally:
        server.shutdown()
        server.server_close()


def start_receiver(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "smtp_gitops.receiver", "--port", str(port), *args],
        env={**os.environ, "PORTAL_RELOAD_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/api/reload-application"
    assert process.stdout is not None
    assert process.stdout.readline().startswith("listening on")
    return process, url


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    try:
        _, err = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def test_a_delivery_replayed_after_a_restart_is_not_acted_on_again(tmp_path: Path) -> None:
    runs, config = tmp_path / "runs", tmp_path / "smtp.json"
    config.write_text("{}")
    args = ("--exec", f"sh -c 'echo x >> {runs}'", "--config", str(config))
    process, url = start_receiver(tmp_path, *args)
    assert post(url, "deploy_captured") == 200
    stop(process)
    assert Path(seen_file_for(str(config))).is_file()
    process, url = start_receiver(tmp_path, *args)
    try:
        assert post(url, "deploy_captured") == 200
        assert runs.read_text().count("x") == 1
        assert post(url, "deploy_new") == 200
        assert runs.read_text().count("x") == 2
    finally:
        stop(process)


def test_a_flood_of_idle_connections_does_not_lock_out_a_delivery(tmp_path: Path) -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    process, url = start_receiver(tmp_path)
    port = int(url.split(":")[2].split("/")[0])
    idle: list[socket.socket] = []
    try:
        for _ in range(min(1100, soft - 64)):
            connection = socket.create_connection(("127.0.0.1", port))
            idle.append(connection)
        started = time.monotonic()
        code = None
        while time.monotonic() - started < 20:
            try:
                code = post(url, "deploy_flood", timeout=3)
                break
            except Exception:
                time.sleep(0.2)
        assert code == 204, "a real delivery gets through within the connection deadline"
    finally:
        for connection in idle:
            connection.close()
        err = stop(process)
    assert "Traceback" not in err
    assert err.count("refusing connections") <= 3, err[-2000:]


def test_the_exec_child_runs_in_its_own_group_bounded_in_output_and_time(tmp_path: Path) -> None:
    background = "sh -c 'sleep 30 & exit 0'"
    state = ReceiverState(SECRET, command=background, quiet=True, command_timeout=5)
    server = ReceiverServer(("127.0.0.1", 0), state)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        started = time.monotonic()
        assert post(server.url, "deploy_bg") == 204  # the command exited 0
        assert time.monotonic() - started < 4, "not held by the background child's pipe"
        marker = tmp_path / "grandchild"
        state.command = f"sh -c '(sleep 2; touch {marker}) & sleep 30'"
        state.command_timeout = 0.5
        assert post(server.url, "deploy_hung") == 500
        time.sleep(2.5)
        assert not marker.exists(), "the whole group was killed on the timeout"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_verify_says_invalid_for_a_non_ascii_signature(method: str) -> None:
    body = BODY if method == "POST" else b""
    headers = signed_headers(KEY, "deploy_x", body, int(time.time()))
    headers["webhook-signature"] = "v1,é∂ƒ"
    with pytest.raises(VerificationError, match="does not match"):
        verify(headers, body, SECRET)


def test_a_client_that_goes_away_is_one_log_line(tmp_path: Path) -> None:
    process, url = start_receiver(tmp_path)
    port = int(url.split(":")[2].split("/")[0])
    try:
        for _ in range(5):
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(b"POST /r HTTP/1.1\r\ncontent-length: 99999999\r\n\r\n")
                connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
        time.sleep(0.5)
        assert post(url, "deploy_after") == 204
    finally:
        err = stop(process)
    assert "Traceback" not in err


def test_a_loud_reload_command_does_not_grow_the_receiver(tmp_path: Path) -> None:
    loud = (
        f"{sys.executable} -c \"import sys; [sys.stdout.write('x' * 2**20) for _ in range(300)]\""
    )
    process, url = start_receiver(tmp_path, "--exec", loud)
    try:
        assert post(url, "deploy_loud") == 204
        status = Path(f"/proc/{process.pid}/status").read_text()
        peak_kib = int(
            next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        )
    finally:
        stop(process)
    assert peak_kib < 120 * 1024, f"the receiver peaked at {peak_kib} KiB for 300 MiB of output"


# 7-8. No secret in any output, in any encoding.

AWKWARD = "Back\\slash'quote\"+&= wörd/Ünï"


@pytest.mark.parametrize(
    "template",
    [
        "{{ effective.password | filesizeformat }}\n",
        "{{ effective.password | int(strict=1) + 'x' }}\n",
        "{{ effective[effective.password] }}\n",
    ],
)
def test_a_template_error_never_carries_the_password_in_any_form(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    template: str,
) -> None:
    from urllib.parse import quote, quote_plus

    from tests.helpers import VALID

    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", AWKWARD)
    (repo / "leak.j2").write_text(template)
    write_env(repo, "prod", VALID + "  render:\n    template: leak.j2\n    output: build/x.json\n")
    assert main(["render", "prod"]) == 1
    shown = capsys.readouterr().err
    assert "template leak.j2" in shown
    for form in (
        AWKWARD,
        repr(AWKWARD)[1:-1],
        AWKWARD.encode("unicode_escape").decode(),
        json.dumps(AWKWARD)[1:-1],
        quote(AWKWARD, safe=""),
        quote_plus(AWKWARD),
        "Back\\\\slash",
        "wörd",
    ):
        assert form not in shown, (form, shown)


def test_a_token_endpoint_that_echoes_the_request_leaks_no_client_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import quote, quote_plus

    from tests.test_probe_oauth import settings as oauth_settings

    class Echo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = json.dumps({"error": "invalid_request", "error_description": request})
            data = body.encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("SMTP_OAUTH_CLIENT_SECRET", AWKWARD)
        url = f"http://127.0.0.1:{server.server_address[1]}/token"
        write_env(tmp_path, "dev", oauth_settings(9, url))
        assert main(["check-connection", "dev", "--timeout", "5"]) == 1
    finally:
        server.shutdown()
        server.server_close()
    shown = capsys.readouterr()
    text = shown.out + shown.err
    assert "invalid_request" in text
    for form in (AWKWARD, quote_plus(AWKWARD), quote(AWKWARD, safe="")):
        assert form not in text, (form, text)


# 20-22. migrate is all or nothing, and keeps every suppression working.

V1_EXAMPLE = Path(__file__).resolve().parent / "data" / "v1-environments"


@pytest.fixture
def v1_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import shutil

    shutil.copytree(V1_EXAMPLE, tmp_path / "environments")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def versions(repo: Path) -> list[str]:
    return sorted(
        "v2" if "smtp-gitops/v2" in p.read_text() else "v1"
        for p in (repo / "environments").glob("*/smtp.yaml")
    )


KILL_AFTER_FIRST_MOVE = """
import os, signal, sys
from smtp_gitops.migrate import STAGED_SUFFIX
real = os.replace
def replace(src, dst, *args, **kwargs):
    real(src, dst, *args, **kwargs)
    if str(src).endswith(STAGED_SUFFIX):
        os.kill(os.getpid(), signal.SIGKILL)
os.replace = replace
from smtp_gitops.commands.cli import main
sys.exit(main(["migrate"]))
"""


def test_a_migration_killed_half_way_is_finished_by_the_next_run(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_FIRST_MOVE],
        cwd=v1_repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert versions(v1_repo) == ["v1", "v1", "v1", "v2"], "killed after one file moved"
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert out.count("finished the interrupted migration of") == 3
    assert versions(v1_repo) == ["v2"] * 4
    assert not list(v1_repo.rglob("*.smtp-gitops-migrate*"))
    assert main(["validate"]) == 0


def test_a_write_error_on_the_third_file_changes_nothing(
    v1_repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from smtp_gitops.render import files

    before = {p: p.read_bytes() for p in (v1_repo / "environments").glob("*/smtp.yaml")}
    real = files.write_atomic
    calls = []

    def failing(path: str, data: bytes, *args: object, **kwargs: object) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", path)
        real(path, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "write_atomic", failing)
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "nothing was changed" in err
    assert {p: p.read_bytes() for p in before} == before
    assert not list(v1_repo.rglob("*.smtp-gitops-migrate*"))


def test_cr_only_line_endings_migrate_and_stay_cr(
    v1_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for path in (v1_repo / "environments").glob("*/smtp.yaml"):
        path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert main(["validate"]) == 0
    assert main(["migrate"]) == 0, capsys.readouterr()
    for path in (v1_repo / "environments").glob("*/smtp.yaml"):
        data = path.read_bytes()
        assert b"\n" not in data and b"smtp-gitops/v2" in data
    capsys.readouterr()
    assert main(["validate"]) == 0, capsys.readouterr().out


def test_an_end_of_line_ignore_on_a_password_line_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    write_env(
        tmp_path,
        "prod",
        "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\nmetadata:\n  environment: prod\n"
        "spec:\n  sets:\n"
        "    - name: primary\n      enabled: true\n      networkHost: smtp.example.com\n"
        "      password: {fromEnv: X}  # smtp-gitops: ignore[credentials-ignored] -- cut-over\n"
        "      defaultCredentials: true\n"
        "    - name: lab\n      networkHost: smtp.example.com\n"
        "      password: literal  # smtp-gitops: ignore[plaintext-secret, credentials-ignored]"
        " -- lab box\n      defaultCredentials: true\n",
    )

    def findings() -> list[str]:
        assert main(["validate", "--format", "json"]) in (0, 1)
        report = json.loads(capsys.readouterr().out)
        return sorted(d["rule"] for d in report["diagnostics"])

    assert findings() == []
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert findings() == [], "every suppression still applies, none is unused"
