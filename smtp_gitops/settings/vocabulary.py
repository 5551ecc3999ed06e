"""The settings' vocabulary: API versions, the kind, name patterns and email categories.

Plain constants, without pydantic, shared by the model, the compiled schema check, the rules and
the messages that explain a pattern.
"""

from __future__ import annotations

from typing import Literal

API_VERSION = "smtp-gitops/v1"
API_VERSION_V2 = "smtp-gitops/v2"
API_VERSIONS = (API_VERSION, API_VERSION_V2)
KIND = "SmtpSettings"
# Patterns of names, here (without pydantic) for the messages that explain them.
ENVIRONMENT_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
SET_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

Category = Literal["administration", "general", "notifications"]
CATEGORIES: tuple[Category, ...] = ("administration", "general", "notifications")
