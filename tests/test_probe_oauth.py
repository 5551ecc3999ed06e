"""`check-connection` with OAuth 2.0: a client-credentials token from a local endpoint, then
AUTH XOAUTH2 against a real SMTP server (aiosmtpd), all on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from aiosmtpd.smtp import AuthResult

from smtp_gitops.commands.cli import main
from tests.helpers import write_env
from tests.test_probe import Recorder, free_port, self_signed, smtp_server

USER = "portal@example.com"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "oauth-Client-Secret-31"
TOKEN = "eyJ0eXAiOiJKV1Qi.access-Token-Value-55"
SCOPE = "https://outlook.office365.com/.default"


class TokenEndpoint(BaseHTTPRequestHandler):
    """Issues TOKEN for the right client credentials, and answers like Entra ID otherwise."""

    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        type(self).requests.append(
            {"path": self.path, "content_type": self.headers["Content-Type"], "form": form}
        )
        if form.get("client_secret") == CLIENT_SECRET and form.get("client_id") == CLIENT_ID:
            status = 200
            body = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 3599}
        else:
            status = 401
            body = {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\r\n"
                "Trace ID: 0000 Correlation ID: 1111",
            }
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def token_endpoint(tls: ssl.SSLContext | None = None) -> Iterator[str]:
    TokenEndpoint.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenEndpoint)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        scheme = "https" if tls is not None else "http"
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}/tenant/oauth2/v2.0/token"
    finally:
        server.shutdown()
        server.server_close()


class XOAuth2Server(Recorder):
    """An SMTP server that accepts one bearer token (or none) through AUTH XOAUTH2."""

    def __init__(self, accepted_token: str | None) -> None:
        super().__init__()
        self.accepted_token = accepted_token
        self.responses: list[bytes] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        response = base64.b64decode(args[1])
        self.responses.append(response)
        expected = f"user={USER}\x01auth=Bearer {self.accepted_token}\x01\x01".encode()
        if self.accepted_token is not None and response == expected:
            return AuthResult(success=True)
        # Like Gmail and Exchange: a 334 with a JSON error, then 535 after the empty answer.
        await server.challenge_auth(b'{"status":"401","schemes":"bearer"}')
        return AuthResult(success=False, handled=False)


@contextmanager
def xoauth2_server(accepted_token: str | None) -> Iterator[tuple[int, XOAuth2Server]]:
    from aiosmtpd.controller import Controller

    handler = XOAuth2Server(accepted_token)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, handler
    finally:
        controller.stop()


def settings(smtp_port: int, token_url: str) -> str:
    return f"""\
apiVersion: smtp-gitops/v2
kind: SmtpSettings
metadata:
  environment: dev
spec:
  sets:
    - name: local
      enabled: true
      networkHost: 127.0.0.1
      port: {smtp_port}
      enableSsl: false
      username: {USER}
      email: no-reply@example.com
      auth:
        oauth2:
          provider: custom
          clientId: {CLIENT_ID}
          clientSecret: {{fromEnv: SMTP_OAUTH_CLIENT_SECRET}}
          tokenUrl: {token_url}
          scope: {SCOPE}
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_OAUTH_CLIENT_SECRET", CLIENT_SECRET)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check-connection", "dev", "--timeout", "5", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert CLIENT_SECRET not in output
    assert TOKEN not in output
    return code, output


def test_token_then_xoauth2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with token_endpoint() as url, xoauth2_server(TOKEN) as (port, server):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 0, out
    assert f"  token     {url} ... ok (" in out
    assert f"  auth      {USER} (XOAUTH2) ... ok (" in out
    assert "ok: the server accepted the connection and the credentials; no mail was sent" in out
    [request] = TokenEndpoint.requests
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "grant_type": "client_credentials",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": SCOPE,
    }
    assert server.responses == [f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01".encode()]
    assert server.messages == 0


def test_rejected_client_secret_reports_the_provider_error(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_OAUTH_CLIENT_SECRET", "wrong-Secret-value-8")
    with token_endpoint() as url, xoauth2_server(TOKEN) as (port, server):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 1
    assert f"  token     {url} ... FAILED (" in out
    assert (
        "Error: token request failed: the token endpoint refused: HTTP 401, invalid_client: "
        "AADSTS7000215: Invalid client secret provided. Trace ID: 0000 Correlation ID: 1111"
    ) in out
    assert "wrong-Secret-value-8" not in out
    assert "connect" not in out  # no SMTP connection without a token
    assert server.responses == []


def test_token_accepted_but_xoauth2_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with token_endpoint() as url, xoauth2_server(accepted_token=None) as (port, server):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 1
    assert "  token     " in out
    assert "... ok (" in out
    assert f"  auth      {USER} (XOAUTH2) ... FAILED (" in out
    assert "Error: authentication rejected: 535" in out
    assert len(server.responses) == 1


def test_unreachable_token_endpoint(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/token"
    with xoauth2_server(TOKEN) as (port, _):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 1
    assert "Error: token request failed: cannot reach " in out


def test_server_without_xoauth2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with token_endpoint() as url, smtp_server(auth_require_tls=False) as (port, _):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 1
    assert "does not offer AUTH XOAUTH2" in out


def test_missing_client_secret_names_the_variable(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_OAUTH_CLIENT_SECRET")
    write_env(repo, "dev", settings(free_port(), "http://127.0.0.1:9/token"))
    code, out = check(capsys)
    assert code == 1
    assert "SMTP_OAUTH_CLIENT_SECRET" in out
    assert "OAuth client secret of set 'local'" in out


def test_the_token_endpoint_certificate_is_verified(
    repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    context, _ = self_signed(tmp_path)
    with token_endpoint(tls=context) as url, xoauth2_server(TOKEN) as (port, _server):
        write_env(repo, "dev", settings(port, url))
        code, out = check(capsys)
    assert code == 1
    assert "Error: token request failed: cannot reach https://127.0.0.1:" in out
    assert "CERTIFICATE_VERIFY_FAILED" in out
    assert TokenEndpoint.requests == []  # the secret never left


def test_a_silent_token_endpoint_times_out(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as silent, xoauth2_server(TOKEN) as (port, server):
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the connection is queued, and nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/token"
        write_env(repo, "dev", settings(port, url))
        code = main(["check-connection", "dev", "--timeout", "0.5"])
        out = "".join(capsys.readouterr())
    assert code == 1
    assert f"Error: token request failed: no answer from {url} within 0.5 s" in out
    assert server.responses == []
