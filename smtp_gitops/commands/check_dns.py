"""``smtp-gitops check-dns [ENV...]``: will the mail arrive? The sender domains' DNS."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from smtp_gitops.commands.common import configuration, fail, format_option, root_option
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from smtp_gitops.probe.check_dns import EnvironmentReport


@click.command("check-dns", short_help="Check the sender domains' SPF, DMARC, DKIM and MX.")
@click.argument("environments", nargs=-1, metavar="[ENV...]")
@click.option("--set", "set_name", metavar="NAME", help="Check this set (even if disabled).")
@click.option(
    "--nameserver",
    "nameservers",
    multiple=True,
    envvar="SMTP_GITOPS_NAMESERVER",
    metavar="ADDR[:PORT]",
    help="Ask this resolver (repeatable; env SMTP_GITOPS_NAMESERVER, separated by spaces; "
    "default: the system's).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=300),
    default=10.0,
    show_default=True,
    help="Seconds the whole run may take.",
)
@format_option("text", "json", "markdown")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@root_option
@click.pass_context
def check_dns(
    ctx: click.Context,
    environments: tuple[str, ...],
    set_name: str | None,
    nameservers: tuple[str, ...],
    timeout: float,
    output_format: str,
    strict: bool,
    root: str,
) -> None:
    """Check each set's sender domain: SPF, DMARC, DKIM and MX, against its provider.

    DNS only; no mail is sent. Exit 0 without errors (warnings allowed unless --strict), 1 on
    any error or a lookup that failed, 2 for usage.
    """
    from smtp_gitops.environment import EnvironmentNotFound, SettingsRefused, load_environment
    from smtp_gitops.probe.check_dns import run_checks
    from smtp_gitops.probe.dns_lookup import Lookups, nameserver
    from smtp_gitops.settings import layout

    try:
        servers = [nameserver(text) for text in nameservers]
    except ValueError as error:
        fail(ctx, f"--nameserver: {error} (give ADDR or ADDR:PORT)", EXIT_USAGE)
    names = list(environments) or list(layout.environments(root))
    if not names:
        fail(ctx, f"no environment under {root}/", EXIT_USAGE)
    loaded = []
    config = configuration(ctx)
    for name in names:
        try:
            loaded.append((name, load_environment(name, root, config).settings))
        except EnvironmentNotFound as error:
            fail(ctx, str(error), EXIT_USAGE)
        except SettingsRefused as error:
            fail(ctx, f"{name}: {error}", EXIT_USAGE)
    if set_name is not None and not any(
        s.name == set_name for _, settings in loaded for s in settings.sets()
    ):
        fail(ctx, f"no set {set_name!r} in {', '.join(names)}", EXIT_USAGE)
    reports = run_checks(loaded, set_name, Lookups(servers, timeout))
    click.echo(_FORMATS[output_format](reports), nl=False)
    errors, warnings = _counts(reports)
    ctx.exit(EXIT_FAILED if errors or (strict and warnings) else EXIT_OK)


def _counts(reports: list[EnvironmentReport]) -> tuple[int, int]:
    severities = [f.severity for r in reports for s in r.sets for f in s.findings]
    return severities.count("error"), severities.count("warning")


def _text(reports: list[EnvironmentReport]) -> str:
    from smtp_gitops.settings.untrusted_text import printable

    lines = []
    for report in reports:
        for checked in report.sets:
            where = f"{report.environment} / {checked.set} ({', '.join(checked.categories)})"
            domain = checked.domain or "no sender address"
            lines.append(f"{where}: {printable(domain)} via {printable(checked.provider)}")
            if checked.domain is None:
                lines.append("  nothing to check: the set has no sender address")
            for finding in checked.findings:
                lines.append(f"  {finding.severity} {finding.kind}: {printable(finding.message)}")
                if finding.hint:
                    lines.append(f"    hint: {printable(finding.hint)}")
            if checked.domain is not None and not checked.findings:
                lines.append("  ok: SPF, DMARC, DKIM and MX as the provider needs them")
    errors, warnings = _counts(reports)
    lines.append(f"{len(reports)} environment(s) checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def _json(reports: list[EnvironmentReport]) -> str:
    errors, warnings = _counts(reports)
    document = {
        "environments": [r.to_json() for r in reports],
        "summary": {"environments": len(reports), "errors": errors, "warnings": warnings},
    }
    return json.dumps(document, indent=2) + "\n"


def _markdown(reports: list[EnvironmentReport]) -> str:
    from smtp_gitops.settings.untrusted_text import markdown_code, markdown_text

    lines = [
        "## Will the mail arrive? Sender-domain DNS",
        "",
        "| environment | set | domain | provider | finding |",
        "|---|---|---|---|---|",
    ]
    for report in reports:
        for checked in report.sets:
            cells = [
                markdown_code(report.environment, in_table=True),
                markdown_code(checked.set, in_table=True),
                markdown_code(checked.domain or "-", in_table=True),
                markdown_text(checked.provider).replace("|", "\\|"),
            ]
            if not checked.findings:
                lines.append(f"| {' | '.join(cells)} | ✅ ok |")
            for finding in checked.findings:
                icon = "❌" if finding.severity == "error" else "⚠️"
                message = markdown_text(finding.message).replace("|", "\\|")
                lines.append(f"| {' | '.join(cells)} | {icon} `{finding.kind}`: {message} |")
    errors, warnings = _counts(reports)
    lines += ["", f"{len(reports)} environment(s): {errors} error(s), {warnings} warning(s)"]
    return "\n".join(lines) + "\n"


_FORMATS = {"text": _text, "json": _json, "markdown": _markdown}
