"""Drift: does every node run what git says? Report-only, like Argo CD's Synced/OutOfSync.

For one environment it compares four things: the config git describes (rendered as deploy
would, digested with the reload key), what the last successful deploy left (the state file),
the file on disk, and what each node says it last loaded (a signed ``GET`` on its reload URL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from smtp_gitops.deploy.delivery import query_all
from smtp_gitops.deploy.deploy import MAX_OUTPUT_BYTES, signing_key_for
from smtp_gitops.deploy.deploy_state import SUCCEEDED, load_state
from smtp_gitops.deploy.safe_files import read_regular_if_exists
from smtp_gitops.deploy.webhook import config_digest
from smtp_gitops.render.render import render_settings
from smtp_gitops.settings.discovery import in_repository, repository_root
from smtp_gitops.settings.model import Settings
from smtp_gitops.settings.untrusted_text import printable

NOT_DEPLOYED = "not-deployed"
FILE_CHANGED = "file-changed"
NODE_DRIFT = "node-drift"
NODE_UNREACHABLE = "node-unreachable"
DEPLOY_INCOMPLETE = "deploy-incomplete"


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    message: str
    node: str | None = None


@dataclass(slots=True)
class EnvironmentStatus:
    environment: str
    output: str
    desiredDigest: str | None = None
    deployedDigest: str | None = None
    deployId: str | None = None
    revision: str | None = None
    nodes: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def in_sync(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["inSync"] = self.in_sync
        return data


def short(digest: object) -> str:
    """The start of a digest, for display: text a node or a state file supplied, so escaped
    (a newline cannot forge a workflow command) and bounded."""
    if not isinstance(digest, str) or not digest:
        return "none"
    return printable(digest[:12])


def environment_status(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    repository: str | None = None,
) -> EnvironmentStatus:
    """Compare git, the state, the file and the nodes; changes nothing."""
    env = os.environ if environ is None else environ
    written = settings.spec.render.output
    assert written is not None, "callers pick environments with an output"
    # Read where the repository's path leads from here; said as written, so the report (its
    # json too) is the same from any folder.
    output = in_repository(written, repository or repository_root(os.getcwd()))
    reload = settings.spec.reload
    key = signing_key_for(reload, env)[0] if reload else None
    desired = render_settings(settings, environ=env, repository=repository).encode("utf-8")
    state = load_state(output)
    status = EnvironmentStatus(settings.metadata.environment, written)
    found = status.findings
    unusable: str | None = None
    try:
        on_disk = read_regular_if_exists(output, MAX_OUTPUT_BYTES)
    except OSError as error:
        on_disk, unusable = None, error.strerror or str(error)
    if unusable is not None:
        found.append(Finding(FILE_CHANGED, f"{written} cannot be read as the config: {unusable}"))

    if key is None:
        # Without a reload key there is no digest: compare the file with git directly.
        if on_disk != desired:
            found.append(Finding(NOT_DEPLOYED, f"{written} does not hold the config git describes"))
        return status

    desired_digest = config_digest(key, desired)
    deployed = state.deployed
    status.desiredDigest = desired_digest
    status.deployedDigest = deployed.configDigest if deployed else None
    status.deployId = deployed.deployId if deployed else None
    status.revision = deployed.revision if deployed else None
    if deployed is None:
        found.append(Finding(NOT_DEPLOYED, "no successful deploy is recorded for this output"))
    elif deployed.dirty:
        found.append(
            Finding(
                NOT_DEPLOYED,
                "the deployed config came from uncommitted changes on top of revision "
                f"{printable((deployed.revision or 'unknown')[:12])}: git does not hold it",
            )
        )
    elif deployed.configDigest != desired_digest:
        found.append(
            Finding(
                NOT_DEPLOYED,
                f"git's config (configDigest {short(desired_digest)}) is not the deployed one "
                f"(configDigest {short(deployed.configDigest)}, revision "
                f"{printable((deployed.revision or 'unknown')[:12])})",
            )
        )
    last = state.last
    if last is not None and last.result != SUCCEEDED:
        found.append(
            Finding(
                DEPLOY_INCOMPLETE,
                f"the last deploy ({printable(last.deployId[:12])}, started "
                f"{printable(last.startedAt[:40])}) ended {printable(last.result[:40])}",
            )
        )
    if state.problem:
        found.append(Finding(DEPLOY_INCOMPLETE, state.problem))
    expected = deployed.configDigest if deployed else desired_digest
    if on_disk is None:
        if deployed is not None and unusable is None:
            found.append(Finding(FILE_CHANGED, f"{written} is missing"))
    elif deployed is not None and config_digest(key, on_disk) != deployed.configDigest:
        found.append(Finding(FILE_CHANGED, f"{written} was changed after the last deploy wrote it"))

    assert reload is not None
    status.nodes = len(reload.targets)
    found.extend(_node_findings(reload.targets, key, reload.timeoutSeconds, expected))
    return status


def _node_findings(
    targets: list[str], key: bytes, timeout: float, expected: str | None
) -> list[Finding]:
    """What each node says it last loaded, against ``expected``."""
    found = []
    for node in query_all(targets, key, timeout):
        if not node.reachable:
            found.append(Finding(NODE_UNREACHABLE, f"no status: {node.reason}", node.url))
        elif node.reloaded is None:
            found.append(Finding(NODE_DRIFT, "has not reloaded since it started", node.url))
        elif node.reloaded.get("configDigest") != expected:
            found.append(
                Finding(
                    NODE_DRIFT,
                    f"runs configDigest {short(node.reloaded.get('configDigest'))}"
                    f", expected {short(expected)}",
                    node.url,
                )
            )
    return found
