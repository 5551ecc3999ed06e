"""Start-up cost and secret safety across every command."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import VALID, write_env
from tests.portal import closed_port_url

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "Sup3r-Secret-Smtp-Password"
RELOAD_SECRET = "whsec_" + base64.b64encode(b"reload-secret-key-bytes-1234").decode()


def test_validate_of_clean_files_imports_no_heavy_module() -> None:
    # Clean files are checked by the compiled schema: pydantic is for files that fail, and
    # worker processes (multiprocessing) only for many files.
    heavy = (
        "jinja2",
        "httpx",
        "jsonschema",
        "pydantic",
        "multiprocessing",
        "fastjsonschema",
        # check-dns's resolver and suffix list never load for validate (it touches no network).
        "dns",
        "dns.asyncresolver",
        "publicsuffixlist",
        "smtp_gitops.probe.check_dns",
        # The other commands are loaded only when they run.
        "smtp_gitops.commands.deploy",
        "smtp_gitops.commands.plan",
        "smtp_gitops.commands.status",
        "smtp_gitops.commands.check_connection",
    )
    code = (
        "import sys; from smtp_gitops.commands.cli import main; "
        "code = main(['validate', '-q', 'environments']); "
        f"heavy = sorted(m for m in {heavy!r} if m in sys.modules); "
        "print(heavy); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_is_listed_and_loads() -> None:
    import click

    from smtp_gitops.commands.cli import LAZY_COMMANDS, cli

    context = click.Context(cli)
    for name in LAZY_COMMANDS:
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
    help_text = cli.get_help(context)
    for name in [*LAZY_COMMANDS, "validate", "render", "schema"]:
        assert f"  {name} " in help_text


def run(cwd: Path, *args: str) -> str:
    env = {**os.environ, "SMTP_PRIMARY_PASSWORD": PASSWORD, "PORTAL_RELOAD_SECRET": RELOAD_SECRET}
    result = subprocess.run(
        [sys.executable, "-m", "smtp_gitops", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_no_command_ever_prints_a_secret(tmp_path: Path) -> None:
    target = closed_port_url()
    closed_smtp_port = target.split(":")[2].split("/")[0]
    # Loopback only: the probe must fail without reaching any real mail server.
    loopback = VALID.replace("smtp.gmail.com", "127.0.0.1").replace(
        "port: 587", f"port: {closed_smtp_port}"
    )
    text = loopback + (
        f"  render:\n    output: {tmp_path / 'out.json'}\n"
        f"  reload:\n    targets:\n      - {target}\n"
        "    secretFromEnv: PORTAL_RELOAD_SECRET\n    retries: 0\n"
    )
    write_env(tmp_path, "prod", text)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(
        [
            "git",
            "-c",
            "user.email=a@b.c",
            "-c",
            "user.name=n",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ],
        cwd=tmp_path,
        check=True,
    )
    literal = tmp_path / "literal"
    shutil.copytree(tmp_path / "environments", literal / "environments")
    write_env(literal, "prod", VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", PASSWORD))
    outputs = {
        "validate": run(tmp_path, "validate"),
        "validate literal": run(literal, "validate", "--format", "sarif"),
        "render --redact": run(tmp_path, "render", "prod", "--redact"),
        "plan": run(tmp_path, "plan", "--format", "markdown"),
        "deploy --dry-run": run(tmp_path, "deploy", "prod", "--dry-run"),
        "deploy to a failing node": run(tmp_path, "deploy", "prod"),
        "check-connection failure": run(tmp_path, "check-connection", "prod", "--timeout", "2"),
    }
    assert "failed to reload" in outputs["deploy to a failing node"]
    assert "plaintext-secret" in outputs["validate literal"]
    assert "connection refused by 127.0.0.1" in outputs["check-connection failure"]
    for command, output in outputs.items():
        assert PASSWORD not in output, command
        assert RELOAD_SECRET not in output and RELOAD_SECRET[6:] not in output, command
        assert "Traceback" not in output, command
