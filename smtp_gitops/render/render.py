"""Render an environment's merged, validated settings through a Jinja2 template."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from importlib import resources
from typing import Any

from smtp_gitops.render.dotenv_quote import UnquotableValue, quote
from smtp_gitops.render.secrets import scrub, set_passwords
from smtp_gitops.render.template_files import TemplateRefused, read_template, template_path
from smtp_gitops.settings.discovery import repository_root
from smtp_gitops.settings.model import CATEGORIES, Settings, SmtpSetV2

BUILTIN_TEMPLATES = ("portal-json", "dotenv")


class RenderError(Exception):
    """Rendering is refused; the message says why (never with a secret value)."""


def _set_data_v2(smtp_set: SmtpSetV2, secret: str | None) -> dict[str, Any]:
    """A v2 set for templates: YAML field names, ``auth`` flattened, provider defaults applied."""
    data = smtp_set.model_dump(mode="json", exclude={"auth"})
    oauth2 = smtp_set.oauth2
    data["email"] = smtp_set.sender
    data["authenticationMethod"] = "oauth2" if oauth2 is not None else "password"
    data["password"] = None if oauth2 is not None else secret
    data["oauth2"] = (
        None
        if oauth2 is None
        else {
            "provider": oauth2.provider,
            "tenantId": oauth2.tenantId,
            "clientId": oauth2.clientId,
            "clientSecret": secret,
            "tokenUrl": oauth2.token_endpoint(),
            "scope": oauth2.token_scope(),
        }
    )
    return data


def template_context(settings: Settings, passwords: Mapping[str, str | None]) -> dict[str, Any]:
    """What templates see. ``passwords`` holds each set's one secret (a v2 OAuth set's is its
    client secret), resolved, redacted or as a reference (``plan``)."""
    sets = []
    by_name: dict[str, dict[str, Any]] = {}
    for smtp_set in settings.sets():
        if isinstance(smtp_set, SmtpSetV2):
            data = _set_data_v2(smtp_set, passwords.get(smtp_set.name))
        else:
            data = smtp_set.model_dump(mode="json", exclude={"password"})
            data["password"] = passwords.get(smtp_set.name)
        sets.append(data)
        by_name.setdefault(smtp_set.name, data)
    effective_sets = {
        category: None if chosen is None else by_name[chosen.name]
        for category, chosen in settings.effective_sets().items()
    }
    return {
        "api_version": settings.apiVersion,
        "environment": settings.metadata.environment,
        "production": settings.metadata.production,
        "effective": effective_sets["general"],
        "effective_sets": effective_sets,
        "categories": CATEGORIES,
        "sets": sets,
    }


def _portal_name(value: str) -> str:
    return "OAuth2" if value == "oauth2" else value[:1].upper() + value[1:]


def _portal_set_v2(data: Mapping[str, Any]) -> dict[str, Any]:
    oauth2 = data["oauth2"]
    return {
        "Name": data["name"],
        "Enabled": data["enabled"],
        "Category": _portal_name(data["category"]),
        "NetworkHost": data["networkHost"],
        "Port": data["port"],
        "EnableSsl": data["enableSsl"],
        "Username": data["username"],
        "Email": data["email"],
        "AuthenticationMethod": _portal_name(data["authenticationMethod"]),
        "Password": data["password"],
        "OAuth2": None
        if oauth2 is None
        else {
            "Provider": _portal_name(oauth2["provider"]),
            "TenantId": oauth2["tenantId"],
            "ClientId": oauth2["clientId"],
            "ClientSecret": oauth2["clientSecret"],
            "TokenUrl": oauth2["tokenUrl"],
            "Scope": oauth2["scope"],
        },
        "DefaultCredentials": data["defaultCredentials"],
        "RedirectToReportEmail": data["redirectToReportEmails"],
        "ReportEmails": [
            {"Email": r["email"], "Enabled": r["enabled"]} for r in data["reportEmails"]
        ],
    }


def portal_effective_sets(effective_sets: Mapping[str, Any]) -> dict[str, Any]:
    """The set used per category (after the fallback to General), in the portal's names."""
    return {
        _portal_name(category): None if data is None else portal_set(data)
        for category, data in effective_sets.items()
    }


def portal_set(data: Mapping[str, Any]) -> dict[str, Any]:
    """A set in the portal's own field names (v2 sets also carry category, email and auth)."""
    if "category" in data:
        return _portal_set_v2(data)
    return {
        "Name": data["name"],
        "Enabled": data["enabled"],
        "NetworkHost": data["networkHost"],
        "Username": data["username"],
        "Password": data["password"],
        "Port": data["port"],
        "EnableSsl": data["enableSsl"],
        "DefaultCredentials": data["defaultCredentials"],
        "RedirectToReportEmail": data["redirectToReportEmails"],
        "ReportEmails": [
            {"Email": r["email"], "Enabled": r["enabled"]} for r in data["reportEmails"]
        ],
    }


def _tojson(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _dotenv(value: Any, set_name: str | None = None, field: str | None = None) -> str:
    """``value`` quoted for a .env file; ``set_name`` and ``field`` name it in a refusal."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return quote(str(value))
    except UnquotableValue as error:
        import jinja2

        what = " ".join(
            part
            for part in (f"set {set_name!r}" if set_name else "", f"field {field}" if field else "")
            if part
        )
        raise jinja2.TemplateRuntimeError(
            f"dotenv: the value of {what or 'a field'} cannot be written: {error}"
        ) from None


def builtin_source(name: str) -> str:
    return resources.files("smtp_gitops.render.templates").joinpath(f"{name}.j2").read_text()


def template_source(name: str, repository: str) -> str:
    """A built-in template by name, or a user template by path under the rules of
    ``template_files`` (relative, inside ``repository``, a regular file, capped)."""
    if name in BUILTIN_TEMPLATES:
        return builtin_source(name)
    if not os.path.lexists(template_path(name, repository)):
        raise TemplateRefused(
            f"template {name!r} is neither built in ({', '.join(BUILTIN_TEMPLATES)}) nor a file"
        )
    return read_template(name, repository)


def _environment(repository: str) -> Any:
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Loader(jinja2.BaseLoader):
        """Every template, included ones too, comes through ``template_source``."""

        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Any]:
            # The name doubles as the file name, so errors point into the right template.
            return template_source(template, repository), template, lambda: False

    # The sandbox refuses attribute access that leads out of the data (``__globals__``, ...)
    # and, being immutable, any call that would change it.
    env = ImmutableSandboxedEnvironment(
        loader=Loader(),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "htm", "xml")),
        keep_trailing_newline=True,
    )
    env.filters["tojson"] = _tojson
    env.filters["dotenv"] = _dotenv
    env.filters["portal_set"] = portal_set
    env.filters["portal_effective_sets"] = portal_effective_sets
    return env


def _template_line(error: BaseException, name: str) -> int | None:
    """The line of template ``name`` being rendered when ``error`` was raised.

    Jinja2 rewrites tracebacks so that template frames carry the template's file name and line.
    """
    line = getattr(error, "lineno", None)
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == name:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def render_settings(
    settings: Settings,
    *,
    redact: bool = False,
    template: str | None = None,
    environ: Mapping[str, str] | None = None,
    repository: str | None = None,
) -> str:
    """The runtime config, byte for byte the same for the same settings and secrets.

    A user template must lie inside ``repository`` (default: the working directory's).
    """
    import jinja2

    repository = repository or repository_root(os.getcwd())
    passwords = set_passwords(settings, redact=redact, environ=environ, repository=repository)
    name = template or settings.spec.render.template
    env = _environment(repository)
    try:
        text: str = env.get_template(name).render(template_context(settings, passwords))
    except TemplateRefused as error:
        raise RenderError(str(error)) from None
    except Exception as error:  # whatever goes wrong inside a template is the template's error
        line = _template_line(error, name)
        where = f" (line {line})" if line else ""
        # A filter's own error (float() of a password, say) quotes the value it choked on: only
        # its kind is told. Jinja's messages name template variables, and are scrubbed too.
        reason = (
            error.message
            if isinstance(error, jinja2.TemplateError)
            else f"{type(error).__name__} (the value involved is not shown)"
        )
        reason = scrub(reason or "", passwords.values())
        raise RenderError(f"template {name}{where}: {reason}") from None
    return text if text.endswith("\n") else text + "\n"
