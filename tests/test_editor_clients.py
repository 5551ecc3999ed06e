"""Settings files as the real clients see them: yaml-language-server (VS Code's YAML engine,
over LSP on stdio) and check-jsonschema, each following the file's own modeline.

Every bundled file, and every file ``init`` and ``migrate`` write, must be clean for both; a
broken overlay must be flagged on the broken line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from smtp_gitops.commands.cli import main
from tests.lsp import LanguageServer

REPO = Path(__file__).resolve().parent.parent
V1_EXAMPLE = Path(__file__).resolve().parent / "data" / "v1-environments"
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanguageServer]:
    server = LanguageServer(tmp_path_factory.mktemp("workspace"))
    yield server
    server.close()


def modeline_schema(path: Path) -> Path:
    found = MODELINE.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert found is not None, f"{path} has no modeline"
    schema = (path.parent / found.group(1)).resolve()
    assert schema.is_file(), f"{path}'s modeline names {schema}, which does not exist"
    return schema


def check_jsonschema(paths: list[Path]) -> list[subprocess.CompletedProcess[str]]:
    """check-jsonschema on ``paths``, each against the schema its own modeline names (one run
    per schema)."""
    by_schema: dict[Path, list[Path]] = {}
    for path in paths:
        by_schema.setdefault(modeline_schema(path), []).append(path)
    return [
        subprocess.run(
            [str(CHECK_JSONSCHEMA), "--schemafile", str(schema), *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        for schema, files in by_schema.items()
    ]


def assert_clean_for_both(editor: LanguageServer, paths: list[Path]) -> None:
    assert paths
    for path in paths:
        assert editor.diagnostics(path) == [], path
    for result in check_jsonschema(paths):
        assert result.returncode == 0, result.stdout + result.stderr


def bundled_files() -> list[Path]:
    examples = (REPO / "examples").glob("*/environments/*/smtp.yaml")
    return sorted([*(REPO / "environments").glob("*/smtp.yaml"), *examples])


def test_every_bundled_file_is_clean_in_the_editor_and_in_check_jsonschema(
    editor: LanguageServer,
) -> None:
    assert_clean_for_both(editor, bundled_files())


def copy_repository(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "schema", tmp_path / "schema")
    (tmp_path / ".git").mkdir()
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "line_of", "message"),
    [
        (
            ("      enabled: true\n", '      port: "587"\n'),
            '      port: "587"',
            'Expected "integer"',
        ),
        (("      enabled: true\n", "      enabeld: true\n"), "      enabeld: true", "not allowed"),
    ],
    ids=["quoted-port", "misspelt-key"],
)
def test_a_broken_overlay_is_flagged_on_its_line(
    editor: LanguageServer,
    tmp_path: Path,
    edit: tuple[str, str],
    line_of: str,
    message: str,
) -> None:
    repo = copy_repository(tmp_path)
    prod = repo / "environments" / "prod" / "smtp.yaml"
    broken = prod.read_text().replace(*edit, 1)
    prod.write_text(broken)
    found = editor.diagnostics(prod)
    line = broken.splitlines().index(line_of)
    assert [d["range"]["start"]["line"] for d in found] == [line]
    assert message in found[0]["message"]
    (result,) = check_jsonschema([prod])
    assert result.returncode == 1 and "Schema validation errors" in result.stdout


def test_the_full_schema_on_an_overlay_is_what_the_editor_used_to_complain_about(
    editor: LanguageServer, tmp_path: Path
) -> None:
    """Why overlays need their own schema: the full one demands what the base provides."""
    repo = copy_repository(tmp_path)
    prod = repo / "environments" / "prod" / "smtp.yaml"
    prod.write_text(prod.read_text().replace(".overlay.schema.json", ".schema.json", 1))
    messages = {d["message"] for d in editor.diagnostics(prod)}
    assert messages == {'Missing property "networkHost".'}


@pytest.mark.parametrize(
    ("setup", "args"),
    [
        ("empty", ["init", "qa"]),
        ("empty", ["init", "qa", "--auth", "oauth2", "--production"]),
        ("bundled", ["init", "uat", "--production"]),
        ("v1", ["init", "qa"]),
    ],
    ids=["standalone", "standalone-oauth2", "over-a-base", "over-a-v1-base"],
)
def test_every_file_init_writes_is_clean_in_both(
    editor: LanguageServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    setup: str,
    args: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / ".git").mkdir()
    if setup == "bundled":
        shutil.copytree(REPO / "environments" / "base", tmp_path / "environments" / "base")
        shutil.copytree(REPO / "schema", tmp_path / "schema")
    elif setup == "v1":
        shutil.copytree(V1_EXAMPLE / "base", tmp_path / "environments" / "base")
    monkeypatch.chdir(tmp_path)
    assert main(args) == 0, capsys.readouterr()
    written = sorted((tmp_path / "environments").glob("*/smtp.yaml"))
    # The schemas the modelines name are in the repository, whoever put them there.
    assert_clean_for_both(editor, written)


def test_every_file_migrate_writes_is_clean_in_both(
    editor: LanguageServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(V1_EXAMPLE, tmp_path / "environments")
    shutil.copytree(REPO / "schema", tmp_path / "schema")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    before = {p: editor.diagnostics(p) for p in sorted(tmp_path.glob("environments/*/smtp.yaml"))}
    assert all(d == [] for d in before.values())  # v1 files on their v1 schemas
    assert main(["migrate"]) == 0, capsys.readouterr()
    migrated = sorted((tmp_path / "environments").glob("*/smtp.yaml"))
    assert all("smtp-gitops/v2" in p.read_text() for p in migrated)
    assert_clean_for_both(editor, migrated)
