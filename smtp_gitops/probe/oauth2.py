"""OAuth 2.0 client credentials for ``check-connection``: fetch a token, build the XOAUTH2 login.

The token request is a form POST of ``grant_type=client_credentials``, ``client_id``,
``client_secret`` and ``scope`` to the token endpoint, over verified TLS (plain http only to
this machine, for local testing), with a timeout and no redirects (a redirect would carry the
client secret somewhere else). Errors say what the provider said (``error`` and
``error_description``) and never include the client secret or a token.
"""

from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from smtp_gitops.lint.rules.oauth2_incomplete import is_safe_token_url

MAX_ANSWER_BYTES = 64 * 1024
MAX_DESCRIPTION_CHARS = 300


class TokenError(Exception):
    """No token; the message is one line, free of secrets."""


@dataclass(frozen=True, slots=True)
class TokenRequest:
    url: str
    client_id: str
    client_secret: str
    scope: str | None

    def form(self) -> dict[str, str]:
        fields = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }
        if self.scope:
            fields["scope"] = self.scope
        return fields


def xoauth2_response(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"


def _one_line(text: str, limit: int = MAX_DESCRIPTION_CHARS) -> str:
    # Providers put trace ids and timestamps on further lines; one line reads better.
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _provider_error(status: int, body: bytes) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        description = answer.get("error_description")
        detail = f": {_one_line(description)}" if isinstance(description, str) else ""
        return f"HTTP {status}, {_one_line(answer['error'], 80)}{detail}"
    return f"HTTP {status}"


def fetch_token(request: TokenRequest, *, timeout: float) -> str:
    """The access token from the endpoint, or ``TokenError``."""
    import httpx

    where = urlsplit(request.url)._replace(query="", fragment="").geturl()
    if not is_safe_token_url(request.url):
        raise TokenError(f"refusing to send the client secret to {where}: not https")
    try:
        with (
            httpx.Client(
                verify=ssl.create_default_context(), timeout=timeout, follow_redirects=False
            ) as client,
            client.stream(
                "POST", request.url, data=request.form(), headers={"Accept": "application/json"}
            ) as response,
        ):
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    raise TokenError(f"{where} answered more than {MAX_ANSWER_BYTES} bytes")
    except httpx.TimeoutException:
        raise TokenError(f"no answer from {where} within {timeout:g} s") from None
    except httpx.HTTPError as error:
        reason = error.__context__ if isinstance(error.__context__, ssl.SSLError) else error
        raise TokenError(f"cannot reach {where}: {_one_line(str(reason), 200)}") from None
    if response.status_code != 200:
        raise TokenError(
            f"the token endpoint refused: {_provider_error(response.status_code, body)}"
        )
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token:
        raise TokenError("the token endpoint answered without an access_token")
    return token
