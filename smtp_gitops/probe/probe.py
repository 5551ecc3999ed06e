"""A live SMTP probe: connect, EHLO, STARTTLS or implicit TLS, AUTH, QUIT. Never sends mail."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smtp_gitops.settings.model import AnySet, Settings

IMPLICIT_TLS_PORT = 465


class NoSuchSet(Exception):
    """``--set NAME`` names no set of the environment (or it has no effective one)."""


def choose_set(settings: Settings, set_name: str | None) -> AnySet:
    """The set to probe: the one named, else the effective (General) one."""
    chosen = (
        next((s for s in settings.sets() if s.name == set_name), None)
        if set_name
        else settings.effective_set()
    )
    if chosen is None:
        names = ", ".join(s.name for s in settings.sets())
        wanted = f"no set {set_name!r}" if set_name else "no enabled set"
        raise NoSuchSet(f"{wanted} in {settings.metadata.environment} (sets: {names})")
    return chosen


def set_secret(
    chosen: AnySet, environ: Mapping[str, str], repository: str | None = None
) -> str | None:
    """The set's one secret (its password, or an OAuth set's client secret), resolved; None for
    a set on the portal's default credentials. Raises ``SecretError`` when it is unavailable."""
    from smtp_gitops.render.secrets import resolve

    secret = chosen.secret
    if chosen.defaultCredentials or secret is None or isinstance(secret, str):
        return None
    return resolve(secret, f"{chosen.secret_label} of set {chosen.name!r}", environ, repository)


def _trust(cafile: str | None) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=cafile)
    except (ssl.SSLError, OSError, ValueError) as error:
        # A DER certificate or a private key is the usual mistake; ssl says only "no
        # certificate found" (or worse), in OpenSSL's words.
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise ProbeFailed(
            f"--cafile {cafile}: not a PEM bundle of CA certificates ({reason}); it must hold "
            "'-----BEGIN CERTIFICATE-----' blocks (convert a DER file with "
            "`openssl x509 -inform der -in FILE -out FILE.pem`)"
        ) from None


def _timed_out(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPServerDisconnected) and error.__context__ is not None:
        error = error.__context__
    return isinstance(error, TimeoutError)


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int
    enable_ssl: bool
    username: str | None
    password: str | None  # None: the set uses the portal's default credentials
    bearer_token: str | None = None  # an OAuth 2.0 access token: log in with XOAUTH2

    @property
    def security(self) -> str:
        if not self.enable_ssl:
            return "no TLS"
        return "implicit TLS" if self.port == IMPLICIT_TLS_PORT else "STARTTLS"


class ProbeFailed(Exception):
    """One step failed; the message is one line, free of secrets."""


Report = Callable[[str, bool, float, str], None]


def _server_reply(error: smtplib.SMTPResponseException) -> str:
    reply = error.smtp_error
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return f"{error.smtp_code} {text}".strip()


def _reason(error: BaseException, target: Target, timeout: float) -> str:
    if isinstance(error, smtplib.SMTPServerDisconnected) and isinstance(error.__context__, OSError):
        # smtplib reports any failed read (a timeout, a TLS alert) as a disconnection; the
        # socket error underneath says what really happened.
        error = error.__context__
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"authentication rejected: {_server_reply(error)}"
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"the server does not support this: {error}"
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused by {target.host}:{target.port}"
    if isinstance(error, TimeoutError):
        return f"no answer from {target.host}:{target.port} within {timeout:g} s"
    if isinstance(error, socket.gaierror):
        return f"cannot resolve host {target.host}: {error.strerror}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS failure: certificate not trusted ({error.verify_message})"
    if isinstance(error, ssl.SSLError):
        return f"TLS failure: {error.reason or error}"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"server answered {_server_reply(error)}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection: {error}"
    if isinstance(error, OSError):
        return f"{target.host}:{target.port}: {error.strerror or error}"
    return f"{type(error).__name__}: {error}"


def sent_secrets(username: str, password: str) -> list[str]:
    """Every form in which AUTH sends the password, so that what a server quotes back can be
    scrubbed: the value itself, AUTH PLAIN's base64 of ``\\0user\\0password`` and AUTH
    LOGIN's base64 of the password alone (its base64 of the username is no secret)."""

    def b64(text: str) -> str:
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    return [password, b64(f"\0{username}\0{password}"), b64(password)]


def xoauth2_sent(username: str, token: str) -> str:
    """The base64 form in which AUTH XOAUTH2 sends the token, for scrubbing."""
    from smtp_gitops.probe.oauth2 import xoauth2_response

    return base64.b64encode(xoauth2_response(username, token).encode("utf-8")).decode("ascii")


def _authenticate(client: smtplib.SMTP, username: str, password: str) -> None:
    """One AUTH attempt with the best plain mechanism offered.

    ``smtplib.login`` retries every mechanism after a rejection, which some servers answer by
    stalling; a single attempt gives one clear verdict.
    """
    offered = client.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise smtplib.SMTPNotSupportedError("the server offers no AUTH PLAIN or LOGIN")
    client.user, client.password = username, password
    authenticator = client.auth_plain if mechanism == "PLAIN" else client.auth_login
    client.auth(mechanism, authenticator, initial_response_ok=True)


def _authenticate_xoauth2(client: smtplib.SMTP, username: str, token: str) -> None:
    """One AUTH XOAUTH2 attempt with an OAuth 2.0 access token."""
    from smtp_gitops.probe.oauth2 import xoauth2_response

    offered = client.esmtp_features.get("auth", "").upper().split()
    if "XOAUTH2" not in offered:
        raise smtplib.SMTPNotSupportedError("the server does not offer AUTH XOAUTH2")

    def respond(challenge: bytes | None = None) -> str:
        # A refusal arrives as a 334 challenge holding an error; the empty answer ends the
        # exchange and the server then sends its final 5xx.
        return xoauth2_response(username, token) if challenge is None else ""

    client.auth("XOAUTH2", respond, initial_response_ok=True)


def probe(
    target: Target,
    report: Report,
    *,
    timeout: float = 10.0,
    cafile: str | None = None,
) -> None:
    """Run each step, calling ``report(step, ok, seconds, detail)``; raise ``ProbeFailed``."""
    context = _trust(cafile)
    implicit = target.enable_ssl and target.port == IMPLICIT_TLS_PORT

    @contextmanager
    def step(name: str, detail: str = "") -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except (OSError, smtplib.SMTPException) as error:
            report(name, False, time.perf_counter() - started, detail)
            reason = _reason(error, target, timeout)
            if name in ("connect", "ehlo") and not implicit and _timed_out(error):
                # A server speaking implicit TLS waits for a TLS handshake and says nothing,
                # and the settings can express implicit TLS only on port 465.
                reason += (
                    "; the server did not answer EHLO (no SMTP greeting): it may expect "
                    f"implicit TLS, which smtp-gitops uses only on port {IMPLICIT_TLS_PORT}"
                )
            raise ProbeFailed(reason) from None
        report(name, True, time.perf_counter() - started, detail)

    where = f"{target.host}:{target.port}"
    client: smtplib.SMTP
    with step("connect", where + (" (implicit TLS)" if implicit else "")):
        if implicit:
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout, context=context)
        else:
            # Connecting in the constructor records the host name that STARTTLS verifies.
            client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    try:
        with step("ehlo"):
            code, message = client.ehlo()
            if code != 250:
                raise smtplib.SMTPHeloError(code, message)
        if target.enable_ssl and not implicit:
            with step("starttls"):
                if not client.has_extn("starttls"):
                    raise smtplib.SMTPNotSupportedError("STARTTLS is not offered")
                client.starttls(context=context)
                client.ehlo()
        if target.bearer_token is not None and target.username is not None:
            with step("auth", f"{target.username} (XOAUTH2)"):
                _authenticate_xoauth2(client, target.username, target.bearer_token)
        elif target.password is None or target.username is None:
            report("auth", True, 0.0, "skipped: the set uses the portal's default credentials")
        else:
            with step("auth", target.username):
                _authenticate(client, target.username, target.password)
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            client.close()
