"""Settings texts and small helpers the tests share (fixtures live in ``conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

from smtp_gitops.settings.diagnostics import Diagnostic

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


def only(diagnostics: list[Diagnostic], rule: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.rule == rule]


def smtp_gitops_process(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``smtp-gitops ARGS`` as a real process in ``cwd`` (for crashes, hangs and exit codes);
    ``env`` replaces the environment (default: this one)."""
    return subprocess.run(
        [sys.executable, "-m", "smtp_gitops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=dict(os.environ if env is None else env),
    )


def git(cwd: Path, *args: str) -> str:
    """``git ARGS`` in ``cwd`` with a test identity (commits need one), failing the test on a
    non-zero exit; returns what it printed."""
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout.strip()
