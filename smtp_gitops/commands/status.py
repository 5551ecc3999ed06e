"""``smtp-gitops status [ENV...]``: does every node run what git says?"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from smtp_gitops.commands.common import (
    configuration,
    fail,
    format_option,
    print_diagnostics,
    root_option,
    say_error,
)
from smtp_gitops.commands.deploy import allow_target_option
from smtp_gitops.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from smtp_gitops.settings import layout

if TYPE_CHECKING:
    from smtp_gitops.deploy.status import EnvironmentStatus


@click.command(short_help="Report drift between git and the portal nodes.")
@click.argument("environments", nargs=-1, metavar="[ENV...]")
@format_option("text", "json", "markdown")
@allow_target_option
@root_option
@click.pass_context
def status(
    ctx: click.Context,
    environments: tuple[str, ...],
    output_format: str,
    allow_target: tuple[str, ...],
    root: str,
) -> None:
    """Report drift between git, the last deploy, the file on disk and every node.

    Default: every environment with render.output. Needs the same secrets as deploy (it
    renders git's config to compare digests). Changes nothing. Exit 0 in sync, 1 drift, 2
    usage (or an environment that cannot be checked).
    """
    from smtp_gitops.deploy.deploy import DeployUsageError
    from smtp_gitops.deploy.policy import DeployPolicy, PolicyError
    from smtp_gitops.deploy.status import environment_status
    from smtp_gitops.deploy.webhook import SecretFormatError
    from smtp_gitops.environment import InvalidSettings, SettingsRefused, load_environment
    from smtp_gitops.render.render import RenderError
    from smtp_gitops.render.secrets import SecretError

    try:
        policy = DeployPolicy.from_sources((), allow_target, with_outputs=False)
    except PolicyError as error:
        fail(ctx, str(error), EXIT_USAGE)
    names = list(environments) or list(layout.environments(root))
    results: list[EnvironmentStatus] = []
    problems: list[str] = []
    if not names:
        problems.append(
            f"no environment under {root}/: a drift check that finds nothing does not pass"
        )
    for name in names:
        try:
            loaded = load_environment(name, root, configuration(ctx))
            settings = loaded.settings
            if settings.spec.render.output is None:
                if environments:
                    raise DeployUsageError("spec.render.output is not set: nothing is deployed")
                continue
            targets = settings.spec.reload.targets if settings.spec.reload else []
            refused = policy.problems(None, targets)
            if refused:
                raise DeployUsageError("; ".join(refused))
            results.append(environment_status(settings, repository=loaded.repository))
        except InvalidSettings as error:
            print_diagnostics(error.diagnostics)
            problems.append(f"{name}: {error}")
        except (
            SettingsRefused,
            RenderError,
            SecretError,
            SecretFormatError,
            DeployUsageError,
        ) as error:
            problems.append(f"{name}: {error}")
    if names and not results and not problems:
        problems.append(f"no environment under {root}/ has spec.render.output: nothing is deployed")
    # The errors first: a drift check that could not check must never read as a pass.
    for problem in problems:
        say_error(problem)
    click.echo(_FORMATS[output_format](results, problems), nl=False)
    if problems:
        ctx.exit(EXIT_USAGE)
    ctx.exit(EXIT_OK if all(r.in_sync for r in results) else EXIT_FAILED)


def _text(results: list[EnvironmentStatus], problems: list[str]) -> str:
    from smtp_gitops.deploy.status import short

    lines = []
    for result in results:
        if result.in_sync:
            lines.append(
                f"{result.environment}: in sync (configDigest {short(result.desiredDigest)}, "
                f"revision {(result.revision or 'unknown')[:12]}, {result.nodes} node(s))"
            )
            continue
        lines.append(f"{result.environment}: OUT OF SYNC")
        for finding in result.findings:
            where = f" {finding.node}" if finding.node else ""
            lines.append(f"  {finding.kind}{where}: {finding.message}")
    drifted = sum(1 for r in results if not r.in_sync)
    lines.append(
        f"{len(results)} environment(s): {len(results) - drifted} in sync, {drifted} drifted"
        + (f", {len(problems)} could not be checked" if problems else "")
    )
    return "\n".join(lines) + "\n"


def _json(results: list[EnvironmentStatus], problems: list[str]) -> str:
    drifted = sum(1 for r in results if not r.in_sync)
    document = {
        "environments": [r.to_json() for r in results],
        "errors": problems,
        "summary": {
            "environments": len(results),
            "inSync": len(results) - drifted,
            "drifted": drifted,
            "unchecked": len(problems),
        },
    }
    return json.dumps(document, indent=2) + "\n"


def _markdown(results: list[EnvironmentStatus], problems: list[str]) -> str:
    from smtp_gitops.deploy.status import short
    from smtp_gitops.settings.untrusted_text import markdown_code

    def _code(text: str) -> str:
        return markdown_code(text, in_table=True)

    lines = ["## SMTP settings: drift", "", "| environment | state | finding |", "|---|---|---|"]
    for result in results:
        if result.in_sync:
            detail = f"configDigest {_code(short(result.desiredDigest))}, {result.nodes} node(s)"
            lines.append(f"| {_code(result.environment)} | ✅ in sync | {detail} |")
            continue
        for finding in result.findings:
            node = f"{_code(finding.node)}: " if finding.node else ""
            lines.append(
                f"| {_code(result.environment)} | ⚠️ {finding.kind} | {node}"
                f"{_code(finding.message)} |"
            )
    for problem in problems:
        lines.append(f"| — | ❌ could not check | {_code(problem)} |")
    return "\n".join(lines) + "\n"


_FORMATS = {"text": _text, "json": _json, "markdown": _markdown}
