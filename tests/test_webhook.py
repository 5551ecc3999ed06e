"""The reload webhook: Standard Webhooks signing, verification and the retry policy, over real
HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from smtp_gitops.deploy.delivery import NodeResult, RetryPolicy, Signed, deliver_all, query_all
from smtp_gitops.deploy.receiver import VerificationError, printable, verify
from smtp_gitops.deploy.webhook import (
    SecretFormatError,
    deploy_webhook_id,
    new_deploy_id,
    now_utc,
    reload_body,
    retry_after_seconds,
    signed_headers,
    signing_key,
)
from tests.helpers import write_env
from tests.portal import (
    KEY,
    SECRET,
    answer,
    closed_port_url,
    digest_of,
    endless_body,
    portal,
    raw_node,
    trickle,
)

REPO = Path(__file__).resolve().parent.parent

DEPLOY_ID = new_deploy_id()
DIGEST = digest_of(b"rendered config")
BODY = reload_body("prod", DEPLOY_ID, DIGEST, None, now_utc())
ID = deploy_webhook_id(DEPLOY_ID)


def deliver(
    url: str, retries: int = 3, sleeps: list[float] | None = None, timeout: float = 2
) -> NodeResult:
    waits = sleeps if sleeps is not None else []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = RetryPolicy(timeout=timeout, retries=retries, backoff_base=0.01, sleep=record)
    [result] = deliver_all([url], Signed(KEY, ID, BODY, DIGEST), policy)
    return result


def test_body_and_headers_follow_the_contract() -> None:
    payload = json.loads(BODY)
    assert payload["type"] == "smtp-settings.reload"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == {
        "environment": "prod",
        "deployId": DEPLOY_ID,
        "configDigest": DIGEST,
        "revision": None,
    }
    headers = signed_headers(KEY, ID, BODY, 1_700_000_000)
    assert headers["webhook-id"] == "deploy_" + DEPLOY_ID
    assert len(DEPLOY_ID) == 32 and new_deploy_id() != DEPLOY_ID
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"


def test_signature_matches_the_standard_webhooks_reference_vector() -> None:
    # Test vector from the Standard Webhooks specification's reference implementations.
    key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "S")
    body = b'{"test": 2432232314}'
    headers = signed_headers(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", body, 1614265330)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_delivery_verifies_at_the_receiver() -> None:
    with portal() as server:
        result = deliver(server.url)
        [received] = server.state.deliveries
    assert result.ok and result.attempts == 1 and result.status == 204
    assert received.verified
    verify(received.headers, received.body, SECRET)


def test_wrong_secret_fails_verification() -> None:
    other = "whsec_" + base64.b64encode(b"another-key-another-key-another").decode()
    with portal(secret=other) as server:
        result = deliver(server.url)
        [received] = server.state.deliveries
    assert not received.verified and received.reason == "signature does not match"
    assert not result.ok and result.status == 401 and result.attempts == 1
    with pytest.raises(VerificationError, match="signature does not match"):
        verify(received.headers, received.body, other)


def test_receiver_rejects_stale_timestamps_and_missing_headers() -> None:
    headers = signed_headers(KEY, ID, BODY, int(time.time()) - 301)
    with pytest.raises(VerificationError, match="5 minutes"):
        verify(headers, BODY, SECRET)
    with pytest.raises(VerificationError, match="missing header"):
        verify({"webhook-id": ID}, BODY, SECRET)
    fresh = signed_headers(KEY, ID, BODY, int(time.time()))
    with pytest.raises(VerificationError):
        verify(fresh, BODY + b" ", SECRET)


def test_receiver_accepts_any_of_several_signatures() -> None:
    headers = signed_headers(KEY, ID, BODY, int(time.time()))
    headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
    verify(headers, BODY, SECRET)


def test_503_twice_then_200_is_three_deliveries_with_one_id() -> None:
    waits: list[float] = []
    with portal([503, 503, 200]) as server:
        result = deliver(server.url, sleeps=waits)
        deliveries = server.state.deliveries
    assert result.ok and result.attempts == 3
    assert [d.headers["webhook-id"] for d in deliveries] == [ID, ID, ID]
    assert all(d.verified for d in deliveries)
    assert len(waits) == 2 and all(0 <= w <= 0.04 for w in waits)


def test_429_honours_retry_after() -> None:
    waits: list[float] = []
    with portal([(429, {"Retry-After": "2"}), 200]) as server:
        result = deliver(server.url, sleeps=waits)
    assert result.ok and result.attempts == 2
    assert waits == [2.0]


def test_400_is_not_retried() -> None:
    with portal([400, 200]) as server:
        result = deliver(server.url)
        assert len(server.state.deliveries) == 1
    assert not result.ok and result.status == 400 and result.attempts == 1


def test_redirect_is_a_failure_and_not_followed() -> None:
    with portal([(302, {"Location": "http://127.0.0.1:1/elsewhere"})]) as server:
        result = deliver(server.url)
        assert len(server.state.deliveries) == 1
    assert not result.ok and result.status == 302
    assert "redirects are not followed" in (result.reason or "")


def test_connection_errors_are_retried_then_reported() -> None:
    waits: list[float] = []
    result = deliver(closed_port_url(), retries=2, sleeps=waits)
    assert not result.ok and result.attempts == 3 and len(waits) == 2
    assert "connection failed" in (result.reason or "")


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after_seconds("3", 0) == 3.0
    assert retry_after_seconds("100000", 0) == 60.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert retry_after_seconds("soon", 0) is None


@pytest.mark.parametrize("secret", ["plain", "whsec_!!!", "whsec_", "whsec_c2hvcnQta2V5"])
def test_malformed_secret_names_the_variable_not_the_value(secret: str) -> None:
    with pytest.raises(SecretFormatError) as raised:
        signing_key(secret, "PORTAL_RELOAD_SECRET")
    assert "PORTAL_RELOAD_SECRET" in str(raised.value)
    assert secret not in str(raised.value) or secret == "whsec_"


def test_receiver_runs_a_command_on_each_verified_delivery(tmp_path: Path) -> None:
    marker = tmp_path / "reloaded"
    command = f"{sys.executable} -c \"open({str(marker)!r}, 'a').write('x')\""
    with portal() as server:
        server.state.command = command
        assert deliver(server.url).ok
    assert marker.read_text() == "x"


def test_receiver_command_line_verifies_a_real_deploy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's local demo: the bundled receiver in its own process, then `deploy`."""
    port = int(closed_port_url().split(":")[2].split("/")[0])
    env = {**os.environ, "PORTAL_RELOAD_SECRET": SECRET}
    receiver = subprocess.Popen(
        [sys.executable, "-m", "smtp_gitops.receiver", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert receiver.stdout is not None
        assert receiver.stdout.readline().startswith(f"listening on http://127.0.0.1:{port}/")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
        write_env(
            tmp_path,
            "dev",
            (REPO / "environments" / "dev" / "smtp.yaml").read_text().replace("8787", str(port)),
        )
        shutil.copytree(REPO / "environments" / "base", tmp_path / "environments" / "base")
        assert main(["deploy", "dev"]) == 0
        line = receiver.stdout.readline()
        assert line.startswith("deploy_") and "environment=dev verified -> 204" in line
        assert SECRET not in line
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [(None, "PORTAL_RELOAD_SECRET is not set"), ("whsec_c2hvcnQta2V5", "at least 24")],
)
def test_receiver_refuses_to_start_without_a_usable_secret(secret: str | None, reason: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_RELOAD_SECRET"}
    if secret is not None:
        env["PORTAL_RELOAD_SECRET"] = secret
    done = subprocess.run(
        [sys.executable, "-m", "smtp_gitops.receiver", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and reason in done.stderr


def test_a_trickling_node_is_cut_at_its_timeout() -> None:
    with raw_node(trickle) as url:
        started = time.monotonic()
        result = deliver(url, retries=0, timeout=1)
        elapsed = time.monotonic() - started
    assert not result.ok and result.reason == "no complete answer within 1 s"
    assert elapsed < 2.5


def test_an_endless_answer_is_read_up_to_a_cap_and_is_no_confirmation() -> None:
    with raw_node(endless_body) as url:
        started = time.monotonic()
        result = deliver(url, retries=0, timeout=5)
    assert not result.ok and "over 64 KiB" in (result.reason or "")
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"HTTP/1.1 503 Busy\r\nRetry-After: \xff\xfe soon\r\ncontent-length: 0\r\n\r\n", "503"),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\ncontent-length: 5\r\n\r\nnope!",
            "could not be decoded",
        ),
        (b"this is not http\r\n\r\n", "RemoteProtocolError"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n[[[[[", None),
    ],
)
def test_malformed_answers_are_one_line_reasons_not_tracebacks(raw: bytes, reason: str) -> None:
    with raw_node(answer(raw)) as url:
        result = deliver(url, retries=1)
    if reason is None:
        assert result.ok and not result.confirmed
    else:
        assert not result.ok and reason in (result.reason or "")
        assert "\n" not in (result.reason or "")


@pytest.mark.parametrize("url", ["http://[::1/r", "ftp://127.0.0.1/r", "http://127.0.0.1:99999/r"])
def test_a_malformed_url_is_that_nodes_failure(url: str) -> None:
    result = deliver(url, retries=2)
    assert not result.ok and not result.maybe_acted
    assert result.reason and "\n" not in result.reason


def test_nodes_are_reloaded_concurrently() -> None:
    # Each node takes 1 s: one after another, 100 would take 100 s.
    with portal(delay=1.0) as server:
        started = time.monotonic()
        [one] = deliver_all([server.url], Signed(KEY, ID, BODY, DIGEST), RetryPolicy(5, 0))
        single = time.monotonic() - started
        urls = [f"{server.url}?node={n}" for n in range(100)]
        started = time.monotonic()
        results = deliver_all(urls, Signed(KEY, ID, BODY, DIGEST), RetryPolicy(5, 0))
        hundred = time.monotonic() - started
    assert one.ok and all(r.ok for r in results)
    assert [r.url for r in results] == urls, "results come back in target order"
    assert hundred < 2 * single, (single, hundred)


def test_receiver_caps_the_body_before_reading_it() -> None:
    import socket

    with portal() as server:
        port = server.server_address[1]
        for length, status in ((b"100000000000", 413), (b"abc", 400), (b"-1", 400)):
            with socket.create_connection(("127.0.0.1", port)) as connection:
                connection.sendall(
                    b"POST /api/reload-application HTTP/1.1\r\nHost: x\r\n"
                    b"content-length: " + length + b"\r\n\r\n"
                )
                reply = connection.recv(1024)
            assert reply.startswith(f"HTTP/1.0 {status}".encode()), reply
        assert server.state.deliveries == []


def test_receiver_log_lines_cannot_be_forged(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with portal() as server:
        server.state.quiet = False
        request = (
            b"POST /api/reload-application HTTP/1.1\r\nHost: x\r\n"
            b"webhook-id: msg_1\r\n deploy_forged environment=prod verified -> 204\r\n"
            b"webhook-timestamp: 1\r\nwebhook-signature: v1,AAAA\r\n"
            b"content-length: 2\r\n\r\n{}"
        )
        with socket.create_connection(("127.0.0.1", server.server_address[1])) as connection:
            connection.sendall(request)
            assert connection.recv(1024).startswith(b"HTTP/1.0 401")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and "REJECTED" in lines[0], lines
    assert printable("a\nb\x1b[31m") == "a\\nb\\x1b[31m"


def test_receiver_tells_the_reload_command_which_deploy_it_runs_for(tmp_path: Path) -> None:
    marker = tmp_path / "seen"
    script = (
        f"import os; open({str(marker)!r}, 'w').write("
        "os.environ['SMTP_GITOPS_ENVIRONMENT'] + ' ' + os.environ['SMTP_GITOPS_DEPLOY_ID'])"
    )
    with portal() as server:
        server.state.command = f'{sys.executable} -c "{script}"'
        assert deliver(server.url).ok
    assert marker.read_text() == f"prod {DEPLOY_ID}"


def test_receiver_acts_once_per_webhook_id(tmp_path: Path) -> None:
    marker = tmp_path / "reloads"
    command = f"{sys.executable} -c \"open({str(marker)!r}, 'a').write('x')\""
    with portal() as server:
        server.state.command = command
        assert deliver(server.url).ok
        assert deliver(server.url).ok, "a replay is answered as before"
        other = reload_body("prod", new_deploy_id(), DIGEST, None, now_utc())
        [again] = deliver_all(
            [server.url],
            Signed(KEY, deploy_webhook_id(new_deploy_id()), other, DIGEST),
            RetryPolicy(2, 0),
        )
        assert again.ok
    assert marker.read_text() == "xx"


def test_receiver_reports_a_failing_reload_command_as_500() -> None:
    with portal() as server:
        server.state.command = f"{sys.executable} -c 'raise SystemExit(3)'"
        result = deliver(server.url, retries=0)
    assert not result.ok and result.status == 500


def test_receiver_confirms_the_digest_of_its_config_and_answers_status(tmp_path: Path) -> None:
    config = tmp_path / "smtp.json"
    config.write_bytes(b"rendered config")
    with portal(config=str(config)) as server:
        [before] = query_all([server.url], KEY, 2)
        assert before.reachable and before.reloaded is None, "404 before any reload"
        result = deliver(server.url)
        [after] = query_all([server.url], KEY, 2)
        [unsigned] = query_all(
            [server.url],
            signing_key(
                "whsec_" + base64.b64encode(b"another-key-another-key-another").decode(), "X"
            ),
            2,
        )
    assert result.ok and result.confirmed
    assert after.reloaded is not None
    assert after.reloaded["configDigest"] == DIGEST
    assert after.reloaded["deployId"] == DEPLOY_ID
    assert after.reloaded["environment"] == "prod"
    assert not unsigned.reachable and "401" in (unsigned.reason or "")


def test_receiver_reports_a_reload_command_that_hangs_as_500() -> None:
    with portal() as server:
        server.state.command = f"{sys.executable} -c 'import time; time.sleep(30)'"
        server.state.command_timeout = 0.3
        started = time.monotonic()
        result = deliver(server.url, retries=0, timeout=10)
    assert not result.ok and result.status == 500
    assert time.monotonic() - started < 5
