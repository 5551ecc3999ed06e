"""The settings file as a pydantic model: the single source of the JSON Schema in ``schema/``.

Field names are the YAML keys (camelCase), so error locations map straight back to the file.
The model is strict: a number where a string belongs is an error, never silently coerced.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

from smtp_gitops.settings.behaviour import (
    API_VERSION,
    API_VERSION_V2,
    API_VERSIONS,
    CATEGORIES,
    ENV_VAR_PATTERN,
    ENVIRONMENT_PATTERN,
    KIND,
    SET_NAME_PATTERN,
    Category,
    SetBehaviour,
    SettingsFileBehaviour,
    SettingsFileV2Behaviour,
    SetV2Behaviour,
)

# The constants live with the behaviour (no pydantic there); importing them from here still works.
__all__ = [
    "API_VERSION",
    "API_VERSIONS",
    "API_VERSION_V2",
    "CATEGORIES",
    "ENVIRONMENT_PATTERN",
    "ENV_VAR_PATTERN",
    "KIND",
    "SET_NAME_PATTERN",
    "Category",
]


def _whole_float_to_int(value: object) -> object:
    # JSON Schema's "integer" admits 587.0; accepting it keeps the model and the schema in step.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


ACCEPT_WHOLE_FLOAT = BeforeValidator(_whole_float_to_int)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SecretFromEnv(_Strict):
    """Read the secret from an environment variable when rendering or deploying."""

    fromEnv: Annotated[str, Field(pattern=ENV_VAR_PATTERN, description="Variable name.")]


class SecretFromFile(_Strict):
    """Read the secret from a file (e.g. a mounted secret) when rendering or deploying."""

    fromFile: Annotated[str, Field(min_length=1, description="Path of the file.")]


def _secret_kind(value: object) -> str:
    # Choosing the branch up front gives one precise error instead of one per branch.
    if isinstance(value, dict):
        return "file" if "fromFile" in value else "env"
    return "literal"


# A literal string is accepted here so that the `plaintext-secret` rule, not a type error,
# reports it with a useful message.
Secret = Annotated[
    Annotated[str, Tag("literal")]
    | Annotated[SecretFromEnv, Tag("env")]
    | Annotated[SecretFromFile, Tag("file")],
    Discriminator(_secret_kind),
]


class ReportEmail(_Strict):
    email: Annotated[str, Field(description="Address that receives portal reports.")]
    enabled: Annotated[bool, Field(description="Whether this address receives mail.")] = True


Provider = Literal["microsoft", "google", "custom"]

# Where each provider issues client-credentials tokens, and the scope SMTP needs there.
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
DEFAULT_SCOPES: dict[str, str] = {
    "microsoft": "https://outlook.office365.com/.default",
    "google": "https://mail.google.com/",
}


class OAuth2(_Strict):
    """OAuth 2.0 client credentials: the portal fetches a token and logs in with XOAUTH2."""

    provider: Annotated[Provider, Field(description="microsoft, google or custom.")]
    tenantId: Annotated[
        str | None, Field(min_length=1, description="Directory (tenant) id; microsoft only.")
    ] = None
    clientId: Annotated[str, Field(min_length=1, description="Application (client) id.")]
    clientSecret: Annotated[
        Secret,
        Field(description="A secret reference ({fromEnv: NAME} or {fromFile: PATH})."),
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


class Auth(_Strict):
    """How the set logs in: exactly one of ``password`` or ``oauth2``."""

    password: Annotated[
        Secret | None,
        Field(description="A secret reference ({fromEnv: NAME} or {fromFile: PATH})."),
    ] = None
    oauth2: OAuth2 | None = None


# The fields v1 and v2 sets share, defined once so both schemas describe them alike.
SetName = Annotated[
    str, Field(pattern=SET_NAME_PATTERN, description="Unique name of the set in this file.")
]
Enabled = Annotated[bool, Field(description="Whether the portal may use this set.")]
NetworkHost = Annotated[str, Field(min_length=1, description="SMTP server host name or IP.")]
Port = Annotated[
    int, Field(ge=1, le=65535, description="SMTP port; 587 is recommended."), ACCEPT_WHOLE_FLOAT
]
EnableSsl = Annotated[bool, Field(description="Use TLS (STARTTLS, or implicit on 465).")]
DefaultCredentials = Annotated[
    bool, Field(description="Use the default credentials instead of this set's.")
]
RedirectToReportEmails = Annotated[
    bool, Field(description="Send every portal mail to the report emails instead (testing).")
]
ReportEmails = Annotated[list[ReportEmail], Field(description="Addresses that receive reports.")]


class SmtpSet(SetBehaviour, _Strict):
    """One SMTP setting set; the first enabled set is the one the portal uses."""

    name: SetName
    enabled: Enabled = False
    networkHost: NetworkHost
    port: Port = 587
    enableSsl: EnableSsl = True
    username: Annotated[str | None, Field(description="Sender address and login name.")] = None
    password: Annotated[
        Secret | None,
        Field(
            description="A secret reference ({fromEnv: NAME} or {fromFile: PATH}); never a literal."
        ),
    ] = None
    defaultCredentials: DefaultCredentials = False
    redirectToReportEmails: RedirectToReportEmails = False
    reportEmails: ReportEmails = []


class Metadata(_Strict):
    environment: Annotated[
        str, Field(pattern=ENVIRONMENT_PATTERN, description="Must equal the folder name.")
    ]
    production: Annotated[bool, Field(description="Turns on production-only rules.")] = False


class RenderConfig(_Strict):
    template: Annotated[
        str,
        Field(min_length=1, description="Built-in template (portal-json, dotenv) or a path."),
    ] = "portal-json"
    output: Annotated[
        str | None, Field(min_length=1, description="Where deploy writes the runtime config.")
    ] = None


class ReloadConfig(_Strict):
    targets: Annotated[
        list[Annotated[str, Field(pattern=r"^https?://[^\s]+$")]],
        Field(min_length=1, description="Reload webhook URL of each portal node."),
    ]
    secretFromEnv: Annotated[
        str,
        Field(pattern=ENV_VAR_PATTERN, description="Variable holding the whsec_ signing secret."),
    ]
    timeoutSeconds: Annotated[
        float,
        Field(gt=0, le=300, allow_inf_nan=False, description="Timeout of one delivery attempt."),
    ] = 10.0
    retries: Annotated[
        int,
        Field(ge=0, le=10, description="Retries after a 5xx, 429 or connection error."),
        ACCEPT_WHOLE_FLOAT,
    ] = 3


class Spec(_Strict):
    sets: Annotated[list[SmtpSet], Field(description="Ordered: the first enabled set wins.")]
    render: RenderConfig = RenderConfig()
    reload: ReloadConfig | None = None


class SmtpSettingsFile(SettingsFileBehaviour, _Strict):
    """One environment's SMTP settings (``environments/<env>/smtp.yaml``)."""

    model_config = ConfigDict(title="SmtpSettings")

    apiVersion: Literal["smtp-gitops/v1"]
    kind: Literal["SmtpSettings"]
    metadata: Metadata
    spec: Spec


class SmtpSetV2(SetV2Behaviour, _Strict):
    """One SMTP setting set (v2): the first enabled set of each category is the one used."""

    name: SetName
    enabled: Enabled = False
    category: Annotated[
        Category,
        Field(description="administration, general or notifications; the others fall back."),
    ] = "general"
    networkHost: NetworkHost
    port: Port = 587
    enableSsl: EnableSsl = True
    username: Annotated[str | None, Field(description="The account that authenticates.")] = None
    email: Annotated[str | None, Field(description="Sender address; defaults to the username.")] = (
        None
    )
    auth: Annotated[
        Auth | None, Field(description="Password or OAuth 2.0; absent with defaultCredentials.")
    ] = None
    defaultCredentials: DefaultCredentials = False
    redirectToReportEmails: RedirectToReportEmails = False
    reportEmails: ReportEmails = []


class SpecV2(_Strict):
    sets: Annotated[
        list[SmtpSetV2], Field(description="Ordered: the first enabled set of a category wins.")
    ]
    render: RenderConfig = RenderConfig()
    reload: ReloadConfig | None = None


class SmtpSettingsFileV2(SettingsFileV2Behaviour, _Strict):
    """One environment's SMTP settings, v2: email categories, OAuth 2.0, sender address."""

    model_config = ConfigDict(title="SmtpSettings")

    apiVersion: Literal["smtp-gitops/v2"]
    kind: Literal["SmtpSettings"]
    metadata: Metadata
    spec: SpecV2


Settings = SmtpSettingsFile | SmtpSettingsFileV2
AnySet = SmtpSet | SmtpSetV2
MODELS: dict[str, type[SmtpSettingsFile] | type[SmtpSettingsFileV2]] = {
    API_VERSION: SmtpSettingsFile,
    API_VERSION_V2: SmtpSettingsFileV2,
}


def model_for(api_version: object) -> type[SmtpSettingsFile] | type[SmtpSettingsFileV2]:
    """The model of a document's ``apiVersion`` (v1 for anything unknown)."""
    if isinstance(api_version, str) and api_version in MODELS:
        return MODELS[api_version]
    return SmtpSettingsFile
