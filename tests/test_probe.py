"""`check-connection` against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import shutil
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from smtp_gitops.commands.cli import main
from smtp_gitops.probe import probe
from tests.helpers import write_env

REPO = Path(__file__).resolve().parent.parent

USER, PASSWORD = "portal@example.com", "probe-Secret-pw-77"


class Recorder:
    """Counts messages, so a test can prove that none was sent."""

    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(**kwargs: Any) -> Iterator[tuple[int, Recorder]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    try:
        yield controller.port, recorder
    finally:
        controller.stop()


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def settings(port: int, *, ssl_on: bool = False, default_credentials: bool = False) -> str:
    credentials = (
        "      defaultCredentials: true\n"
        if default_credentials
        else f"      username: {USER}\n      password: {{fromEnv: SMTP_PROBE_PASSWORD}}\n"
    )
    return f"""\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: dev
spec:
  sets:
    - name: local
      enabled: true
      networkHost: 127.0.0.1
      port: {port}
      enableSsl: {"true" if ssl_on else "false"}
{credentials}"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PROBE_PASSWORD", PASSWORD)
    return tmp_path


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check-connection", "dev", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert PASSWORD not in output
    return code, output


def test_success_without_auth(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server() as (port, recorder):
        write_env(repo, "dev", settings(port, default_credentials=True))
        code, out = check(capsys)
    assert code == 0, out
    assert f"connect   127.0.0.1:{port} ... ok" in out
    assert "ehlo      ... ok" in out
    assert "skipped: the set uses the portal's default credentials" in out
    assert recorder.messages == 0


def test_success_with_auth(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server(authenticator=authenticate, auth_require_tls=False) as (port, recorder):
        write_env(repo, "dev", settings(port))
        code, out = check(capsys)
    assert code == 0, out
    assert f"auth      {USER} ... ok" in out
    assert "and the credentials; no mail was sent" in out
    assert recorder.messages == 0


def test_rejected_password(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PROBE_PASSWORD", "wrong-" + PASSWORD)
    with smtp_server(authenticator=authenticate, auth_require_tls=False) as (port, _):
        write_env(repo, "dev", settings(port))
        code, out = check(capsys)
    assert code == 1
    assert "auth      portal@example.com ... FAILED" in out
    assert "Error: authentication rejected: 535" in out
    assert "wrong-" not in out


def test_connection_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    write_env(repo, "dev", settings(port, default_credentials=True))
    code, out = check(capsys)
    assert code == 1
    assert f"Error: connection refused by 127.0.0.1:{port}" in out


def test_untrusted_certificate_is_a_tls_failure(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context, _ = self_signed(repo)
    with smtp_server(tls_context=context, authenticator=authenticate) as (port, _):
        write_env(repo, "dev", settings(port, ssl_on=True))
        code, out = check(capsys)
    assert code == 1
    assert "starttls  ... FAILED" in out
    assert "Error: TLS failure: certificate not trusted" in out


def test_trusted_certificate_starttls_and_auth(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context, cert = self_signed(repo)
    with smtp_server(tls_context=context, authenticator=authenticate) as (port, recorder):
        write_env(repo, "dev", settings(port, ssl_on=True))
        code, out = check(capsys, "--cafile", str(cert))
    assert code == 0, out
    assert (
        "(STARTTLS)" in out
        and "starttls  ... ok" in out
        and "auth      portal@example.com ... ok" in out
    )
    assert recorder.messages == 0


def test_server_without_starttls(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with smtp_server() as (port, _):
        write_env(repo, "dev", settings(port, ssl_on=True))
        code, out = check(capsys)
    assert code == 1 and "STARTTLS is not offered" in out


def test_unknown_set_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_env(repo, "dev", settings(25, default_credentials=True))
    code, out = check(capsys, "--set", "nope")
    assert code == 2 and "no set 'nope' in dev (sets: local)" in out


def test_unknown_environment_is_a_usage_error(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "dev", settings(25, default_credentials=True))
    assert main(["check-connection", "nope"]) == 2


def test_a_disabled_set_is_probed_with_its_own_secret(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(authenticator=authenticate, auth_require_tls=False) as (port, _):
        spare = settings(port).split("  sets:\n")[1].replace("name: local", "name: spare")
        spare = spare.replace("enabled: true", "enabled: false").replace(
            "SMTP_PROBE_PASSWORD", "SMTP_SPARE_PASSWORD"
        )
        write_env(repo, "dev", settings(port, default_credentials=True) + spare)
        monkeypatch.setenv("SMTP_SPARE_PASSWORD", PASSWORD)
        code, out = check(capsys, "--set", "spare")
    assert code == 0, out
    assert "set 'spare'" in out and f"auth      {USER} ... ok" in out


def test_missing_secret_names_the_variable(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_PROBE_PASSWORD")
    write_env(repo, "dev", settings(25))
    code, out = check(capsys)
    assert code == 1 and "environment variable SMTP_PROBE_PASSWORD is not set" in out


def test_silent_server_is_a_timeout(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A listening socket nobody accepts from: the TCP handshake succeeds, no greeting comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        write_env(repo, "dev", settings(port, default_credentials=True))
        code, out = check(capsys, "--timeout", "0.3")
    assert code == 1
    assert f"Error: no answer from 127.0.0.1:{port} within 0.3 s" in out


def test_implicit_tls(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    context, cert = self_signed(repo)
    with smtp_server(ssl_context=context, authenticator=authenticate, auth_require_tls=False) as (
        port,
        recorder,
    ):
        # Port 465 needs privileges; the probe treats this port as the implicit-TLS one instead.
        monkeypatch.setattr(probe, "IMPLICIT_TLS_PORT", port)
        write_env(repo, "dev", settings(port, ssl_on=True))
        code, out = check(capsys, "--cafile", str(cert))
        untrusted_code, untrusted = check(capsys)
    assert code == 0, out
    assert "(implicit TLS)" in out and "starttls" not in out
    assert f"auth      {USER} ... ok" in out and recorder.messages == 0
    assert untrusted_code == 1 and "Error: TLS failure: certificate not trusted" in untrusted


class EchoingRejecter(socketserver.StreamRequestHandler):
    """A server that quotes the credentials back in its rejection, as careless ones do."""

    def handle(self) -> None:
        self.wfile.write(b"220 echo ESMTP\r\n")
        for raw in self.rfile:
            line = raw.decode().strip()
            if line.upper().startswith("EHLO"):
                self.wfile.write(b"250-echo\r\n250 AUTH PLAIN LOGIN\r\n")
            elif line.upper().startswith("AUTH PLAIN "):
                decoded = base64.b64decode(line.split()[2]).decode().replace("\0", " ")
                self.wfile.write(f"535 5.7.8 rejected:{decoded}\r\n".encode())
            elif line.upper() == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"502 no\r\n")


def test_password_echoed_by_the_server_is_scrubbed(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoingRejecter) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            write_env(repo, "dev", settings(server.server_address[1]))
            code, out = check(capsys)  # check() asserts the password is absent
        finally:
            server.shutdown()
    assert code == 1
    assert f"Error: authentication rejected: 535 5.7.8 rejected: {USER} ***" in out


def test_the_readme_example_against_the_bundled_dev_environment(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "environments", repo / "environments")
    dev = repo / "environments" / "dev" / "smtp.yaml"
    with smtp_server() as (port, recorder):
        dev.write_text(dev.read_text().replace("port: 1025", f"port: {port}"))
        code, out = check(capsys)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == f"dev: set 'local-catcher' at 127.0.0.1:{port} (no TLS)"
    assert lines[-1] == "ok: the server accepted the connection; no mail was sent"
    assert recorder.messages == 0


class EchoingAuthHandler(Recorder):
    """An aiosmtpd handler whose AUTH rejection quotes back exactly what the client sent."""

    async def auth_PLAIN(self, server: Any, args: list[str]) -> AuthResult:
        return AuthResult(success=False, handled=False, message=f"535 5.7.8 got {args[1]}")

    async def auth_LOGIN(self, server: Any, args: list[str]) -> AuthResult:
        # smtplib sends the username along with AUTH LOGIN (an initial response)
        user = base64.b64decode(args[1]) if len(args) > 1 else await server.challenge_auth("")
        password = await server.challenge_auth("Password:")
        sent = [base64.b64encode(part).decode() for part in (user, password)]
        return AuthResult(
            success=False,
            handled=False,
            message=f"535 5.7.8 got {sent[0]} {sent[1]} raw {password.decode()}",
        )


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_every_encoding_of_the_password_a_server_echoes_is_scrubbed(
    repo: Path, capsys: pytest.CaptureFixture[str], mechanism: str
) -> None:
    other = "LOGIN" if mechanism == "PLAIN" else "PLAIN"
    controller = Controller(
        EchoingAuthHandler(),
        hostname="127.0.0.1",
        port=free_port(),
        auth_require_tls=False,
        auth_exclude_mechanism=[other],
    )
    controller.start()
    try:
        write_env(repo, "dev", settings(controller.port))
        code, out = check(capsys)
    finally:
        controller.stop()
    forms = {
        "PLAIN": base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode(),
        "LOGIN": base64.b64encode(PASSWORD.encode()).decode(),
    }
    assert code == 1 and "Error: authentication rejected: 535 5.7.8 got " in out
    assert forms[mechanism] not in out and "***" in out
    if mechanism == "LOGIN":
        assert f"got {base64.b64encode(USER.encode()).decode()} *** raw ***" in out


@pytest.mark.parametrize("wrong", ["der", "key"])
def test_a_cafile_that_is_not_a_pem_bundle_is_a_clear_error(
    repo: Path, capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    _, cert = self_signed(repo)
    if wrong == "der":
        cafile = repo / "cert.der"
        cafile.write_bytes(ssl.PEM_cert_to_DER_cert(cert.read_text()))
    else:
        cafile = repo / "key.pem"
    with smtp_server(authenticator=authenticate, auth_require_tls=False) as (port, _):
        write_env(repo, "dev", settings(port, ssl_on=True))
        code, out = check(capsys, "--cafile", str(cafile))
    assert code == 1
    assert "Traceback" not in out
    assert f"Error: --cafile {cafile}: not a PEM bundle of CA certificates" in out
    assert "openssl x509 -inform der" in out


def test_implicit_tls_on_another_port_says_what_the_silence_may_mean(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context, cert = self_signed(repo)
    # An implicit-TLS server waits for the TLS handshake: the STARTTLS client hears nothing.
    with smtp_server(ssl_context=context) as (port, _):
        write_env(repo, "dev", settings(port, ssl_on=True, default_credentials=True))
        code, out = check(capsys, "--timeout", "0.5", "--cafile", str(cert))
    assert code == 1
    assert f"no answer from 127.0.0.1:{port} within 0.5 s" in out
    assert "did not answer EHLO" in out and "may expect implicit TLS" in out
    assert "only on port 465" in out
