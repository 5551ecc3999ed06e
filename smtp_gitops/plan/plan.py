"""Plan: what each environment's rendered config would change between a git revision and the
work tree, field by field, with secrets shown only as their references."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smtp_gitops.lint.config import Config
from smtp_gitops.lint.file_check import UnreadableFile, Validator
from smtp_gitops.lint.rule_selection import as_configured
from smtp_gitops.plan.git_revision import GitRevision, PlanError, changed_files, run_git
from smtp_gitops.plan.plan_scope import ChangeScope, template_digest
from smtp_gitops.render.render import (
    portal_set,
    template_context,
)
from smtp_gitops.render.template_files import (
    read_template_bytes,
)
from smtp_gitops.settings.diagnostics import error_count
from smtp_gitops.settings.discovery import repository_of
from smtp_gitops.settings.layout import (
    DEFAULT_ROOT,
    base_file,
    environments,
    environments_in,
    stray_message,
    stray_settings,
)
from smtp_gitops.settings.model import SecretFromEnv, SecretFromSops, Settings, SmtpSettingsFileV2
from smtp_gitops.settings.sops_files import reference_text
from smtp_gitops.settings.untrusted_text import markdown_code, markdown_text, printable

ABSENT = "—"


def _reference(password: object) -> str | None:
    """How a secret is supplied, never its value."""
    if password is None:
        return None
    if isinstance(password, SecretFromEnv):
        return f"env:{password.fromEnv}"
    if isinstance(password, str):
        return "*** (literal)"
    if isinstance(password, SecretFromSops):
        return reference_text(password.fromSops.file, password.fromSops.key)
    return f"file:{getattr(password, 'fromFile', '?')}"


def _cell(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(settings: Settings, read_template: Callable[[str], bytes]) -> dict[str, str]:
    """The rendered portal config as ``field -> value``, sets keyed by name (not position)."""
    references = {s.name: _reference(s.secret) for s in settings.sets()}
    context = template_context(settings, references)
    fields: dict[str, str] = {"production": _cell(settings.metadata.production)}
    for data in context["sets"]:
        portal = portal_set(data)
        name = portal.pop("Name")
        emails = portal.pop("ReportEmails")
        portal["ReportEmails"] = ", ".join(
            f"{r['Email']}{'' if r['Enabled'] else ' (disabled)'}" for r in emails
        )
        for key, value in portal.items():
            if isinstance(value, dict):  # v2 `OAuth2`: one row per field
                fields.update({f"sets.{name}.{key}.{k}": _cell(v) for k, v in value.items()})
            else:
                fields[f"sets.{name}.{key}"] = _cell(value)
    render = settings.spec.render
    fields["render.template"] = render.template
    fields["render.templateDigest"] = template_digest(render.template, read_template)
    fields["render.output"] = _cell(render.output)
    reload = settings.spec.reload
    if reload is not None:
        fields["reload.targets"] = ", ".join(reload.targets)
        fields["reload.secretFromEnv"] = reload.secretFromEnv
        fields["reload.timeoutSeconds"] = _cell(reload.timeoutSeconds)
        fields["reload.retries"] = _cell(reload.retries)
    return fields


@dataclass(slots=True)
class Side:
    """One environment at one revision."""

    exists: bool = False
    errors: int = 0
    effective: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    # v2: category -> the set used for it ("name", or "name (fallback)"); empty for v1
    categories: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class EnvironmentPlan:
    name: str
    before: Side
    after: Side
    changes: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        before, after = self.before, self.after
        return bool(self.changes) or (
            before.exists,
            before.errors,
            before.effective,
            before.categories,
        ) != (after.exists, after.errors, after.effective, after.categories)


def _side(
    validator: Validator,
    path: str | None,
    read_template: Callable[[str], bytes] | None,
    severity: Mapping[str, str],
    read: Callable[[str], bytes] | None = None,
) -> Side:
    """``read_template`` and ``read`` read templates and settings at the revision; ``None``:
    from the work tree. Findings count as ``validate`` counts them: less what inline ignores
    suppress, at the configured ``severity``."""
    if path is None:
        return Side()
    try:
        checked = validator.check(path)
    except UnreadableFile:
        return Side(exists=True, errors=1)
    errors = error_count(as_configured(checked.diagnostics, severity, read))
    if checked.settings is None or errors:
        return Side(exists=True, errors=max(errors, 1))
    effective = checked.settings.effective_set()
    if read_template is None:
        read_template = functools.partial(read_template_bytes, repository=repository_of(path))
    fields = flatten(checked.settings, read_template)
    return Side(
        True,
        0,
        effective.name if effective else None,
        fields,
        category_sets(checked.settings),
    )


def category_sets(settings: Settings) -> dict[str, str]:
    """For v2, the set each email category uses, marking a fallback to General."""
    if not isinstance(settings, SmtpSettingsFileV2):
        return {}
    return {
        category: "none"
        if chosen is None
        else chosen.name + (" (fallback)" if chosen.category != category else "")
        for category, chosen in settings.effective_sets().items()
    }


def make_plan(
    ref: str,
    root: str = DEFAULT_ROOT,
    *,
    only_changed: bool = True,
    config: Config | None = None,
) -> list[EnvironmentPlan]:
    """Every environment's plan. With ``only_changed`` (the default) an environment the change
    cannot have touched (``plan_scope``) is listed as unchanged without being read; without it,
    every environment is rendered on both sides, which gives the same output at a cost that
    grows with the repository rather than with the change. ``config`` (the project
    configuration) gives the production environments and each rule's severity, as
    ``validate`` applies them."""
    revision = GitRevision(ref, root)
    try:
        return _plans(revision, root, only_changed=only_changed, config=config or Config())
    finally:
        revision.close()


def _plans(
    revision: GitRevision, root: str, *, only_changed: bool, config: Config
) -> list[EnvironmentPlan]:
    before_envs = environments_in(revision.files, root)
    after_envs = {name: os.path.normpath(path) for name, path in environments(root).items()}
    for path in [*after_envs.values(), *filter(None, [base_file(root)])]:
        # Which file the plan would read is not what a reviewer would: refuse, as every
        # command does.
        if strays := stray_settings(path):
            raise PlanError(stray_message(path, strays))
    scope = None
    if only_changed:
        top = (
            run_git("rev-parse", "--show-toplevel").stdout.decode(errors="surrogateescape").strip()
        )
        scope = ChangeScope(revision, root, changed_files(revision.ref), top)
    # The work tree is read like `validate` reads it, refusals of linked files included.
    production = config.production_environments
    before_validator = Validator(revision, production_environments=production)
    after_validator = Validator(production_environments=production)
    severity = config.severity
    plans = []
    for name in sorted(set(before_envs) | set(after_envs)):
        if scope is not None and scope.untouched(before_envs.get(name), after_envs.get(name)):
            plans.append(EnvironmentPlan(name, Side(exists=True), Side(exists=True)))
            continue
        before = _side(
            before_validator,
            before_envs.get(name),
            revision.read_template,
            severity,
            revision.read,
        )
        after = _side(after_validator, after_envs.get(name), None, severity)
        plans.append(EnvironmentPlan(name, before, after, field_changes(before, after)))
    return plans


# What a field reads when nobody wrote it: appearing or going with its section is no change.
_UNSET = frozenset({"null", ""})
_DEFAULTS = {"reload.timeoutSeconds": "10.0", "reload.retries": "3"}


def field_changes(before: Side, after: Side) -> list[tuple[str, str, str]]:
    """The fields that differ. An invalid side is said once (its state), not as every field
    appearing or going; a field that appears or goes empty, or at its default, is no change."""
    if before.errors or after.errors:
        return []
    changes = []
    for key in sorted(set(before.fields) | set(after.fields)):
        old, new = before.fields.get(key, ABSENT), after.fields.get(key, ABSENT)
        if old == new:
            continue
        present = new if old == ABSENT else old if new == ABSENT else None
        if present is not None and (present in _UNSET or _DEFAULTS.get(key) == present):
            continue
        changes.append((key, old, new))
    return changes


def _state(side: Side, where: str) -> str | None:
    if not side.exists:
        return f"absent {where}"
    if side.errors:
        return f"invalid {where} ({side.errors} error{'s' if side.errors != 1 else ''})"
    return None


def _category_line(plan: EnvironmentPlan, show_name: Callable[[str], str]) -> str:
    """``effective sets: administration `a`, general `a`, notifications `b` → `c```."""

    def show(value: str | None) -> str:
        if value is None or value == "none":
            return "none"
        name, _, note = value.partition(" ")
        return show_name(name) + (f" {note}" if note else "")

    before, after = plan.before.categories, plan.after.categories
    parts = []
    for category, now in after.items() if after else before.items():
        then = before.get(category) if plan.before.exists and before else now
        shown = show(now) if then == now else f"{show(then)} → {show(now)}"
        parts.append(f"{category} {shown}")
    return "effective sets: " + ", ".join(parts)


def _effective_line(plan: EnvironmentPlan, show_name: Callable[[str], str]) -> str:
    if plan.after.categories or plan.before.categories:
        removed = " (environment removed)" if not plan.after.exists else ""
        return _category_line(plan, show_name) + removed
    before, after = plan.before.effective, plan.after.effective

    def show(name: str | None) -> str:
        return show_name(name) if name else "none"

    if before == after or not plan.before.exists:
        return f"effective set: {show(after)}"
    if not plan.after.exists:
        return f"effective set: {show(before)} (environment removed)"
    return f"effective set: {show(before)} → {show(after)}"


def _status(plan: EnvironmentPlan, shown_ref: str) -> list[str]:
    notes = []
    if not plan.before.exists:
        notes.append("new environment")
    elif not plan.after.exists:
        notes.append("environment removed")
    for side, where in ((plan.before, f"at {shown_ref}"), (plan.after, "in the work tree")):
        state = _state(side, where)
        if state and side.exists:
            notes.append(state + ": run `smtp-gitops validate`")
    return notes


# Names and values come from the pull request (and folder names from anyone who can push):
# every one is shown through `untrusted_text`, never as it is.


def format_text(plans: list[EnvironmentPlan], ref: str) -> str:
    lines = [f"plan: {printable(ref)} → work tree"]
    unchanged = [printable(p.name) for p in plans if not p.changed]
    for plan in plans:
        if not plan.changed:
            continue
        lines.append(f"{printable(plan.name)}: {_effective_line(plan, printable)}")
        lines.extend(f"  ! {note}" for note in _status(plan, printable(ref)))
        for key, before, after in plan.changes:
            mark = "+" if before == ABSENT else "-" if after == ABSENT else "~"
            lines.append(f"  {mark} {printable(key)}: {printable(before)} → {printable(after)}")
    if unchanged:
        lines.append(f"no changes: {', '.join(unchanged)}")
    return "\n".join(lines) + "\n"


def format_markdown(plans: list[EnvironmentPlan], ref: str) -> str:
    lines = [f"## smtp-gitops plan: {markdown_code(ref)} → this change", ""]
    unchanged = [p.name for p in plans if not p.changed]
    for plan in plans:
        if not plan.changed:
            continue
        effective = _effective_line(plan, markdown_code)
        lines += [f"### {markdown_code(plan.name)}", "", "E" + effective[1:], ""]
        notes = [f"> {note}" for note in _status(plan, markdown_text(ref))]
        # Without the blank line, Markdown would read the table as part of the quote.
        lines += [*notes, ""] if notes else []
        if plan.changes:
            lines += ["| field | before | after |", "|---|---|---|"]
            lines += [
                f"| {markdown_code(key, in_table=True)} | {markdown_text(before)} "
                f"| {markdown_text(after)} |"
                for key, before, after in plan.changes
            ]
        lines.append("")
    if unchanged:
        lines.append("No changes: " + ", ".join(markdown_code(name) for name in unchanged))
    if not plans:
        lines.append("No environments found.")
    return "\n".join(lines).rstrip("\n") + "\n"


def plan_status(plan: EnvironmentPlan) -> str:
    if not plan.before.exists:
        return "added"
    if not plan.after.exists:
        return "removed"
    if plan.before.errors or plan.after.errors:
        return "invalid"
    return "changed" if plan.changed else "unchanged"


def format_json(plans: list[EnvironmentPlan], ref: str) -> str:
    """For machines: per environment its status, the field changes, and each side's state."""
    import json

    def side(value: Side) -> dict[str, object]:
        return {
            "exists": value.exists,
            "errors": value.errors,
            "effectiveSet": value.effective,
            "categories": value.categories,
        }

    document = {
        "base": ref,
        "environments": [
            {
                "name": plan.name,
                "status": plan_status(plan),
                "changes": [
                    {
                        "field": key,
                        "before": None if old == ABSENT else old,
                        "after": None if new == ABSENT else new,
                    }
                    for key, old, new in plan.changes
                ],
                "before": side(plan.before),
                "after": side(plan.after),
            }
            for plan in plans
        ],
        "summary": {
            "environments": len(plans),
            "changed": sum(1 for plan in plans if plan.changed),
        },
    }
    return json.dumps(document, indent=2) + "\n"
