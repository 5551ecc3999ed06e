"""Hostile files: each is refused with a clear diagnostic, quickly, without a crash or a
traceback, and nothing is written. Every case runs in a real process, so a crash in the parser
would fail the test instead of killing the test run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import VALID, smtp_gitops_process, write_env


def smtp_gitops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return smtp_gitops_process(cwd, *args, env={**os.environ, "SMTP_PRIMARY_PASSWORD": "x"})


def refused(tmp_path: Path, rule: str) -> dict[str, object]:
    """Validate (JSON), then try to render to a file: the rule fires and nothing is written."""
    result = smtp_gitops(tmp_path, "validate", "--format", "json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    diagnostics: list[dict[str, object]] = json.loads(result.stdout)["diagnostics"]
    found = [d for d in diagnostics if d["rule"] == rule]
    assert found, diagnostics
    rendered = smtp_gitops(tmp_path, "render", "prod", "--out", "out/smtp.json")
    assert rendered.returncode == 1 and "Traceback" not in rendered.stderr
    assert not (tmp_path / "out").exists()
    return found[0]


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "environments" / "prod" / "smtp.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_billion_laughs_is_refused_in_well_under_a_second(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        refs = ",".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    write_bytes(tmp_path, ("\n".join(lines) + "\n").encode())
    from smtp_gitops.lint.loader import load_file

    started = time.perf_counter()
    loaded = load_file(str(tmp_path / "environments" / "prod" / "smtp.yaml"))
    assert time.perf_counter() - started < 1.0
    assert [d.rule for d in loaded.diagnostics] == ["unsafe-yaml"]
    found = refused(tmp_path, "unsafe-yaml")
    assert "alias bomb" in str(found["message"])


def test_50_mib_file_is_refused_by_size_before_parsing(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, b"")
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    started = time.perf_counter()
    found = refused(tmp_path, "unsafe-yaml")
    assert time.perf_counter() - started < 5
    assert "the limit is 1048576" in str(found["message"])
    assert (found["line"], found["column"]) == (1, 1)


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object:os.system 'echo pwned'", "python/object:os.system"),
        ("!!python/object/apply:os.system ['echo pwned']", "python/object/apply"),
        ("!!binary aGVsbG8=", "binary"),
        ("!!set {a, b}", "set"),
        ("!custom 587", "!custom"),
    ],
)
def test_non_core_tags_are_refused(tmp_path: Path, value: str, tag: str) -> None:
    write_env(tmp_path, "prod", VALID.replace("port: 587", f"port: {value}"))
    found = refused(tmp_path, "unsafe-yaml")
    assert tag in str(found["message"])
    assert (found["line"], found["column"]) == (11, 13)


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", VALID.replace("      port: 587\n", "      <<: {port: 25}\n"))
    assert "merge keys" in str(refused(tmp_path, "unsafe-yaml")["message"])


def test_non_utf8_bytes_are_refused_with_their_place(tmp_path: Path) -> None:
    write_bytes(
        tmp_path,
        VALID.replace("smtp.gmail.com", "smtp.gm\udcffail.com").encode("utf-8", "surrogateescape"),
    )
    found = refused(tmp_path, "unsafe-yaml")
    assert (found["line"], found["column"]) == (10, 27)
    assert "not UTF-8 (byte 0xff)" in str(found["message"])


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    write_bytes(tmp_path, b"\xef\xbb\xbf" + VALID.encode())
    result = smtp_gitops(tmp_path, "validate")
    assert result.returncode == 0, result.stdout
    assert "0 errors, 0 warnings" in result.stdout


def test_tabs_are_a_syntax_error_with_a_hint(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", VALID.replace("  production: true", "\tproduction: true"))
    found = refused(tmp_path, "yaml-syntax")
    assert "YAML is indented with spaces only" in str(found["message"])
    assert found["line"] == 5


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    outside = tmp_path / "outside" / "smtp.yaml"
    outside.parent.mkdir()
    outside.write_text(VALID)
    link = repo / "environments" / "prod" / "smtp.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    found = refused(repo, "unsafe-yaml")
    assert "points outside the repository" in str(found["message"])


def test_symlink_inside_the_repository_is_followed(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    shared = tmp_path / "shared.yaml"
    shared.write_text(VALID)
    link = tmp_path / "environments" / "prod" / "smtp.yaml"
    link.parent.mkdir(parents=True)
    link.symlink_to(shared)
    assert smtp_gitops(tmp_path, "validate").returncode == 0


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deep_flow_nesting_is_refused_without_a_crash(tmp_path: Path, depth: int) -> None:
    write_bytes(tmp_path, b"spec: " + b"[" * depth + b"]" * depth + b"\n")
    found = refused(tmp_path, "unsafe-yaml")
    assert "nesting deeper than" in str(found["message"])


def test_deep_block_nesting_is_refused_without_a_crash(tmp_path: Path) -> None:
    lines = "".join(" " * level + "a:\n" for level in range(1_000))
    write_bytes(tmp_path, lines.encode())
    found = refused(tmp_path, "unsafe-yaml")
    assert "nesting deeper than" in str(found["message"])


def test_10000_deep_block_nesting_is_too_large_to_read(tmp_path: Path) -> None:
    lines = "".join(" " * level + "a:\n" for level in range(10_000))
    write_bytes(tmp_path, lines.encode())
    assert "the limit is" in str(refused(tmp_path, "unsafe-yaml")["message"])


def test_a_large_legitimate_file_is_not_mistaken_for_a_bomb(tmp_path: Path) -> None:
    sets = "".join(
        f"    - name: set-{i}\n      networkHost: smtp{i}.example.com\n      defaultCredentials: true\n"
        for i in range(1500)
    )
    write_env(tmp_path, "prod", VALID + sets)
    result = smtp_gitops(tmp_path, "validate")
    assert result.returncode == 0, result.stdout[-500:]


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    text = VALID.replace("      reportEmails:\n", "      reportEmails: &reports\n") + (
        "    - name: backup\n      networkHost: b.example.com\n      defaultCredentials: true\n"
        "      reportEmails: *reports\n"
    )
    write_env(tmp_path, "prod", text)
    assert smtp_gitops(tmp_path, "validate").returncode == 0


@pytest.mark.parametrize("digits", [4_301, 5_000, 100_000])
def test_an_integer_too_long_for_python_is_a_schema_error(tmp_path: Path, digits: int) -> None:
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: " + "1" * digits))
    started = time.monotonic()
    found = refused(tmp_path, "schema")
    assert time.monotonic() - started < 20
    assert (found["line"], found["column"]) == (11, 13)
    assert f"a number of {digits} digits is too long" in str(found["message"])


def test_an_integer_of_4300_digits_is_read_and_out_of_range(tmp_path: Path) -> None:
    write_env(tmp_path, "prod", VALID.replace("port: 587", "port: " + "1" * 4_300))
    found = refused(tmp_path, "schema")
    assert found["line"] == 11 and "digits is too long" not in str(found["message"])
