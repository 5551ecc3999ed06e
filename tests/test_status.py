"""`smtp-gitops status`: drift between git, the last deploy, the file and every node, with real
portal nodes on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import write_env
from tests.portal import SECRET, digest_of, portal
from tests.test_deploy import PASSWORD, env, settings

__all__ = ["env"]  # the deploy tests' fixture: a checkout with the secrets deploy needs


def status(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["status", *args])
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert PASSWORD not in output and SECRET not in output
    return code, output


def deploy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", "prod"]) == 0, capsys.readouterr()
    capsys.readouterr()


def findings(capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, str]]]:
    code, output = status(capsys, "--format", "json")
    [environment] = json.loads(output)["environments"]
    assert environment["inSync"] is (code == 0)
    return code, environment["findings"]


def test_in_sync_after_a_deploy(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node1, portal(config=str(out)) as node2:
        write_env(env, "prod", settings(out, [node1.url, node2.url]))
        deploy(capsys)
        code, output = status(capsys)
        assert code == 0, output
        assert f"prod: in sync (configDigest {digest_of(out.read_bytes())[:12]}" in output
        assert "2 node(s)" in output
        code, output = status(capsys, "--format", "json")
    document = json.loads(output)
    assert code == 0
    assert document["summary"] == {"environments": 1, "inSync": 1, "drifted": 0, "unchecked": 0}
    assert document["errors"] == []
    [prod] = document["environments"]
    assert prod["inSync"] and prod["findings"] == []
    assert prod["desiredDigest"] == prod["deployedDigest"] == digest_of(out.read_bytes())


def test_never_deployed(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url]))
        code, found = findings(capsys)
    assert code == 1
    assert [(f["kind"], f["node"]) for f in found] == [
        ("not-deployed", None),
        ("node-drift", node.url),
    ]


def test_git_changed_since_the_deploy(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url], port=1025))
        deploy(capsys)
        write_env(env, "prod", settings(out, [node.url], port=2525))
        code, found = findings(capsys)
    assert code == 1
    assert [f["kind"] for f in found] == ["not-deployed"], "the node still runs the deployed one"


def test_file_changed_by_hand(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url]))
        deploy(capsys)
        out.write_text(out.read_text().replace("587", "25"))
        code, found = findings(capsys)
        assert [f["kind"] for f in found] == ["file-changed"]
        out.unlink()
        code, output = status(capsys)
    assert code == 1 and "file-changed: " in output and "is missing" in output


def test_node_drift_and_restarted_node(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node1, portal(config=str(out)) as node2:
        write_env(env, "prod", settings(out, [node1.url, node2.url]))
        deploy(capsys)
        assert node1.state.last_reload is not None
        node1.state.last_reload["configDigest"] = digest_of(b"something else")
        node2.state.last_reload = None  # restarted, has not reloaded since
        code, output = status(capsys)
    assert code == 1
    assert f"node-drift {node1.url}: runs configDigest {digest_of(b'something else')[:12]}" in (
        output
    )
    assert f"node-drift {node2.url}: has not reloaded since it started" in output


def test_node_unreachable(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url]))
        deploy(capsys)
    code, found = findings(capsys)
    assert code == 1
    assert [(f["kind"], f["node"]) for f in found] == [("node-unreachable", node.url)]
    assert "connection failed" in found[0]["message"]


def test_deploy_incomplete(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url], port=1025))
        deploy(capsys)
        with portal([500, 500]) as bad:
            write_env(env, "prod", settings(out, [node.url, bad.url], port=2525))
            assert main(["deploy", "prod"]) == 1
            capsys.readouterr()
            bad.state.last_reload = node.state.last_reload
            code, found = findings(capsys)
    kinds = [f["kind"] for f in found]
    assert code == 1 and "deploy-incomplete" in kinds and "not-deployed" in kinds
    incomplete = next(f for f in found if f["kind"] == "deploy-incomplete")
    assert "rolled-back" in incomplete["message"]


def test_markdown_and_every_environment_by_default(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = env / "smtp.json"
    with portal(config=str(out)) as node:
        write_env(env, "prod", settings(out, [node.url]))
        deploy(capsys)
        write_env(
            env,
            "other",
            settings(env / "other.json", [node.url]).replace(
                "environment: prod", "environment: other"
            ),
        )
        code, output = status(capsys, "--format", "markdown")
    assert code == 1
    assert "| `other` | ⚠️ not-deployed |" in output
    assert "| `prod` | ✅ in sync |" in output


def test_status_needs_the_secrets_deploy_needs(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(env, "prod", settings(env / "smtp.json", ["http://127.0.0.1:9/r"]))
    monkeypatch.delenv("PORTAL_RELOAD_SECRET")
    code, output = status(capsys, "prod")
    assert code == 2 and "PORTAL_RELOAD_SECRET" in output


def test_a_trickling_node_is_unreachable_within_its_timeout(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from tests.portal import raw_node, trickle

    with raw_node(trickle) as url:
        write_env(env, "prod", settings(env / "smtp.json", [url], timeout=1))
        started = time.monotonic()
        code, found = findings(capsys)
        elapsed = time.monotonic() - started
    assert code == 1 and elapsed < 5
    assert ("node-unreachable", url) in [(f["kind"], f["node"]) for f in found]
    assert "no complete answer within 1 s" in next(f["message"] for f in found if f["node"])
