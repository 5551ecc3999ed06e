"""An installable release: one version, named by the changelog and pinned by every doc and
example; an sdist and a wheel that ``twine check`` accepts; and the wheel, installed in a fresh
venv that cannot see the source tree, runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from smtp_gitops.version import __version__
from tests.workflow_runner import Contexts, run_step, workflow_steps

REPO = Path(__file__).resolve().parent.parent
RELEASED = re.compile(r"^## (\d+\.\d+\.\d+) - \d{4}-\d{2}-\d{2}$", re.MULTILINE)
PINNED = re.compile(r"(?:rev: v|@v)(\d+\.\d+\.\d+)\b")


def test_the_version_is_the_changelogs_latest_release() -> None:
    released = RELEASED.findall((REPO / "CHANGELOG.md").read_text())
    assert released and released[0] == __version__


def test_every_doc_and_example_pins_the_released_version() -> None:
    places = [
        REPO / "README.md",
        REPO / ".pre-commit-hooks.yaml",
        REPO / "action.yml",
        *sorted((REPO / "examples" / "github-actions").glob("*.yml")),
    ]
    for place in places:
        pins = PINNED.findall(place.read_text())
        assert pins, f"{place.name} pins no release"
        assert set(pins) == {__version__}, place.name


def test_no_doc_or_example_points_at_a_url_nothing_serves() -> None:
    """Schemas are found through relative modelines; `$id` is an identifier only."""
    texts = [REPO / "README.md", REPO / "action.yml", *REPO.glob("environments/*/smtp.yaml")]
    texts += sorted((REPO / "examples").rglob("*.yml"))
    for path in texts:
        assert "smtp-gitops.dev" not in path.read_text(), path


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # From a clean copy of the committed tree, as a release checkout would build it.
    source = tmp_path_factory.mktemp("source") / "smtp-gitops"
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        relative = Path(os.fsdecode(name))
        if (REPO / relative).is_file():
            (source / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / relative, source / relative)
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def test_python_m_build_gives_an_sdist_and_a_wheel_that_twine_accepts(dist: Path) -> None:
    names = sorted(p.name for p in dist.iterdir())
    assert names == [
        f"smtp_gitops-{__version__}-py3-none-any.whl",
        f"smtp_gitops-{__version__}.tar.gz",
    ]
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2


def test_the_wheel_carries_the_templates_the_compiled_schema_and_py_typed(dist: Path) -> None:
    [wheel] = dist.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "smtp_gitops/py.typed" in names
    assert {
        "smtp_gitops/render/templates/portal-json.j2",
        "smtp_gitops/render/templates/dotenv.j2",
    } <= names
    assert "smtp_gitops/lint/_compiled/settings_v2.py" in names
    assert "smtp_gitops/receiver.py" in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def test_the_wheel_installs_and_runs_in_a_clean_venv(dist: Path, tmp_path: Path) -> None:
    [wheel] = dist.glob("*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    work = tmp_path / "elsewhere"
    shutil.copytree(REPO / "environments", work / "environments")
    # Nothing of the source tree is on the path: only the venv's own installation.
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=work, env=env, capture_output=True, text=True, check=False, timeout=120
        )

    where = run(str(python), "-c", "import smtp_gitops; print(smtp_gitops.__file__)")
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    version = run("smtp-gitops", "--version")
    assert version.stdout == f"smtp-gitops, version {__version__}\n"
    validated = run("smtp-gitops", "validate")
    assert (validated.returncode, validated.stdout) == (
        0,
        "4 files checked: 0 errors, 0 warnings\n",
    )
    rendered = run("smtp-gitops", "render", "staging", "--redact")
    assert rendered.returncode == 0 and '"EffectiveSets"' in rendered.stdout, rendered.stderr
    receiver = run(str(python), "-m", "smtp_gitops.receiver", "--help")
    assert receiver.returncode == 0 and "usage:" in receiver.stdout
    # What a team does next with the release: a repository, a new environment with its schemas,
    # the pre-commit hook's check of the index, and a plan of the change.
    git = ["git", "-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    assert run(*git, "init", "-q").returncode == 0
    assert run(*git, "add", "-A").returncode == 0
    assert run(*git, "commit", "-qm", "settings").returncode == 0
    created = run("smtp-gitops", "init", "qa")
    assert created.returncode == 0, created.stderr
    assert (work / "schema" / "smtp-settings.v2.overlay.schema.json").is_file()
    assert run(*git, "add", "-A").returncode == 0
    staged = run("smtp-gitops", "validate", "--staged")
    assert (staged.returncode, staged.stdout) == (0, "5 files checked: 0 errors, 0 warnings\n")
    planned = run("smtp-gitops", "plan", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    statuses = {e["name"]: e["status"] for e in json.loads(planned.stdout)["environments"]}
    assert statuses["qa"] == "added", statuses


@pytest.mark.parametrize(("tag", "ok"), [(f"v{__version__}", True), ("v9.9.9", False)])
def test_the_release_workflow_refuses_a_tag_that_is_not_the_version(
    tmp_path: Path, tag: str, ok: bool
) -> None:
    steps = workflow_steps(
        REPO / ".github" / "workflows" / "release.yml", Contexts(github={"ref_name": tag})
    )
    [check] = [s for s in steps if s.name == "The tag names the version"]
    result = run_step(check, REPO, tmp_path / "runner")
    assert (result.returncode == 0) == ok, result.output
