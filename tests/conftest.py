from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from smtp_gitops.diagnostics import Diagnostic
from smtp_gitops.rule_selection import RuleSelection
from smtp_gitops.validator import validate_files

VALID = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: prod
  production: true
spec:
  sets:
    - name: primary
      enabled: true
      networkHost: smtp.gmail.com
      port: 587
      enableSsl: true
      username: portal@example.com
      password: {fromEnv: SMTP_PRIMARY_PASSWORD}
      reportEmails:
        - {email: qa@example.com, enabled: true}
"""

VALID_V2 = """\
apiVersion: smtp-gitops/v2
kind: SmtpSettings
metadata:
  environment: prod
  production: true
spec:
  sets:
    - name: primary
      enabled: true
      networkHost: smtp.example.com
      port: 587
      enableSsl: true
      username: portal@example.com
      email: no-reply@example.com
      auth:
        password: {fromEnv: SMTP_PRIMARY_PASSWORD}
      reportEmails:
        - {email: qa@example.com, enabled: true}
    - name: notifications
      enabled: true
      category: notifications
      networkHost: smtp.office365.com
      username: portal@example.com
      auth:
        oauth2:
          provider: microsoft
          tenantId: 00000000-0000-0000-0000-000000000000
          clientId: 11111111-2222-3333-4444-555555555555
          clientSecret: {fromEnv: SMTP_OAUTH_CLIENT_SECRET}
"""


def write_env(root: Path, env: str, text: str, name: str = "smtp.yaml") -> Path:
    path = root / "environments" / env / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def check(tmp_path: Path) -> Callable[..., list[Diagnostic]]:
    """Validate one YAML text as ``environments/<env>/smtp.yaml``; return its diagnostics
    (after inline ignores, as ``validate`` reports them)."""

    def run(text: str, env: str = "prod") -> list[Diagnostic]:
        path = write_env(tmp_path, env, text)
        report, unreadable = validate_files(
            [str(path)], adjust=lambda unfinished: RuleSelection().apply(unfinished, [str(path)])
        )
        assert not unreadable
        return report.diagnostics

    return run


def only(diagnostics: list[Diagnostic], rule: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.rule == rule]
