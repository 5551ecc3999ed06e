"""The example CI workflows are valid GitHub workflows and call commands the CLI really has."""

from __future__ import annotations

import json
import re
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
from ruamel.yaml import YAML

from smtp_gitops.commands.cli import cli
from tests.workflow_runner import Contexts, workflow_steps

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((REPO / "examples" / "github-actions").glob("*.yml"))


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def smtp_gitops_commands(workflow: Any) -> list[list[str]]:
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for part in step.get("run", "").replace("||", "\n").replace(">", "\n").splitlines():
                words = shlex.split(part.strip()) if part.strip() else []
                if words[:1] == ["smtp-gitops"]:
                    commands.append(words[1:])
    return commands


def test_there_are_three_example_workflows() -> None:
    assert [p.name for p in WORKFLOWS] == ["deploy.yml", "drift.yml", "pull-request.yml"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_matches_the_github_workflow_schema(path: Path) -> None:
    schema_file = (
        resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    )
    schema = json.loads(schema_file.read_text())
    workflow = load(path)
    # YAML 1.1 readers (GitHub's) treat the key `on` as a string; keep it one here too.
    jsonschema.Draft7Validator(schema).validate(workflow)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_smtp_gitops_command_and_option_exists(path: Path) -> None:
    commands = smtp_gitops_commands(load(path))
    assert commands
    assert isinstance(cli, click.Group)
    for words in commands:
        command = cli.get_command(click.Context(cli), words[0])
        assert command is not None, f"no command {words[0]!r}"
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in words[1:]:
            if word.startswith("-"):
                assert word.split("=")[0] in known, f"{words[0]} has no option {word}"


def test_the_workflows_cover_validate_plan_and_deploy() -> None:
    used = {words[0] for path in WORKFLOWS for words in smtp_gitops_commands(load(path))}
    assert {"validate", "plan", "deploy", "status"} <= used


def test_deploy_pins_a_policy_that_admits_the_bundled_environments() -> None:
    from smtp_gitops.deploy.policy import DeployPolicy

    [job] = load(REPO / "examples" / "github-actions" / "deploy.yml")["jobs"].values()
    policy = DeployPolicy(
        tuple(job["env"]["SMTP_GITOPS_ALLOW_OUTPUT"].split(":")),
        tuple(job["env"]["SMTP_GITOPS_ALLOW_TARGET"].split()),
    )
    for settings in (REPO / "environments").glob("*/smtp.yaml"):
        spec = load(settings)["spec"]
        if "render" in spec and "output" in spec["render"]:
            targets = spec.get("reload", {}).get("targets", [])
            assert policy.problems(spec["render"]["output"], targets) == [], settings
    assert policy.problems("/root/.bashrc", ["https://evil.example.net.attacker.org/r"])


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_scripts_take_event_data_through_the_environment(path: Path) -> None:
    """`${{ ... }}` inside `run` is spliced into the shell script before it runs (injection)."""
    for job in load(path)["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step


def test_deploy_provides_every_secret_the_bundled_environments_read() -> None:
    needed = set()
    for settings in (REPO / "environments").glob("*/smtp.yaml"):
        spec = load(settings)["spec"]
        for smtp_set in spec["sets"]:
            auth = smtp_set.get("auth", {})
            # v1 `password`, v2 `auth.password` and `auth.oauth2.clientSecret`
            for secret in (
                smtp_set.get("password", {}),
                auth.get("password", {}),
                auth.get("oauth2", {}).get("clientSecret", {}),
            ):
                if "fromEnv" in secret:
                    needed.add(secret["fromEnv"])
        if "reload" in spec:
            needed.add(spec["reload"]["secretFromEnv"])
    assert "SMTP_PRIMARY_CLIENT_SECRET" in needed
    # Each step that renders (deploy, status) gets every one, from the workflow's, the job's
    # or its own `env`, as a secret.
    renders = 0
    for workflow in ("deploy.yml", "drift.yml"):
        for step in workflow_steps(REPO / "examples" / "github-actions" / workflow, Contexts()):
            if re.search(r"smtp-gitops (deploy|status) ", step.run) and "--dry-run" not in step.run:
                renders += 1
                assert needed <= set(step.env), (workflow, step.name, needed - set(step.env))
                assert all(step.env[name] == f"dummy-{name}" for name in needed)
    assert renders == 3 * 2 + 3  # deploy and status per environment; status in drift
