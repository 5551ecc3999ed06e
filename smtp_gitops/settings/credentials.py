"""How a set signs in: secret references and OAuth 2.0 client credentials, as pydantic models.

Apart from the rest of the model so that ``behaviour`` can name these types without the model
that builds on it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from smtp_gitops.settings.vocabulary import ENV_VAR_PATTERN


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SecretFromEnv(StrictModel):
    """Read the secret from an environment variable when rendering or deploying."""

    fromEnv: Annotated[str, Field(pattern=ENV_VAR_PATTERN, description="Variable name.")]


class SecretFromFile(StrictModel):
    """Read the secret from a file (e.g. a mounted secret) when rendering or deploying."""

    fromFile: Annotated[str, Field(min_length=1, description="Path of the file.")]


# RFC 6901: "/" then reference tokens, "~0" for "~" and "~1" for "/".
JSON_POINTER_PATTERN = r"^(/([^~/]|~[01])*)+$"


class SopsKey(StrictModel):
    """Where the secret is in a SOPS-encrypted file of the repository."""

    file: Annotated[
        str,
        Field(min_length=1, description="The SOPS file, relative to the repository root."),
    ]
    key: Annotated[
        str,
        Field(
            pattern=JSON_POINTER_PATTERN,
            description="JSON Pointer (RFC 6901) to the value in the decrypted document.",
        ),
    ]


class SecretFromSops(StrictModel):
    """Decrypt the secret from a SOPS file in the repository when rendering or deploying."""

    fromSops: SopsKey


def _secret_kind(value: object) -> str:
    # Choosing the branch up front gives one precise error instead of one per branch.
    if isinstance(value, dict):
        if "fromSops" in value:
            return "sops"
        return "file" if "fromFile" in value else "env"
    return "literal"


# A literal string is accepted here so that the `plaintext-secret` rule, not a type error,
# reports it with a useful message.
Secret = Annotated[
    Annotated[str, Tag("literal")]
    | Annotated[SecretFromEnv, Tag("env")]
    | Annotated[SecretFromFile, Tag("file")]
    | Annotated[SecretFromSops, Tag("sops")],
    Discriminator(_secret_kind),
]


SecretReference = SecretFromEnv | SecretFromFile | SecretFromSops
SECRET_DESCRIPTION = (
    "A secret reference ({fromEnv: NAME}, {fromFile: PATH} or {fromSops: {file, key}}); "
    "never a literal."
)

Provider = Literal["microsoft", "google", "custom"]

# Where each provider issues client-credentials tokens, and the scope SMTP needs there.
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_SCOPES: dict[str, str] = {
    "microsoft": "https://outlook.office365.com/.default",
    "google": "https://mail.google.com/",
}


class OAuth2(StrictModel):
    """OAuth 2.0 client credentials: the portal fetches a token and logs in with XOAUTH2."""

    provider: Annotated[Provider, Field(description="microsoft, google or custom.")]
    tenantId: Annotated[
        str | None, Field(min_length=1, description="Directory (tenant) id; microsoft only.")
    ] = None
    clientId: Annotated[str, Field(min_length=1, description="Application (client) id.")]
    clientSecret: Annotated[
        Secret,
        Field(description=SECRET_DESCRIPTION),
    ]
    tokenUrl: Annotated[
        str | None,
        Field(min_length=1, description="Token endpoint; required for custom, derived otherwise."),
    ] = None
    scope: Annotated[
        str | None, Field(min_length=1, description="Scope requested; defaults per provider.")
    ] = None

    def token_endpoint(self) -> str | None:
        """``tokenUrl``, or the provider's own endpoint (None when it cannot be known)."""
        if self.tokenUrl is not None:
            return self.tokenUrl
        if self.provider == "microsoft" and self.tenantId is not None:
            return MICROSOFT_TOKEN_URL.format(tenant=self.tenantId)
        if self.provider == "google":
            return GOOGLE_TOKEN_URL
        return None

    def token_scope(self) -> str | None:
        return self.scope if self.scope is not None else DEFAULT_SCOPES.get(self.provider)


class Auth(StrictModel):
    """How the set logs in: exactly one of ``password`` or ``oauth2``."""

    password: Annotated[
        Secret | None,
        Field(description=SECRET_DESCRIPTION),
    ] = None
    oauth2: OAuth2 | None = None
