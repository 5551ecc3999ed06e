"""Around the edges every command says the truth: nothing found is an error, outputs replace only
regular files, and a literal secret is reported whatever else is wrong."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.helpers import VALID, git, write_env


@pytest.mark.parametrize(
    "args",
    [["--root", "nosuch"], [], ["dve"]],
    ids=["a-root-that-does-not-exist", "outside-a-repository", "a-typo"],
)
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_drift_check_that_finds_nothing_does_not_pass(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    output_format: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["status", *args, "--format", output_format]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("Error: ")
    if output_format == "json":
        document = json.loads(captured.out)
        assert document["errors"] and document["summary"]["unchecked"] >= 1


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: "/dev/full", "is a character device"),
        (lambda d: _fifo(d / "fifo"), "is a FIFO"),
        (lambda d: ((d / "link").symlink_to(d / "target"), str(d / "link"))[1], "symbolic link"),
        (lambda d: "/nonexistent/dir/x.json", "the folder /nonexistent does not exist"),
        (
            lambda d: ((d / "file").write_text("x"), str(d / "file" / "x.json"))[1],
            "is not a folder",
        ),
    ],
    ids=["device", "fifo", "link", "missing-folder", "file-as-folder"],
)
def test_render_out_replaces_only_a_regular_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    make: object,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    write_env(tmp_path, "prod", VALID)
    out = make(tmp_path)  # type: ignore[operator]
    before = os.lstat(out) if os.path.lexists(out) else None
    assert main(["render", "prod", "--out", out]) == 2
    assert message in capsys.readouterr().err
    after = os.lstat(out) if os.path.lexists(out) else None
    assert (before and after and before.st_ino == after.st_ino) or before is after is None
    assert not Path("/nonexistent").exists(), "no folder is created outside the repository"


def test_a_literal_password_is_reported_with_a_schema_error(
    check: object,
) -> None:
    text = VALID.replace("port: 587", 'port: "587"').replace(
        "{fromEnv: SMTP_PRIMARY_PASSWORD}", "hunter2-literal"
    )
    found = check(text)  # type: ignore[operator]
    assert sorted(d.rule for d in found) == ["plaintext-secret", "schema"]
    assert all("hunter2" not in d.message for d in found)


# Deploy and status tell what they know.


def test_a_lock_timeout_names_the_holders_deploy_id(tmp_path: Path) -> None:
    from tests.portal import portal
    from tests.test_deploy import settings, spawn_deploy, wait_for

    out = tmp_path / "smtp.json"
    with portal(delay=3) as node:
        write_env(tmp_path, "prod", settings(out, [node.url], retries=0, timeout=10))
        first = spawn_deploy(tmp_path)
        wait_for(lambda: len(node.state.deliveries) == 1)
        second = spawn_deploy(tmp_path, "--lock-timeout", "0.3")
        output = second.communicate(timeout=30)[0]
        first.communicate(timeout=30)
    assert second.returncode == 1
    deploy_id = json.loads(node.state.deliveries[0].body)["data"]["deployId"]
    assert f"deployId {deploy_id}" in output, output


def test_a_rejected_signature_is_said_as_that(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64

    from tests.portal import SECRET, portal
    from tests.test_deploy import PASSWORD, settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    other = "whsec_" + base64.b64encode(b"another-node-secret-0123456789").decode()
    with portal(secret=other) as node:
        write_env(tmp_path, "prod", settings(tmp_path / "smtp.json", [node.url], retries=0))
        assert main(["deploy", "prod"]) == 1
        deployed = capsys.readouterr()
        assert main(["status", "prod"]) == 1
        status = capsys.readouterr()
    for shown in (deployed.out, status.out):
        assert "the node rejected the signature: is the reload secret the node's secret?" in shown


def test_a_deploy_from_a_dirty_tree_warns_records_it_and_status_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.portal import SECRET, portal
    from tests.test_deploy import PASSWORD, settings, state_of

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    out = tmp_path / "build" / "smtp.json"
    (tmp_path / ".gitignore").write_text("build/\n")
    git(tmp_path, "init", "-q")
    with portal() as node:
        write_env(tmp_path, "prod", settings(out, [node.url]))
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "-qm", "one")
        write_env(tmp_path, "prod", settings(out, [node.url], port=2525))
        assert main(["deploy", "prod", "--require-clean"]) == 2
        assert "uncommitted changes" in capsys.readouterr().err
        assert main(["deploy", "prod"]) == 0
        assert "warning: the work tree has uncommitted changes" in capsys.readouterr().out
        assert state_of(out)["deployed"]["dirty"] is True
        history = (tmp_path / "build" / "smtp.json.history.jsonl").read_text()
        assert json.loads(history.splitlines()[-1])["dirty"] is True
        assert main(["status", "prod"]) == 1
        assert "came from uncommitted changes" in capsys.readouterr().out


# The receiver's own arguments, the schema compiler, the API.


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "99999"], "is not a port"),
        (["--host", "192.0.2.1", "--port", "8799"], "cannot listen on 192.0.2.1:8799"),
        (["--exec-timeout", "soon"], "is not a number of seconds"),
    ],
)
def test_the_receivers_arguments_are_checked(args: list[str], message: str) -> None:
    import subprocess
    import sys

    from tests.portal import SECRET

    done = subprocess.run(
        [sys.executable, "-m", "smtp_gitops.receiver", *args],
        env={**os.environ, "PORTAL_RELOAD_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_port_in_use_is_a_clear_error() -> None:
    import socket
    import subprocess
    import sys

    from tests.portal import SECRET

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "smtp_gitops.receiver", "--port", str(port)],
            env={**os.environ, "PORTAL_RELOAD_SECRET": SECRET},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert done.returncode == 2 and "Address already in use" in done.stderr


def test_the_schema_compiler_has_help_and_check(capsys: pytest.CaptureFixture[str]) -> None:
    from smtp_gitops.lint import schema_compiler

    compiled = sorted(schema_compiler.COMPILED.glob("*.py"))
    before = [p.stat().st_mtime_ns for p in compiled]
    with pytest.raises(SystemExit) as done:
        schema_compiler.main(["--help"])
    assert done.value.code == 0 and "--check" in capsys.readouterr().out
    assert schema_compiler.main(["--check"]) == 0
    assert [p.stat().st_mtime_ns for p in compiled] == before, "help and check write nothing"


def test_validate_paths_takes_a_single_path_as_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smtp_gitops import validate_paths

    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "prod", VALID)
    report = validate_paths("environments")
    assert report.files == ["environments/prod/smtp.yaml"] and report.problems == []


# Plan for machines and gates.


@pytest.fixture
def planned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    write_env(tmp_path, "prod", VALID)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    return tmp_path


def test_plan_json_and_exit_code(planned: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--base", "HEAD", "--exit-code"]) == 0
    capsys.readouterr()
    write_env(planned, "prod", VALID.replace("port: 587", "port: 2525"))
    assert main(["plan", "--base", "HEAD", "--exit-code", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    [environment] = document["environments"]
    assert environment["status"] == "changed"
    assert {"field": "sets.primary.Port", "before": "587", "after": "2525"} in environment[
        "changes"
    ]
    assert document["summary"] == {"environments": 1, "changed": 1}


def test_plan_shows_no_defaults_and_an_invalid_side_once(
    planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reload = (
        "  reload:\n    targets: [https://portal.example.com/r]\n"
        "    secretFromEnv: PORTAL_RELOAD_SECRET\n"
    )
    write_env(planned, "prod", VALID + reload)
    assert main(["plan", "--base", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert "reload.targets" in out
    assert "reload.timeoutSeconds" not in out and "reload.retries" not in out
    write_env(planned, "prod", VALID.replace("port: 587", 'port: "587"'))
    assert main(["plan", "--base", "HEAD", "--format", "json"]) == 0
    [environment] = json.loads(capsys.readouterr().out)["environments"]
    assert environment["status"] == "invalid" and environment["changes"] == []
    assert main(["plan", "--base", "HEAD"]) == 0
    text = capsys.readouterr().out
    assert "invalid in the work tree (1 error)" in text and " → —" not in text


def test_a_repository_without_commits_plans_against_the_empty_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    write_env(tmp_path, "prod", VALID)
    assert main(["plan", "--format", "json"]) == 0
    [environment] = json.loads(capsys.readouterr().out)["environments"]
    assert environment["status"] == "added"


# One settings file per environment folder, in every command.


@pytest.mark.parametrize("stray", ["smtp.yml", "extra.yaml", "Smtp.yaml"])
@pytest.mark.parametrize(
    "command",
    [
        ["validate"],
        ["render", "prod"],
        ["status", "prod"],
        ["deploy", "prod"],
        ["plan"],
        ["migrate", "--check"],
        ["check-connection", "prod"],
    ],
)
def test_a_second_yaml_file_beside_the_settings_is_exit_2(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stray: str,
    command: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    git(tmp_path, "init", "-q")
    path = write_env(tmp_path, "prod", VALID + "  render:\n    output: build/x.json\n")
    (path.parent / stray).write_text(VALID.replace("port: 587", "port: 2525"))
    assert main(command) == 2
    err = capsys.readouterr().err
    assert f"holds {stray} beside smtp.yaml: one settings file per environment folder" in err
    assert "environments/prod: environments/prod" not in err, "the folder is named once"
    assert not (tmp_path / "build").exists()


def test_an_excerpt_is_capped_in_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: " + "9" * 5000))
    assert main(["validate", "--no-color"]) == 1
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) < 200
    assert "…" in out and out.count("^") <= 120


def test_the_tls_hint_names_the_port_in_use(check: object) -> None:
    text = VALID.replace("port: 587", "port: 1025").replace("enableSsl: true", "enableSsl: false")
    [found] = [d for d in check(text) if d.rule == "port-tls-mismatch"]  # type: ignore[operator]
    assert found.hint is not None and "1025" in found.hint and "587" not in found.hint


def test_the_top_level_help_cuts_no_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from smtp_gitops.commands.cli import LAZY_COMMANDS, cli

    monkeypatch.setenv("COLUMNS", "80")
    text = cli.get_help(click.Context(cli, terminal_width=80))
    commands = text.split("Commands:", 1)[1]
    assert "..." not in commands
    assert all(f"  {name} " in text for name in LAZY_COMMANDS)


# One rule for the root: every command works from any folder of the repository.


def test_commands_find_the_root_from_a_subfolder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".git").mkdir()
    write_env(tmp_path, "prod", VALID)
    deep = tmp_path / "environments" / "prod"
    monkeypatch.chdir(deep)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    assert main(["validate"]) == 0
    assert capsys.readouterr().out == "1 file checked: 0 errors, 0 warnings\n"
    assert main(["render", "prod", "--redact"]) == 0
    assert json.loads(capsys.readouterr().out)["Environment"] == "prod"
    assert main(["migrate", "--check"]) == 1
    assert "1 file(s) checked: 1 would be migrated" in capsys.readouterr().out
    assert main(["init", "qa"]) == 0
    assert (tmp_path / "environments" / "qa" / "smtp.yaml").is_file()
    assert not (deep / "environments").exists(), "never a root inside an environment"


# init says what is true for the version it writes, names the variable, refuses what it cannot do.


def test_init_over_a_base_names_the_variable_and_refuses_auth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    repo = Path(__file__).resolve().parent.parent
    (tmp_path / ".git").mkdir()
    shutil.copytree(repo / "environments" / "base", tmp_path / "environments" / "base")
    monkeypatch.chdir(tmp_path)
    assert main(["init", "uat"]) == 0
    out = capsys.readouterr().out
    assert "provide the OAuth client secret as $SMTP_PRIMARY_CLIENT_SECRET" in out
    text = (tmp_path / "environments" / "uat" / "smtp.yaml").read_text()
    assert "the FIRST enabled set of each category is the one used" in text
    assert main(["init", "uat", "--force", "--auth", "oauth2"]) == 2
    assert "--auth oauth2 cannot be honoured over a base" in capsys.readouterr().err


@pytest.mark.parametrize("output_format", ["github", "sarif", "json"])
def test_machine_formats_name_files_from_the_top_of_the_repository(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    output_format: str,
) -> None:
    (tmp_path / ".git").mkdir()
    write_env(tmp_path, "dev", VALID.replace("environment: prod", "environment: dev"))
    write_env(tmp_path, "staging", VALID.replace("port: 587", "port: 0"))
    monkeypatch.chdir(tmp_path / "environments" / "dev")
    assert main(["validate", "--format", output_format, "../staging"]) == 1
    out = capsys.readouterr().out
    wanted = "environments/staging/smtp.yaml"
    if output_format == "github":
        assert out.startswith(f"::error file={wanted},line=")
    elif output_format == "sarif":
        (result,) = json.loads(out)["runs"][0]["results"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == wanted
        # The same finding keeps its fingerprint whichever folder the check ran from.
        monkeypatch.chdir(tmp_path)
        assert main(["validate", "--format", "sarif"]) == 1
        (from_top,) = json.loads(capsys.readouterr().out)["runs"][0]["results"]
        assert from_top["partialFingerprints"] == result["partialFingerprints"]
        monkeypatch.chdir(tmp_path / "environments" / "dev")
    else:
        assert {d["file"] for d in json.loads(out)["diagnostics"]} == {wanted}
    # The text form stays relative to where it ran, so a terminal can open it.
    assert main(["validate", "../staging"]) == 1
    assert capsys.readouterr().out.startswith("../staging/smtp.yaml:")


# Positions name sets by name: an overlay's author never sees the merged list.

BASE_OF_THREE = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
spec:
  sets:
    - {name: primary, enabled: true, networkHost: smtp.example.com, port: 587,
       username: a@example.com, password: {fromEnv: A}}
    - {name: backup, enabled: false, networkHost: smtp.example.com, port: 587,
       username: a@example.com, password: {fromEnv: A}}
    - {name: spare, enabled: false, networkHost: smtp.example.com, port: 587,
       username: a@example.com, password: {fromEnv: A}}
"""


@pytest.mark.parametrize(
    ("overlay_set", "where"),
    [
        ("- {name: backup, port: 0}", "spec.sets[backup].port"),
        (
            "- {name: extra, enabled: false, networkHost: h.example.com, port: 0,"
            " username: a@example.com, password: {fromEnv: A}}",
            "spec.sets[extra].port",
        ),
        ("- {name: Not A Name, port: 0}", "spec.sets[Not A Name].port"),
        ('- {name: "a\\nb", port: 0}', "spec.sets[3].port"),
    ],
    ids=["a-base-set", "a-new-set-fourth-when-merged", "an-invalid-name", "a-name-of-two-lines"],
)
def test_messages_name_the_set(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    overlay_set: str,
    where: str,
) -> None:
    write_env(tmp_path, "base", BASE_OF_THREE)
    overlay = (
        "apiVersion: smtp-gitops/v1\nkind: SmtpSettings\n"
        "metadata: {environment: qa}\nspec:\n  sets:\n    " + overlay_set + "\n"
    )
    write_env(tmp_path, "qa", overlay)
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--format", "json", "environments/qa"]) == 1
    messages = [d["message"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert any(m.startswith(f"{where}: must be at least 1") for m in messages), messages


# Ignores follow the README's rule whatever else fails: a rule that did not run uses nothing.

BASE_WITH_IGNORE = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
spec:
  sets:
    - {name: primary, enabled: true, networkHost: smtp.example.com, port: PORT,
       username: a@example.com, password: {fromEnv: A}}
    - name: backup
      enabled: true
      networkHost: smtp.example.com
      port: 587
      username: a@example.com
      password: {fromEnv: A}
"""

STAGING_WITH_IGNORE = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata: {environment: staging}
spec:
  sets:
    - name: backup
      enabled: true  # smtp-gitops: ignore[multiple-enabled] -- the failover drill runs here
      port: STAGING_PORT
"""


@pytest.mark.parametrize(
    ("base_port", "staging_port", "broken"),
    [('"587"', "587", "base"), ("587", '"587"', "staging"), ("587", "587", None)],
    ids=["a-schema-error-in-base", "a-schema-error-in-the-environment", "no-error"],
)
def test_an_ignore_is_not_unused_when_its_rule_could_not_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    base_port: str,
    staging_port: str,
    broken: str | None,
) -> None:
    write_env(tmp_path, "base", BASE_WITH_IGNORE.replace("PORT", base_port))
    write_env(tmp_path, "staging", STAGING_WITH_IGNORE.replace("STAGING_PORT", staging_port))
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "--format", "json", "--strict"]) == (1 if broken else 0)
    found = [(d["rule"], d["file"]) for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert found == ([("schema", f"environments/{broken}/smtp.yaml")] if broken else [])
    # An ignore that really suppresses nothing is still said, beside the same schema error.
    (tmp_path / "environments" / "staging" / "smtp.yaml").write_text(
        STAGING_WITH_IGNORE.replace("STAGING_PORT", "587").replace(
            "ignore[multiple-enabled]", "ignore[invalid-host]"
        )
    )
    main(["validate", "--format", "json"])
    rules = [d["rule"] for d in json.loads(capsys.readouterr().out)["diagnostics"]]
    assert ("unused-ignore" in rules) is (broken is None or broken == "staging")


# Texts come from one source that knows every apiVersion, and read as plain text.


def test_rule_texts_know_every_version_and_show_no_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from smtp_gitops.lint.rules import all_rules
    from smtp_gitops.settings.schema import schema_file_name
    from smtp_gitops.settings.vocabulary import API_VERSIONS

    assert main(["validate", "--list-rules"]) == 0
    shown = capsys.readouterr().out
    for rule_id in all_rules():
        assert main(["validate", "--explain", rule_id]) == 0
        shown += capsys.readouterr().out
    assert "``" not in shown
    for rule_id in ("schema", "api-version"):
        assert main(["validate", "--explain", rule_id]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert all(version in text for version in API_VERSIONS), rule_id
    assert main(["validate", "--explain", "schema"]) == 0
    schema_text = capsys.readouterr().out
    assert all(schema_file_name(v) in schema_text for v in ("v1", "v2"))


def test_staged_outside_a_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(tmp_path, "prod", VALID)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["validate", "--staged"]) == 2
    assert "not inside a git work tree" in capsys.readouterr().err


# A pull request's link never gets a file outside the settings shown: not out of the repository
# (the runner's /proc/self/environ), not git's own folder (the checkout token in .git/config).


@pytest.mark.parametrize("where", ["outside", "git-folder"])
@pytest.mark.parametrize("staged", [False, True], ids=["work-tree", "staged"])
def test_a_linked_settings_file_never_shows_what_it_points_at(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    staged: bool,
) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    secret = "token: ghs_NOT_FOR_YOUR_EYES"
    if where == "outside":
        target = tmp_path / "runner-secrets"
        target.write_text(f"{secret}\n\tbroken: [\n")
    else:
        target = repo / ".git" / "config"
        extraheader = "AUTHORIZATION: basic ghs_NOT_FOR_YOUR_EYES"
        subprocess.run(["git", "config", "http.extraheader", extraheader], cwd=repo, check=True)
    write_env(repo, "dev", VALID.replace("environment: prod", "environment: dev"))
    link = repo / "environments" / "evil" / "smtp.yaml"
    link.parent.mkdir()
    link.symlink_to(target)
    monkeypatch.chdir(repo)
    if staged:
        subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    arguments = ["validate", *(["--staged"] if staged else []), "environments"]
    assert main(arguments) in (1, 2)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "ghs_NOT_FOR_YOUR_EYES" not in shown and "repositoryformatversion" not in shown
    assert "environments/evil/smtp.yaml" in shown
    if not staged:
        assert "into its .git folder" in shown


@pytest.mark.parametrize("name", ["README.md", "action.yml", "prod.yaml"])
def test_a_file_that_is_not_a_settings_file_is_told_as_that(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    (tmp_path / name).write_text("name: smtp-gitops\nruns: {using: composite}\n```sh\n")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", name]) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"Error: {name}: not a settings file: settings files are named smtp.yaml or smtp.yml "
        "(<root>/<environment>/smtp.yaml); other names are not read\n"
    )
    assert "yaml-syntax" not in captured.out and "api-version" not in captured.out


def test_staged_findings_show_the_staged_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    path = write_env(tmp_path, "prod", VALID.replace("port: 587", 'port: "587"'))
    git(tmp_path, "add", "-A")
    # The work tree moves on: a comment above, the port fixed; neither is staged.
    path.write_text("# a note\n" + VALID)
    assert main(["validate", "--staged", "--no-color"]) == 1
    assert capsys.readouterr().out.splitlines()[:3] == [
        "environments/prod/smtp.yaml:11:13: error schema: spec.sets[primary].port: expected an "
        "integer, found a string",
        ' 11 |       port: "587"',
        "    |             ^^^^^",
    ]
    assert main(["validate", "--no-color"]) == 0


def test_staged_names_what_is_not_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    draft = write_env(tmp_path, "wip", VALID.replace("environment: prod", "environment: wip"))
    assert main(["validate", "--staged", "environments/wip"]) == 2
    assert capsys.readouterr().err == (
        "Error: environments/wip: no smtp.yaml or smtp.yml found in this folder that is staged "
        "in git\n"
    )
    assert main(["validate", "--staged", str(draft.relative_to(tmp_path))]) == 2
    assert "is not staged in git; `git add` it" in capsys.readouterr().err


def test_staged_many_files_are_read_from_the_index_by_every_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from smtp_gitops.lint.validator import PARALLEL_THRESHOLD

    monkeypatch.chdir(tmp_path)
    git(tmp_path, "init", "-q")
    names = [f"env-{index:03d}" for index in range(PARALLEL_THRESHOLD + 6)]
    for name in names:
        write_env(tmp_path, name, VALID.replace("environment: prod", f"environment: {name}"))
    broken = [names[0], names[-1]]
    for name in broken:
        path = tmp_path / "environments" / name / "smtp.yaml"
        path.write_text(path.read_text().replace("port: 587", "port: 0"))
    git(tmp_path, "add", "-A")
    for name in broken:  # fixed in the work tree only
        path = tmp_path / "environments" / name / "smtp.yaml"
        path.write_text(path.read_text().replace("port: 0", "port: 587"))
    assert main(["validate", "--staged", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert sorted(d["file"] for d in document["diagnostics"]) == [
        f"environments/{name}/smtp.yaml" for name in broken
    ]
    assert document["summary"]["files"] == len(names)


@pytest.mark.parametrize(
    "output", [".git/config", ".git/hooks/post-checkout", ".git", "linked-config"]
)
def test_deploy_never_writes_into_gits_own_folder(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    output: str,
) -> None:
    # git runs what .git/config and .git/hooks say (core.fsmonitor, a hook), and a `.git` file
    # points git at another folder: a merged render.output there would run code.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", "whsec_" + "k" * 32)
    git(tmp_path, "init", "-q")
    (tmp_path / "linked-config").symlink_to(tmp_path / ".git" / "config")
    before = {p: p.read_bytes() for p in (tmp_path / ".git").rglob("*") if p.is_file()}
    write_env(
        tmp_path,
        "prod",
        VALID
        + f"  render:\n    output: {output}\n"
        + "  reload:\n    targets: [https://portal.example.com/reload]\n"
        + "    secretFromEnv: PORTAL_RELOAD_SECRET\n",
    )
    assert main(["deploy", "prod"]) == 2
    assert "is in git's own folder (.git)" in capsys.readouterr().err
    after = {p: p.read_bytes() for p in (tmp_path / ".git").rglob("*") if p.is_file()}
    assert after == before
    assert (tmp_path / ".git").is_dir()


# Every command holds findings against an environment as validate does: inline ignores and the
# configured severities, in render, deploy, plan (both sides), status and check-connection.

LOCAL_REPORTS = VALID.replace("qa@example.com", "dev-team@localhost")


@pytest.fixture
def graded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    git(tmp_path, "init", "-q")
    return tmp_path


def test_configured_severities_hold_in_every_command(
    graded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_env(graded, "prod", LOCAL_REPORTS)
    (graded / "pyproject.toml").write_text(
        '[tool.smtp-gitops.severity]\n"invalid-email" = "warning"\n'
    )
    git(graded, "add", "-A")
    git(graded, "commit", "-qm", "one")
    write_env(graded, "prod", LOCAL_REPORTS.replace("port: 587", "port: 2525"))
    assert main(["validate"]) == 0
    assert main(["render", "prod", "--redact"]) == 0
    assert "warning invalid-email" in capsys.readouterr().err
    assert main(["plan", "--format", "json"]) == 0
    [planned] = json.loads(capsys.readouterr().out)["environments"]
    assert planned["status"] == "changed", planned
    assert planned["before"]["errors"] == planned["after"]["errors"] == 0
    # status checks it (nothing deployed yet: drift, exit 1), rather than calling it invalid.
    write_env(graded, "prod", LOCAL_REPORTS + "  render:\n    output: build/smtp.json\n")
    assert main(["status", "prod"]) == 1
    assert "not-deployed" in capsys.readouterr().out
    # Made stricter, the rule refuses the render as it fails validate.
    (graded / "pyproject.toml").write_text(
        '[tool.smtp-gitops.severity]\n"port-tls-mismatch" = "error"\n"invalid-email" = "off"\n'
    )
    write_env(graded, "prod", LOCAL_REPORTS.replace("enableSsl: true", "enableSsl: false"))
    assert main(["validate"]) == 1
    capsys.readouterr()
    assert main(["render", "prod", "--redact"]) == 1
    err = capsys.readouterr().err
    assert "error port-tls-mismatch" in err and "invalid-email" not in err
    # check-connection refuses before it connects anywhere; deploy likewise.
    for args in (["check-connection", "prod"], ["deploy", "prod", "--dry-run"]):
        assert main(args) == 1, args
        assert "error port-tls-mismatch" in capsys.readouterr().err


def test_plan_honours_inline_ignores_on_both_sides(
    graded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ignored = LOCAL_REPORTS.replace(
        "{email: dev-team@localhost, enabled: true}",
        "{email: dev-team@localhost, enabled: true}"
        "  # smtp-gitops: ignore[invalid-email] -- the catcher takes any address",
    )
    write_env(graded, "prod", ignored)
    git(graded, "add", "-A")
    git(graded, "commit", "-qm", "one")
    write_env(graded, "prod", ignored.replace("port: 587", "port: 2525"))
    assert main(["validate"]) == 0
    capsys.readouterr()
    assert main(["plan", "--format", "json"]) == 0
    [planned] = json.loads(capsys.readouterr().out)["environments"]
    assert planned["before"]["errors"] == planned["after"]["errors"] == 0, planned
    assert planned["changes"] == [{"field": "sets.primary.Port", "before": "587", "after": "2525"}]


def test_configured_production_environments_hold_in_every_command(
    graded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redirected = VALID.replace("  production: true\n", "").replace(
        "      enabled: true\n", "      enabled: true\n      redirectToReportEmails: true\n", 1
    )
    write_env(graded, "prod", redirected)
    (graded / "pyproject.toml").write_text(
        '[tool.smtp-gitops]\nproduction-environments = ["prod"]\n'
        '[tool.smtp-gitops.severity]\n"redirect-in-production" = "error"\n'
    )
    git(graded, "add", "-A")
    git(graded, "commit", "-qm", "one")
    assert main(["validate"]) == 1
    capsys.readouterr()
    assert main(["render", "prod", "--redact"]) == 1
    assert "error redirect-in-production" in capsys.readouterr().err
    write_env(graded, "prod", redirected.replace("port: 587", "port: 2525"))
    assert main(["plan", "--format", "json"]) == 0
    [planned] = json.loads(capsys.readouterr().out)["environments"]
    assert planned["before"]["errors"] == planned["after"]["errors"] == 1, planned


# Paths written in a settings file (render.output, render.template) are the repository's, so
# deploy, status and render mean the same files from any folder of it.


def test_settings_paths_mean_the_same_files_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.portal import SECRET, portal
    from tests.test_deploy import PASSWORD, settings

    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    monkeypatch.setenv("PORTAL_RELOAD_SECRET", SECRET)
    git(tmp_path, "init", "-q")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "host.j2").write_text("{{ effective.networkHost }}\n")
    deep = tmp_path / "environments" / "prod"
    with portal() as node:
        write_env(tmp_path, "prod", settings(Path("build/smtp.json"), [node.url]))
        monkeypatch.chdir(deep)
        assert main(["deploy", "prod"]) == 0
        assert "wrote ../../build/smtp.json" in capsys.readouterr().out
        assert (tmp_path / "build" / "smtp.json").is_file()
        assert not (deep / "build").exists(), "never an output inside the environment folder"
        reports = []
        for folder in (tmp_path, deep):
            monkeypatch.chdir(folder)
            assert main(["status", "prod", "--format", "json"]) == 0
            reports.append(json.loads(capsys.readouterr().out))
        assert reports[0] == reports[1], "status says the same from any folder"
        assert reports[0]["environments"][0]["output"] == "build/smtp.json"
    text = (deep / "smtp.yaml").read_text()
    (deep / "smtp.yaml").write_text(
        text.replace("  render:\n", "  render:\n    template: templates/host.j2\n")
    )
    for folder, override in ((deep, "../../templates/host.j2"), (tmp_path, "templates/host.j2")):
        monkeypatch.chdir(folder)
        assert main(["render", "prod", "--redact"]) == 0
        assert capsys.readouterr().out == "smtp.gmail.com\n"
        # --template is typed from the working folder, like every path on the command line.
        assert main(["render", "prod", "--redact", "--template", override]) == 0
        assert capsys.readouterr().out == "smtp.gmail.com\n"


def test_a_relative_secret_file_is_the_repositorys_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "smtp-password").write_text("from-the-file\n")
    write_env(
        tmp_path,
        "prod",
        VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "{fromFile: secrets/smtp-password}"),
    )
    for folder in (tmp_path, tmp_path / "environments" / "prod"):
        monkeypatch.chdir(folder)
        assert main(["render", "prod"]) == 0
        assert json.loads(capsys.readouterr().out)["EffectiveSet"]["Password"] == "from-the-file"


# A line break in a path or a key a pull request chose never starts a line of its own: CI logs
# read a line that starts with `::` as a workflow command (a forged annotation, a masked value).

FORGED = "\n::error file=README.md,line=1::forged"


def test_text_output_never_lets_a_pull_request_start_a_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", "pw")
    write_env(tmp_path, "prod", VALID + f"  {json.dumps('key' + FORGED)}: 1\n")
    (tmp_path / "environments" / f"wip{FORGED}").mkdir()
    (tmp_path / "environments" / f"wip{FORGED}" / "settings.yaml").write_text("x: 1\n")
    evil = tmp_path / "environments" / f"dev{FORGED}"
    evil.mkdir()
    (evil / "smtp.yaml").write_text("x: [\n")
    runs = [["validate"], ["render", "prod"], ["validate", f"environments/gone{FORGED}"]]
    for args in runs:
        main(args)
        captured = capsys.readouterr()
        shown = (captured.out + captured.err).splitlines()
        assert not [line for line in shown if line.startswith("::")], (args, shown)
    main(["validate"])
    out = capsys.readouterr()
    assert "\\x0a::error file=README.md" in out.out + out.err
