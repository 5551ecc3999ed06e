"""The reload webhook: Standard Webhooks signing, verification and the retry policy, over real
HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smtp_gitops.cli import main
from smtp_gitops.receiver import VerificationError, verify
from smtp_gitops.webhook import (
    SecretFormatError,
    Sender,
    now_utc,
    reload_body,
    retry_after_seconds,
    signed_headers,
    signing_key,
    webhook_id_for,
)
from tests.conftest import write_env
from tests.portal import SECRET, closed_port_url, portal

REPO = Path(__file__).resolve().parent.parent

KEY = signing_key(SECRET, "PORTAL_RELOAD_SECRET")
BODY = reload_body("prod", "ab" * 32, None, now_utc())
ID = webhook_id_for("ab" * 32)


def sender(retries: int = 3, sleeps: list[float] | None = None) -> Sender:
    waits = sleeps if sleeps is not None else []
    return Sender(KEY, timeout=2, retries=retries, backoff_base=0.01, sleep=waits.append)


def test_body_and_headers_follow_the_contract() -> None:
    payload = json.loads(BODY)
    assert payload["type"] == "smtp-settings.reload"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == {"environment": "prod", "configSha256": "ab" * 32, "revision": None}
    headers = signed_headers(KEY, ID, BODY, 1_700_000_000)
    assert headers["webhook-id"] == "deploy_" + "ab" * 16
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
        result = sender().deliver(server.url, ID, BODY)
        [received] = server.state.deliveries
    assert result.ok and result.attempts == 1 and result.status == 204
    assert received.verified
    verify(received.headers, received.body, SECRET)


def test_wrong_secret_fails_verification() -> None:
    other = "whsec_" + "b3RoZXIta2V5LW90aGVyLWtleQ=="
    with portal(secret=other) as server:
        result = sender().deliver(server.url, ID, BODY)
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
        result = sender(sleeps=waits).deliver(server.url, ID, BODY)
        deliveries = server.state.deliveries
    assert result.ok and result.attempts == 3
    assert [d.headers["webhook-id"] for d in deliveries] == [ID, ID, ID]
    assert all(d.verified for d in deliveries)
    assert len(waits) == 2 and all(0 <= w <= 0.04 for w in waits)


def test_429_honours_retry_after() -> None:
    waits: list[float] = []
    with portal([(429, {"Retry-After": "2"}), 200]) as server:
        result = sender(sleeps=waits).deliver(server.url, ID, BODY)
    assert result.ok and result.attempts == 2
    assert waits == [2.0]


def test_400_is_not_retried() -> None:
    with portal([400, 200]) as server:
        result = sender().deliver(server.url, ID, BODY)
        assert len(server.state.deliveries) == 1
    assert not result.ok and result.status == 400 and result.attempts == 1


def test_redirect_is_a_failure_and_not_followed() -> None:
    with portal([(302, {"Location": "http://127.0.0.1:1/elsewhere"})]) as server:
        result = sender().deliver(server.url, ID, BODY)
        assert len(server.state.deliveries) == 1
    assert not result.ok and result.status == 302
    assert "redirects are not followed" in (result.error or "")


def test_connection_errors_are_retried_then_reported() -> None:
    waits: list[float] = []
    result = sender(retries=2, sleeps=waits).deliver(closed_port_url(), ID, BODY)
    assert not result.ok and result.attempts == 3 and len(waits) == 2
    assert "connection failed" in (result.error or "")


def test_retry_after_parses_seconds_and_dates() -> None:
    assert retry_after_seconds("3", 0) == 3.0
    assert retry_after_seconds("100000", 0) == 60.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", 1445412480.0) == 10.0
    assert retry_after_seconds("soon", 0) is None


@pytest.mark.parametrize("secret", ["plain", "whsec_!!!", "whsec_"])
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
        assert sender().deliver(server.url, ID, BODY).ok
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


def test_receiver_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PORTAL_RELOAD_SECRET"}
    done = subprocess.run(
        [sys.executable, "-m", "smtp_gitops.receiver", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2 and "PORTAL_RELOAD_SECRET is not set" in done.stderr
