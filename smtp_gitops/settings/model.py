"""The settings file as a pydantic model: the single source of the JSON Schema in ``schema/``.

Field names are the YAML keys (camelCase), so error locations map straight back to the file.
The model is strict: a number where a string belongs is an error, never silently coerced.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from smtp_gitops.settings.behaviour import (
    SetBehaviour,
    SettingsFileBehaviour,
    SettingsFileV2Behaviour,
    SetV2Behaviour,
)
from smtp_gitops.settings.credentials import (
    DEFAULT_SCOPES,
    GOOGLE_TOKEN_URL,
    MICROSOFT_TOKEN_URL,
    SECRET_DESCRIPTION,
    Auth,
    OAuth2,
    Provider,
    Secret,
    SecretFromEnv,
    SecretFromFile,
    SecretFromSops,
    SecretReference,
    SopsKey,
    StrictModel,
)
from smtp_gitops.settings.vocabulary import (
    API_VERSION,
    API_VERSION_V2,
    API_VERSIONS,
    CATEGORIES,
    ENV_VAR_PATTERN,
    ENVIRONMENT_PATTERN,
    KIND,
    SET_NAME_PATTERN,
    Category,
)

# The vocabulary and the credentials have modules of their own; importing them from here works.
__all__ = [
    "API_VERSION",
    "API_VERSIONS",
    "API_VERSION_V2",
    "CATEGORIES",
    "DEFAULT_SCOPES",
    "ENVIRONMENT_PATTERN",
    "ENV_VAR_PATTERN",
    "GOOGLE_TOKEN_URL",
    "KIND",
    "MICROSOFT_TOKEN_URL",
    "SET_NAME_PATTERN",
    "Auth",
    "Category",
    "OAuth2",
    "Provider",
    "Secret",
    "SecretFromEnv",
    "SecretFromFile",
    "SecretFromSops",
    "SecretReference",
    "SopsKey",
    "StrictModel",
]


class ReportEmail(StrictModel):
    email: Annotated[str, Field(description="Address that receives portal reports.")]
    enabled: Annotated[bool, Field(description="Whether this address receives mail.")] = True


# The fields v1 and v2 sets share, defined once so both schemas describe them alike.
SetName = Annotated[
    str, Field(pattern=SET_NAME_PATTERN, description="Unique name of the set in this file.")
]
Enabled = Annotated[bool, Field(description="Whether the portal may use this set.")]
NetworkHost = Annotated[str, Field(min_length=1, description="SMTP server host name or IP.")]
Port = Annotated[int, Field(ge=1, le=65535, description="SMTP port; 587 is recommended.")]
EnableSsl = Annotated[bool, Field(description="Use TLS (STARTTLS, or implicit on 465).")]
DefaultCredentials = Annotated[
    bool, Field(description="Use the default credentials instead of this set's.")
]
RedirectToReportEmails = Annotated[
    bool, Field(description="Send every portal mail to the report emails instead (testing).")
]
ReportEmails = Annotated[list[ReportEmail], Field(description="Addresses that receive reports.")]


class SmtpSet(SetBehaviour, StrictModel):
    """One SMTP setting set; the first enabled set is the one the portal uses."""

    name: SetName
    enabled: Enabled = False
    networkHost: NetworkHost
    port: Port = 587
    enableSsl: EnableSsl = True
    username: Annotated[str | None, Field(description="Sender address and login name.")] = None
    password: Annotated[
        Secret | None,
        Field(description=SECRET_DESCRIPTION),
    ] = None
    defaultCredentials: DefaultCredentials = False
    redirectToReportEmails: RedirectToReportEmails = False
    reportEmails: ReportEmails = []  # noqa: RUF012 (pydantic copies a default per instance)


class Metadata(StrictModel):
    environment: Annotated[
        str, Field(pattern=ENVIRONMENT_PATTERN, description="Must equal the folder name.")
    ]
    production: Annotated[bool, Field(description="Turns on production-only rules.")] = False


class RenderConfig(StrictModel):
    template: Annotated[
        str,
        Field(min_length=1, description="Built-in template (portal-json, dotenv) or a path."),
    ] = "portal-json"
    output: Annotated[
        str | None, Field(min_length=1, description="Where deploy writes the runtime config.")
    ] = None


class ReloadConfig(StrictModel):
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
    ] = 3


class Spec(StrictModel):
    sets: Annotated[list[SmtpSet], Field(description="Ordered: the first enabled set wins.")]
    render: RenderConfig = RenderConfig()
    reload: ReloadConfig | None = None


class SmtpSettingsFile(SettingsFileBehaviour, StrictModel):
    """One environment's SMTP settings (``environments/<env>/smtp.yaml``)."""

    model_config = ConfigDict(title="SmtpSettings")

    apiVersion: Literal["smtp-gitops/v1"]
    kind: Literal["SmtpSettings"]
    metadata: Metadata
    spec: Spec

    def sets(self) -> list[AnySet]:
        """``spec.sets``, typed so that code reading v1 and v2 alike needs no branch."""
        return list(self.spec.sets)


class SmtpSetV2(SetV2Behaviour, StrictModel):
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
    reportEmails: ReportEmails = []  # noqa: RUF012 (pydantic copies a default per instance)


class SpecV2(StrictModel):
    sets: Annotated[
        list[SmtpSetV2], Field(description="Ordered: the first enabled set of a category wins.")
    ]
    render: RenderConfig = RenderConfig()
    reload: ReloadConfig | None = None


class SmtpSettingsFileV2(SettingsFileV2Behaviour, StrictModel):
    """One environment's SMTP settings, v2: email categories, OAuth 2.0, sender address."""

    model_config = ConfigDict(title="SmtpSettings")

    apiVersion: Literal["smtp-gitops/v2"]
    kind: Literal["SmtpSettings"]
    metadata: Metadata
    spec: SpecV2

    def sets(self) -> list[AnySet]:
        """``spec.sets``, typed so that code reading v1 and v2 alike needs no branch."""
        return list(self.spec.sets)


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
