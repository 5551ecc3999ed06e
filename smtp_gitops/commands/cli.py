"""The ``smtp-gitops`` command line. Heavy modules are imported inside the commands that use
them, so ``validate`` starts without paying for Jinja2 or an HTTP client."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

import click

from smtp_gitops import __version__
from smtp_gitops.commands.common import (
    fail,
    load_config_or_exit,
    load_or_exit,
    root_option,
    use_color,
)
from smtp_gitops.exit_codes import EXIT_OK, EXIT_USAGE

# Commands defined in their own modules, imported only when that command runs (or for --help),
# so `validate` does not pay for the others' options and imports.
LAZY_COMMANDS = {
    "check-connection": "smtp_gitops.commands.check_connection:check_connection",
    "deploy": "smtp_gitops.commands.deploy:deploy",
    "init": "smtp_gitops.commands.init:init",
    "migrate": "smtp_gitops.commands.migrate:migrate",
    "plan": "smtp_gitops.commands.plan:plan",
    "status": "smtp_gitops.commands.status:status",
}


class LazyGroup(click.Group):
    """A group whose commands in ``LAZY_COMMANDS`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            module, _, name = LAZY_COMMANDS[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), name)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="smtp-gitops")
def cli() -> None:
    """Keep a portal's outgoing-mail (SMTP) settings in git: validate, render, plan, deploy."""


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


@cli.command()
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
    from smtp_gitops.lint.reporters import formatter
    from smtp_gitops.lint.validator import validate_files
    from smtp_gitops.settings.discovery import discover

    found = discover(list(paths) or [config.root])
    for problem in found.problems:
        click.echo(f"Error: {problem}", err=True)
    if found.problems and not found.files:
        ctx.exit(EXIT_USAGE)
    report, unreadable = validate_files(
        found.files,
        production_environments=config.production_environments,
        adjust=lambda unfinished: selection.apply(unfinished, found.files),
    )
    for unreadable_file in unreadable:
        click.echo(f"Error: cannot read {unreadable_file}", err=True)
    output = formatter(config.format)(report, color=use_color(no_color))
    if quiet and config.format == "text":
        output = "".join(line + "\n" for line in output.splitlines()[:-1])
    click.echo(output, nl=False)
    if found.problems or unreadable:
        ctx.exit(EXIT_USAGE)
    ctx.exit(report.exit_code(strict=strict))


@cli.command()
@click.argument("environment", metavar="ENV")
@click.option("--out", type=click.Path(dir_okay=False), help="Write here (atomically, mode 0600).")
@click.option("--redact", is_flag=True, help="Replace secrets with *** (resolves none).")
@click.option("--template", help="Override spec.render.template (built-in name or path).")
@root_option
@click.option("-q", "--quiet", is_flag=True, help="Do not print warnings.")
@click.pass_context
def render(
    ctx: click.Context,
    environment: str,
    out: str | None,
    redact: bool,
    template: str | None,
    root: str,
    quiet: bool,
) -> None:
    """Render ENV's runtime config: merged, validated, secrets resolved, template applied."""
    from smtp_gitops.render.files import write_atomic
    from smtp_gitops.render.render import RenderError, render_settings
    from smtp_gitops.render.secrets import SecretError

    loaded = load_or_exit(ctx, environment, root, quiet=quiet)
    if out is None and not redact and sys.stdout.isatty():
        # A terminal is a shared screen (and scrollback): show the shape, not the passwords.
        redact = True
        click.echo("note: secrets redacted on a terminal; use --out FILE or a pipe", err=True)
    try:
        text = render_settings(
            loaded.settings, redact=redact, template=template, repository=loaded.repository
        )
        if out is not None:
            write_atomic(out, text.encode("utf-8"))
    except (RenderError, SecretError) as error:
        fail(ctx, str(error))
    except OSError as error:
        fail(ctx, f"cannot write {out}: {error.strerror or error}")
    if out is None:
        click.echo(text, nl=False)
    elif not quiet:
        click.echo(f"wrote {out}", err=True)


@cli.command("schema")
@click.option(
    "--version",
    "schema_version",
    default="v1",
    show_default=True,
    type=click.Choice(["v1", "v2"]),
    help="Settings file format.",
)
def schema_command(schema_version: str) -> None:
    """Print the JSON Schema of the settings file."""
    from smtp_gitops.settings.schema import json_schema_text

    click.echo(json_schema_text(schema_version), nl=False)


# Commands defined in their own modules (each imports only click at module level).


def main(argv: Sequence[str] | None = None) -> int:
    try:
        # Without standalone mode click returns the code given to ctx.exit() instead of exiting.
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="smtp-gitops",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    return result if isinstance(result, int) else EXIT_OK
