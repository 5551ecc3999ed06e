"""Deep nesting of every YAML construct is refused before the (recursive, C) composer sees it.

Each crash reproducer runs ``validate``, ``render`` and ``plan`` in real processes: a segfault in
libyaml's composer would show as exit code -11/139 here instead of killing the test run."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smtp_gitops.lint.loader import MAX_DEPTH, load_text
from tests.helpers import git, smtp_gitops_process

DEPTH = 50_000  # well past the depth at which libyaml's composer overflowed the stack


def _block_sequence(depth: int) -> str:
    return "- " * depth + "x\n"


def _block_mapping(depth: int) -> str:
    return "".join(" " * level + "a:\n" for level in range(depth)) + " " * depth + "b: 1\n"


def _flow(depth: int) -> str:
    return "spec: " + "[" * depth + "]" * depth + "\n"


def _flow_mapping(depth: int) -> str:
    return "spec: " + "{a: " * depth + "1" + "}" * depth + "\n"


def _after_quote_in_comment(depth: int) -> str:
    # A quote in a comment once fooled a character scan into skipping everything after it.
    return "a: 1 #'\nb: " + "[" * depth + "\n"


def _after_double_quote_in_comment(depth: int) -> str:
    return 'a: 1 # "\nb: ' + "{" * depth + "\n"


def _after_block_scalar(depth: int) -> str:
    return "a: |\n  '\"[{\nb: " + "[" * depth + "\n"


def _complex_keys(depth: int) -> str:
    return "? " * depth + "x\n"


def _mixed(depth: int) -> str:
    return "- a:\n    - " * 30 + "{a: [" * depth + "\n"


def _after_quoted_scalar(depth: int) -> str:
    return "a: \"it's\"\nb: 'say \"hi'\nc:\n" + "- " * depth + "x\n"


def _second_document(depth: int) -> str:
    return "a: 1\n---\n" + "- " * depth + "x\n"


CONSTRUCTS = {
    "block sequence": _block_sequence,
    "flow sequence": _flow,
    "flow mapping": _flow_mapping,
    "quote in a comment": _after_quote_in_comment,
    "double quote in a comment": _after_double_quote_in_comment,
    "after a block scalar": _after_block_scalar,
    "complex keys": _complex_keys,
    "mixed block and flow": _mixed,
    "after quoted scalars": _after_quoted_scalar,
    "in a second document": _second_document,
}


def run(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = smtp_gitops_process(cwd, *args, env={**os.environ, "SMTP_PRIMARY_PASSWORD": "x"})
    return result, time.monotonic() - started


def write_settings(root: Path, text: str) -> None:
    path = root / "environments" / "prod" / "smtp.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)


@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_deep_nesting_is_refused_by_validate(tmp_path: Path, construct: str) -> None:
    write_settings(tmp_path, CONSTRUCTS[construct](DEPTH))
    result, seconds = run(tmp_path, "validate", "--format", "json")
    assert result.returncode == 1, result.stderr[-2000:]
    assert seconds < 10
    (found,) = json.loads(result.stdout)["diagnostics"]
    assert found["rule"] == "unsafe-yaml"
    assert found["message"] == f"nesting deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize("construct", ["block sequence", "quote in a comment"])
def test_render_and_plan_refuse_it_too(tmp_path: Path, construct: str) -> None:
    """The two reported reproducers, through the other commands that read settings."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "start")
    write_settings(tmp_path, CONSTRUCTS[construct](DEPTH))

    rendered, seconds = run(tmp_path, "render", "prod", "--out", "out/smtp.json")
    assert rendered.returncode == 1, rendered.stderr[-2000:]
    assert "unsafe-yaml: nesting deeper than" in rendered.stderr
    assert seconds < 10 and not (tmp_path / "out").exists()

    planned, seconds = run(tmp_path, "plan", "--base", "HEAD")
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert "invalid" in planned.stdout and seconds < 10


@pytest.mark.parametrize("construct", CONSTRUCTS)
def test_the_refusal_points_where_the_limit_is_crossed(construct: str) -> None:
    loaded = load_text("smtp.yaml", CONSTRUCTS[construct](MAX_DEPTH + 10).encode())
    (found,) = loaded.diagnostics
    assert found.rule == "unsafe-yaml" and "nesting deeper" in found.message
    assert found.line >= 1 and found.column > 1


@pytest.mark.parametrize("construct", ["block sequence", "flow sequence", "flow mapping"])
def test_nesting_up_to_the_limit_is_still_read(construct: str) -> None:
    text = CONSTRUCTS[construct](MAX_DEPTH - 2)
    loaded = load_text("smtp.yaml", text.encode())
    assert not [d for d in loaded.diagnostics if d.rule == "unsafe-yaml"], loaded.diagnostics


def test_block_mappings_nested_by_indentation_are_refused() -> None:
    loaded = load_text("smtp.yaml", _block_mapping(MAX_DEPTH + 5).encode())
    assert [d.message for d in loaded.diagnostics] == [f"nesting deeper than {MAX_DEPTH} levels"]


_PIECES = st.sampled_from(
    ["- ", "[", "{a: ", "? ", "a:\n", "# '\n", "'[{'\n", '"\\"[" ', "|\n  [\n", "---\n"]
)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(pieces=st.lists(_PIECES, min_size=1, max_size=12), repeat=st.integers(10, 4000))
def test_no_mixture_of_constructs_crashes_the_loader(pieces: list[str], repeat: int) -> None:
    # In-process on purpose: were the guard bypassed, the composer would crash the test run.
    text = "".join(pieces) * repeat
    loaded = load_text("smtp.yaml", text.encode())
    assert loaded.diagnostics or loaded.root is not None
