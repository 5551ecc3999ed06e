"""The settings file as a pydantic model: the single source of the JSON Schema in ``schema/``.

Field names are the YAML keys (camelCase), so error locations map straight back to the file.
The model is strict: a number where a string belongs is an error, never silently coerced.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag

API_VERSION = "smtp-gitops/v1"
KIND = "SmtpSettings"
ENVIRONMENT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
SET_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


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


SecretRef = SecretFromEnv | SecretFromFile


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


class SmtpSet(_Strict):
    """One SMTP setting set; the first enabled set is the one the portal uses."""

    name: Annotated[
        str, Field(pattern=SET_NAME_PATTERN, description="Unique name of the set in this file.")
    ]
    enabled: Annotated[bool, Field(description="Whether the portal may use this set.")] = False
    networkHost: Annotated[str, Field(min_length=1, description="SMTP server host name or IP.")]
    port: Annotated[
        int, Field(ge=1, le=65535, description="SMTP port; 587 is recommended."), ACCEPT_WHOLE_FLOAT
    ] = 587
    enableSsl: Annotated[bool, Field(description="Use TLS (STARTTLS, or implicit on 465).")] = True
    username: Annotated[str | None, Field(description="Sender address and login name.")] = None
    password: Annotated[
        Secret | None,
        Field(
            description="A secret reference ({fromEnv: NAME} or {fromFile: PATH}); never a literal."
        ),
    ] = None
    defaultCredentials: Annotated[
        bool, Field(description="Use the default credentials instead of this set's.")
    ] = False
    redirectToReportEmails: Annotated[
        bool, Field(description="Send every portal mail to the report emails instead (testing).")
    ] = False
    reportEmails: Annotated[
        list[ReportEmail], Field(description="Addresses that receive reports.")
    ] = []


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


class SmtpSettingsFile(_Strict):
    """One environment's SMTP settings (``environments/<env>/smtp.yaml``)."""

    model_config = ConfigDict(title="SmtpSettings")

    apiVersion: Literal["smtp-gitops/v1"]
    kind: Literal["SmtpSettings"]
    metadata: Metadata
    spec: Spec

    def effective_set(self) -> SmtpSet | None:
        """The set the portal uses: the first enabled one."""
        return next((s for s in self.spec.sets if s.enabled), None)
