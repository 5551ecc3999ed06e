"""Every smtp-gitops step of the example workflows and of ``action.yml`` runs green with the
environment that step really receives, against loopback receivers standing in for the nodes.

A copy of the bundled repository is the workspace; only the nodes' addresses and the output
paths are pointed at this machine. A step that fails because the workflow forgot a variable or
passes a wrong flag fails here.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.dns_server import dns_server
from tests.helpers import git
from tests.portal import SECRET, portal
from tests.workflow_runner import (
    Contexts,
    Ran,
    Step,
    action_steps,
    calls_smtp_gitops,
    load,
    run_step,
    workflow_steps,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "github-actions"
GITHUB = {
    "base_ref": "main",
    "token": "dummy-token",
    "repository": "team/portal-settings",
    "event.pull_request.number": "7",
    "event.pull_request.head.repo.full_name": "team/portal-settings",
}
# The reload secret must have the form a node accepts; every other secret is a dummy.
SECRETS = {"PORTAL_RELOAD_SECRET": SECRET}
TARGET_LINE = re.compile(r"^(\s+- )https?://\S+$", re.MULTILINE)
OUTPUT_LINE = re.compile(r"^(\s+output: ).+$", re.MULTILINE)


@dataclass
class Workspace:
    root: Path
    runner: Path


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """The bundled repository as a git checkout (with ``origin/main``), its nodes loopback
    receivers that confirm what they load, its outputs inside the workspace."""
    root = tmp_path / "repo"
    (root / "environments").mkdir(parents=True)
    shutil.copytree(REPO / "schema", root / "schema")
    with ExitStack() as nodes:
        for folder in sorted((REPO / "environments").iterdir()):
            text = (folder / "smtp.yaml").read_text()
            output = root / "build" / folder.name / "smtp.json"

            def node(found: re.Match[str], output: Path = output) -> str:
                server = nodes.enter_context(portal(config=str(output)))
                return found.group(1) + server.url

            text = OUTPUT_LINE.sub(rf"\g<1>build/{folder.name}/smtp.json", text)
            text = TARGET_LINE.sub(node, text)
            (root / "environments" / folder.name).mkdir()
            (root / "environments" / folder.name / "smtp.yaml").write_text(text)
        git(root, "init", "-q", "-b", "main")
        git(root, "add", ".")
        git(root, "commit", "-qm", "c1")
        git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
        yield Workspace(root, tmp_path / "runner")


def run_all(
    steps: list[Step], workspace: Workspace, runner_env: dict[str, str] | None = None
) -> list[Ran]:
    ran = []
    for step in steps:
        if calls_smtp_gitops(step):
            result = run_step(step, workspace.root, workspace.runner, runner_env)
            assert result.returncode == 0, (step.name, step.matrix, result.output)
            ran.append(result)
    return ran


def contexts(**github: str) -> Contexts:
    return Contexts(secrets=SECRETS, github={**GITHUB, **github})


def test_the_pull_request_workflow_runs_green(workspace: Workspace) -> None:
    staging = workspace.root / "environments" / "staging" / "smtp.yaml"
    staging.write_text(staging.read_text().replace("enabled: true", "enabled: false", 1))
    git(workspace.root, "commit", "-qam", "c2")
    # The runner's resolver is a DNS server on loopback that knows none of the domains.
    with dns_server({}) as (nameserver, asked):
        ran = run_all(
            workflow_steps(EXAMPLES / "pull-request.yml", contexts()),
            workspace,
            {"SMTP_GITOPS_NAMESERVER": nameserver},
        )
    assert {r.step.name for r in ran} >= {
        "Validate (annotations on the changed lines)",
        "Validate (SARIF for code scanning)",
        "Plan",
    }
    [dns] = [r for r in ran if "check-dns" in r.step.run]
    assert "::warning title=smtp-gitops check-dns::" in dns.output, dns.output
    assert "staging / " in dns.output and "prod /" not in dns.output
    assert asked.asked, "check-dns asked the runner's resolver, nothing else"
    sarif = json.loads((workspace.root / "smtp-gitops.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    plan = (workspace.root / "plan.md").read_text()
    assert "`staging`" in plan


def test_a_fork_is_validated_but_neither_commented_on_nor_uploaded(workspace: Workspace) -> None:
    fork = contexts(**{"event.pull_request.head.repo.full_name": "someone/portal-settings"})
    steps = workflow_steps(EXAMPLES / "pull-request.yml", fork)
    assert {s.env["FROM_FORK"] for s in steps} == {"true"}
    assert {
        s.env["FROM_FORK"] for s in workflow_steps(EXAMPLES / "pull-request.yml", contexts())
    } == {"false"}
    run_all(steps, workspace)  # validation still runs, from the fork's token too
    [job] = load(EXAMPLES / "pull-request.yml")["jobs"].values()
    writers = [
        s
        for s in job["steps"]
        if "upload-sarif" in s.get("uses", "") or "gh pr" in s.get("run", "")
    ]
    assert len(writers) == 2
    assert all("env.FROM_FORK != 'true'" in s["if"] for s in writers)
    [notice] = [s for s in steps if "::notice" in s.run]
    said = run_step(notice, workspace.root, workspace.runner)
    assert said.returncode == 0 and "comes from a fork" in said.output


def test_the_deploy_workflow_runs_green_for_every_environment_in_turn(
    workspace: Workspace,
) -> None:
    steps = workflow_steps(EXAMPLES / "deploy.yml", contexts())
    assert [s.matrix["environment"] for s in steps if "status" in s.run] == [
        "dev",
        "staging",
        "prod",
    ]
    run_all(steps, workspace)
    summary = (workspace.runner / "step_summary.md").read_text()
    assert summary.count("✅ in sync") == 3
    for environment in ("dev", "staging", "prod"):
        assert (workspace.root / "build" / environment / "smtp.json").is_file()


def test_the_drift_workflow_passes_in_sync_and_fails_while_anything_drifts(
    workspace: Workspace,
) -> None:
    run_all(workflow_steps(EXAMPLES / "deploy.yml", contexts()), workspace)
    drift = [s for s in workflow_steps(EXAMPLES / "drift.yml", contexts()) if calls_smtp_gitops(s)]
    assert [s.matrix["environment"] for s in drift] == ["dev", "staging", "prod"]
    summary = workspace.runner / "step_summary.md"
    summary.unlink()
    run_all(drift, workspace)
    assert summary.read_text().count("✅ in sync") == 3
    # Someone edits prod's file on the node's disk: the scheduled run fails, with the table.
    summary.unlink()
    (workspace.root / "build" / "prod" / "smtp.json").write_text("{}\n")
    results = [run_step(s, workspace.root, workspace.runner) for s in drift]
    assert [r.returncode for r in results] == [0, 0, 1]
    assert "file-changed" in summary.read_text()


def test_the_drift_workflow_is_scheduled_and_reports_to_the_job_summary() -> None:
    workflow = load(EXAMPLES / "drift.yml")
    assert workflow["on"]["schedule"][0]["cron"]
    [job] = workflow["jobs"].values()
    assert job["strategy"]["fail-fast"] is False
    [step] = [s for s in job["steps"] if "smtp-gitops status" in s.get("run", "")]
    assert "$GITHUB_STEP_SUMMARY" in step["run"] and 'exit "$status"' in step["run"]


def test_action_yml_matches_the_github_action_metadata_schema() -> None:
    checked = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-actions",
            str(REPO / "action.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize(
    "inputs",
    [{}, {"plan": "true", "paths": "environments/prod environments/staging"}],
    ids=["defaults", "plan-and-paths"],
)
def test_the_action_steps_run_green(workspace: Workspace, inputs: dict[str, str]) -> None:
    action = Contexts(SECRETS, {}, inputs, GITHUB)
    steps = action_steps(REPO / "action.yml", action)
    assert all(s.shell == "bash" for s in steps)
    extra = {"GITHUB_ACTION_PATH": str(REPO)}
    ran = []
    for step in steps:
        if calls_smtp_gitops(step):
            result = run_step(step, workspace.root, workspace.runner, extra)
            assert result.returncode == 0, (step.name, result.output)
            ran.append(step.name)
    assert ran == ["Validate", "SARIF", "Plan"]
    assert json.loads((workspace.root / "smtp-gitops.sarif").read_text())["version"] == "2.1.0"
    assert "file=smtp-gitops.sarif" in (workspace.runner / "output").read_text()
    assert (workspace.runner / "smtp-gitops-plan.md").read_text().startswith("## smtp-gitops plan")


def test_the_runner_refuses_an_expression_it_does_not_know() -> None:
    with pytest.raises(KeyError):
        Contexts().substitute("${{ github.event.head_commit.message }}")
