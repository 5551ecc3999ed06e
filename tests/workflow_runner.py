"""Run the ``run:`` steps of a GitHub workflow (or a composite action) here, each with exactly the
environment GitHub would give it: the workflow's, the job's and the step's ``env``, with
``${{ secrets.X }}`` as a dummy value, each matrix value in turn, and the runner's own files
(``GITHUB_STEP_SUMMARY``, ``GITHUB_OUTPUT``, ``RUNNER_TEMP``).

Expressions are evaluated for the contexts the examples use; any other expression is an error,
so a workflow cannot pass here by using something this runner does not understand.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
COMPARISON = re.compile(r"^(.+?)\s*(==|!=)\s*(.+)$")


def load(path: Path) -> Any:
    # GitHub reads YAML 1.1-ish, but `on` is a string key there; the safe loader keeps it one.
    return YAML(typ="safe", pure=True).load(path.read_text())


@dataclass
class Contexts:
    """What ``${{ }}`` may name: secrets (each a dummy unless given), the matrix, the inputs of
    a composite action, and the parts of ``github`` the examples read."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    matrix: Mapping[str, str] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    github: Mapping[str, str] = field(default_factory=dict)

    def value(self, name: str) -> str:
        if name.startswith("'") and name.endswith("'"):
            return name[1:-1]
        context, _, rest = name.partition(".")
        if context == "secrets":
            return self.secrets.get(rest, f"dummy-{rest}")
        table: Mapping[str, str] | None = {
            "matrix": self.matrix,
            "inputs": self.inputs,
            "github": self.github,
        }.get(context)
        if table is None or rest not in table:
            raise KeyError(f"this runner does not know ${{{{ {name} }}}}")
        return table[rest]

    def evaluate(self, expression: str) -> str:
        comparison = COMPARISON.match(expression)
        if comparison is not None:
            left, operator, right = comparison.groups()
            same = self.value(left.strip()) == self.value(right.strip())
            return "true" if same == (operator == "==") else "false"
        return self.value(expression)

    def substitute(self, text: str) -> str:
        return EXPRESSION.sub(lambda found: self.evaluate(found.group(1)), text)


@dataclass
class Step:
    job: str
    matrix: dict[str, str]
    name: str
    run: str
    env: dict[str, str]
    shell: str | None


def _env(block: Mapping[str, Any] | None, contexts: Contexts) -> dict[str, str]:
    return {str(k): contexts.substitute(str(v)) for k, v in (block or {}).items()}


def _matrices(job: Mapping[str, Any]) -> Iterator[dict[str, str]]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    names = [name for name in matrix if name not in ("include", "exclude")]
    for values in itertools.product(*(matrix[name] for name in names)):
        yield dict(zip(names, map(str, values), strict=True))


def workflow_steps(path: Path, contexts: Contexts) -> list[Step]:
    """Every ``run:`` step of the workflow, once per matrix value, in the order GitHub runs
    them (with ``max-parallel: 1``)."""
    workflow = load(path)
    steps = []
    for job_name, job in workflow["jobs"].items():
        for matrix in _matrices(job):
            here = Contexts(contexts.secrets, matrix, contexts.inputs, contexts.github)
            env = {**_env(workflow.get("env"), here), **_env(job.get("env"), here)}
            for number, step in enumerate(job["steps"]):
                if "run" in step:
                    steps.append(
                        Step(
                            job_name,
                            matrix,
                            step.get("name", f"step {number}"),
                            step["run"],
                            {**env, **_env(step.get("env"), here)},
                            step.get("shell"),
                        )
                    )
    return steps


def action_steps(path: Path, contexts: Contexts) -> list[Step]:
    """The ``run:`` steps of a composite action, its inputs at their defaults unless given."""
    action = load(path)
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    here = Contexts(contexts.secrets, {}, {**defaults, **contexts.inputs}, contexts.github)
    return [
        Step(
            "action",
            {},
            step.get("name", "step"),
            step["run"],
            _env(step.get("env"), here),
            step["shell"],
        )
        for step in action["runs"]["steps"]
        if "run" in step
    ]


def calls_smtp_gitops(step: Step) -> bool:
    return re.search(r"(^|[\s;|&(])smtp-gitops\s", step.run) is not None


@dataclass
class Ran:
    step: Step
    returncode: int
    output: str


def run_step(step: Step, cwd: Path, runner: Path, extra: Mapping[str, str] | None = None) -> Ran:
    """Run one step the way the GitHub runner does: its script through bash (``-e`` by
    default; ``shell: bash`` adds ``-o pipefail``), with only the runner's environment and the
    step's own, and ``smtp-gitops`` on ``PATH`` from this interpreter's installation."""
    runner.mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
        "HOME": str(runner),
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(runner / "step_summary.md"),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_ENV": str(runner / "env"),
        "RUNNER_TEMP": str(runner),
        "GITHUB_WORKSPACE": str(cwd),
        **(extra or {}),
        **step.env,
    }
    flags = ["--noprofile", "--norc", "-eo", "pipefail"] if step.shell == "bash" else ["-e"]
    done = subprocess.run(
        ["bash", *flags, "-c", step.run],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return Ran(step, done.returncode, done.stdout + done.stderr)
