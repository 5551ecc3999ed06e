"""smtp-gitops as a pre-commit hook: the real `pre-commit` program refuses a commit with a bad
settings file and accepts a good one. Building the hook's environment installs this repository
(at its committed HEAD) and its dependencies from the package registry."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import VALID, write_env

REPO = Path(__file__).resolve().parent.parent


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path: Path, pre_commit_home: Path) -> tuple[Path, dict[str, str]]:
    head = git(REPO, "rev-parse", "HEAD").stdout.strip()
    assert head, "the hook is installed from this repository's committed HEAD"
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "config", "user.email", "dev@example.com")
    git(tmp_path, "config", "user.name", "Dev")
    (tmp_path / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {REPO}\n    rev: {head}\n    hooks:\n      - id: smtp-gitops-validate\n"
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(pre_commit_home), "NO_COLOR": "1"}
    env.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert installed.returncode == 0, installed.stderr
    return tmp_path, env


def commit(
    project: Path, env: dict[str, str], *paths: str, message: str = "smtp settings"
) -> subprocess.CompletedProcess[str]:
    """``git add`` the ``paths`` (everything by default), then commit through the hook."""
    subprocess.run(["git", "add", *(paths or ["-A"])], cwd=project, check=True)
    return commit_staged(project, env, message)


def commit_staged(
    project: Path, env: dict[str, str], message: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """``git commit OPTIONS`` of what is staged, through the hook."""
    return subprocess.run(
        ["git", "commit", *options, "-m", message],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )


def test_commit_with_a_bad_file_is_refused_with_the_diagnostic(
    project: tuple[Path, dict[str, str]],
) -> None:
    path, env = project
    write_env(path, "prod", VALID.replace("{fromEnv: SMTP_PRIMARY_PASSWORD}", "hunter2"))
    result = commit(path, env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "smtp-gitops validate" in output and "Failed" in output
    assert "environments/prod/smtp.yaml:14:17: error plaintext-secret:" in output
    assert git(path, "rev-parse", "--verify", "HEAD").returncode != 0  # nothing was committed


def test_commit_with_a_good_file_passes(project: tuple[Path, dict[str, str]]) -> None:
    path, env = project
    write_env(path, "prod", VALID)
    result = commit(path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smtp-gitops validate....." in result.stderr and "Passed" in result.stderr


def test_hook_entry_with_filenames_as_pre_commit_calls_it(tmp_path: Path) -> None:
    good = write_env(tmp_path, "prod", VALID)
    bad = write_env(
        tmp_path,
        "dev",
        VALID.replace("environment: prod", "environment: dev").replace("port: 587", "port: x"),
    )
    run = [sys.executable, "-m", "smtp_gitops", "validate"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout
    failed = subprocess.run(
        [*run, str(good), str(bad)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert f"{bad}:11:13: error schema:" in failed.stdout


def test_hook_definition_matches_settings_files() -> None:
    import re

    from ruamel.yaml import YAML

    [hook] = YAML(typ="safe", pure=True).load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "smtp-gitops-validate"
    assert hook["entry"] == "smtp-gitops validate --staged"
    assert hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("environments/prod/smtp.yaml")
    assert pattern.search("environments/base/smtp.yml")
    # Wherever the configured root is: <root>/<env>/smtp.yaml at any depth.
    assert pattern.search("deploy/environments/prod/smtp.yaml")
    assert not pattern.search("docs/smtp.yaml")
    assert not pattern.search("smtp.yaml")


PROD_OVER_BASE = """\
apiVersion: smtp-gitops/v1
kind: SmtpSettings
metadata:
  environment: prod
spec:
  sets:
    - name: primary
      enabled: true
      redirectToReportEmails: true
"""


BASE = VALID.replace("environment: prod", "environment: base").replace("  production: true\n", "")


def _committed_base_and_prod(path: Path, env: dict[str, str]) -> str:
    write_env(path, "base", BASE)
    write_env(path, "prod", PROD_OVER_BASE)
    first = commit(path, env)
    assert first.returncode == 0, first.stdout + first.stderr
    return BASE


def test_changing_base_through_the_hook_checks_the_environments_built_on_it(
    project: tuple[Path, dict[str, str]],
) -> None:
    path, env = project
    base = _committed_base_and_prod(path, env)
    # Only base changes: it is fine alone, but prod redirects all mail to base's report list.
    write_env(path, "base", base.split("      reportEmails:")[0])
    result = commit(path, env)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "environments/prod/smtp.yaml:9:31: error redirect-without-recipients:" in output
    assert "2 files checked: 1 error" in output


def test_the_hook_checks_what_the_commit_holds(project: tuple[Path, dict[str, str]]) -> None:
    path, env = project
    base = _committed_base_and_prod(path, env)
    # Work in progress that is not part of the commit: an untracked environment and a stray
    # file, both broken, and a broken edit of prod left unstaged.
    write_env(path, "wip", 'apiVersion: smtp-gitops/v1\nspec: {sets: [{port: "x"}]}\n')
    (path / "environments" / "prod" / "notes.yaml").write_text("draft: true\n")
    prod = path / "environments" / "prod" / "smtp.yaml"
    prod.write_text(prod.read_text() + "  bogus: key\n")
    write_env(path, "base", base.replace("port: 587", "port: 2525"))
    only_base = commit(path, env, "environments/base/smtp.yaml", message="base on port 2525")
    assert only_base.returncode == 0, only_base.stdout + only_base.stderr
    assert "bogus: key" in prod.read_text(), "the unstaged edit is left as it was"
    # A broken change that is staged is refused, whatever the work tree says.
    write_env(path, "base", base.replace("port: 587", 'port: "587"'))
    subprocess.run(["git", "add", "environments/base/smtp.yaml"], cwd=path, check=True)
    write_env(path, "base", base)
    refused = commit_staged(path, env, "quoted port")
    assert refused.returncode != 0
    assert "environments/base/smtp.yaml:10:13: error schema" in refused.stdout + refused.stderr
    # `git commit -a` stages the tracked edits for the hook (a temporary index): prod's broken
    # edit is now part of the commit, and is refused.
    subprocess.run(["git", "reset", "-q"], cwd=path, check=True)
    with_all = commit_staged(path, env, "everything tracked", "-a")
    assert with_all.returncode != 0
    assert "unknown key `bogus`" in with_all.stdout + with_all.stderr


def pre_commit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_manifest_and_this_repositorys_config_are_valid_for_pre_commit() -> None:
    manifest = pre_commit("validate-manifest", ".pre-commit-hooks.yaml")
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    config = pre_commit("validate-config", ".pre-commit-config.yaml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_local_hook_of_this_repository_matches_the_published_one() -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    [published] = yaml.load((REPO / ".pre-commit-hooks.yaml").read_text())
    config = yaml.load((REPO / ".pre-commit-config.yaml").read_text())
    local = next(
        hook
        for repo in config["repos"]
        if repo["repo"] == "local"
        for hook in repo["hooks"]
        if hook["id"] == published["id"]
    )
    for key in ("entry", "files"):
        assert local[key] == published[key], key
