"""``smtp-gitops validate``: check settings files, report findings in the chosen format."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from smtp_gitops.commands.common import fail, load_config_or_exit, say_error, use_color
from smtp_gitops.exit_codes import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from smtp_gitops.plan.git_revision import GitIndex
    from smtp_gitops.settings.diagnostics import Report


def _explain(rule_id: str) -> int:
    from smtp_gitops.lint.rules import all_rules

    rules = all_rules()
    if rule_id not in rules:
        click.echo(f"Error: unknown rule {rule_id!r}; known rules: {', '.join(rules)}", err=True)
        return EXIT_USAGE
    found = rules[rule_id]
    click.echo(f"{found.id} ({found.severity.value})\n\n{found.doc}")
    return EXIT_OK


def _list_rules() -> int:
    from smtp_gitops.lint.rules import all_rules

    for found in all_rules().values():
        click.echo(f"{found.id:<28} {found.severity.value:<8} {found.summary}")
    return EXIT_OK


def _severity_flags(values: tuple[str, ...]) -> dict[str, str]:
    from smtp_gitops.lint.config import ConfigError, check_severity

    levels = {}
    for value in values:
        rule_id, separator, level = value.partition("=")
        if not separator:
            raise ConfigError(f"--severity {value}: write RULE=LEVEL (error, warning or off)")
        levels[rule_id.strip()] = check_severity(rule_id.strip(), level.strip(), "--severity")
    return levels


def _staged_files(ctx: click.Context) -> GitIndex:
    from smtp_gitops.plan.git_revision import GitIndex, PlanError

    try:
        return GitIndex()
    except PlanError as error:
        fail(ctx, str(error), EXIT_USAGE)


def _formatted(report: Report, output_format: str, color: bool, index: GitIndex | None) -> str:
    from smtp_gitops.lint.reporters import formatter, text
    from smtp_gitops.lint.reporters.excerpt import SourceLines

    if index is not None and output_format == "text":
        # The excerpt shows the staged line the finding is about, not the work tree's.
        return text.format(report, color=color, sources=SourceLines(index.read))
    return formatter(output_format)(report, color=color)


@click.command(short_help="Check settings files (schema and rules).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "github", "sarif"]),
    help="Output format.  [default: text]",
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("-q", "--quiet", is_flag=True, help="Print diagnostics only, no summary.")
@click.option("--no-color", is_flag=True, help="Never colour the output (also: NO_COLOR).")
@click.option("--explain", "explain", metavar="RULE", help="Describe one rule and exit.")
@click.option("--list-rules", is_flag=True, help="List every rule id and exit.")
@click.option(
    "--select", multiple=True, metavar="RULE[,RULE]", help="Report only these rules (repeatable)."
)
@click.option(
    "--ignore", multiple=True, metavar="RULE[,RULE]", help="Do not report these rules (repeatable)."
)
@click.option(
    "--severity",
    "severities",
    multiple=True,
    metavar="RULE=LEVEL",
    help="Report RULE as error, warning or off (repeatable; wins over the configuration).",
)
@click.option(
    "--production-environment",
    "production_environments",
    multiple=True,
    metavar="PATTERN",
    help="Treat matching environments as production (fnmatch; repeatable).",
)
@click.option(
    "--root",
    type=click.Path(file_okay=False),
    help="What to check without PATHs.  [default: environments]",
)
@click.option(
    "--show-config", is_flag=True, help="Print the effective configuration and its sources."
)
@click.option(
    "--staged",
    is_flag=True,
    help="Check what a commit holds: files as staged in git's index, untracked ones left out "
    "(the pre-commit hook uses this).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    paths: tuple[str, ...],
    output_format: str | None,
    strict: bool,
    quiet: bool,
    no_color: bool,
    explain: str | None,
    list_rules: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    severities: tuple[str, ...],
    production_environments: tuple[str, ...],
    root: str | None,
    show_config: bool,
    staged: bool,
) -> None:
    """Check settings files or folders (default: environments/, or `root` from the
    configuration)."""
    if explain:
        ctx.exit(_explain(explain))
    if list_rules:
        ctx.exit(_list_rules())
    from smtp_gitops.lint.config import load_config
    from smtp_gitops.lint.rule_selection import RuleSelection, UnknownRule, parse_rule_list

    config = load_config_or_exit(
        lambda: load_config().with_flags(
            root=root,
            output_format=output_format,
            production_environments=production_environments,
            severity=_severity_flags(severities),
        )
    )
    if show_config:
        click.echo(config.describe(), nl=False)
        ctx.exit(EXIT_OK)
    try:
        selection = RuleSelection(
            config.severity,
            parse_rule_list(select, "--select") if select else None,
            parse_rule_list(ignore, "--ignore"),
        )
    except UnknownRule as error:
        fail(ctx, str(error), EXIT_USAGE)
    from smtp_gitops.lint.validator import validate_files
    from smtp_gitops.settings.discovery import discover, find_root_folder

    index = _staged_files(ctx) if staged else None
    try:
        found = discover(
            list(paths) or [find_root_folder(config.root) or config.root],
            index.exists if index else None,
        )
        for problem in found.problems:
            say_error(problem)
        if found.problems and not found.files:
            ctx.exit(EXIT_USAGE)
        report, unreadable = validate_files(
            found.files,
            production_environments=config.production_environments,
            adjust=lambda unfinished: selection.apply(
                unfinished, found.files, index.read if index else None
            ),
            source=index,
        )
        for unreadable_file in unreadable:
            say_error(f"cannot read {unreadable_file}")
        output = _formatted(report, config.format, use_color(no_color), index)
    finally:
        if index is not None:
            index.close()
    if quiet and config.format == "text":
        output = "".join(line + "\n" for line in output.splitlines()[:-1])
    click.echo(output, nl=False)
    if found.problems or unreadable:
        ctx.exit(EXIT_USAGE)
    ctx.exit(report.exit_code(strict=strict))
