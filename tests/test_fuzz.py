"""Property-based tests: whatever the YAML, `validate` ends in diagnostics or a clean result,
never an exception. Seeded and bounded so CI is fast and repeatable."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtp_gitops.commands.cli import main
from smtp_gitops.lint.rules import all_rules
from smtp_gitops.lint.validator import validate_files
from tests.helpers import VALID

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = [VALID] + [p.read_text() for p in sorted((REPO / "environments").glob("*/smtp.yaml"))]
FUZZ = settings(
    max_examples=120,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["yes", "no", "~", "0x1F", "1e999", "!!python/object:x", "&a", "*a", "<<"]),
)
keys = st.one_of(
    st.sampled_from(
        [
            "apiVersion",
            "kind",
            "metadata",
            "spec",
            "sets",
            "name",
            "enabled",
            "networkHost",
            "port",
            "password",
            "fromEnv",
            "reportEmails",
            "email",
        ]
    ),
    st.text(min_size=1, max_size=12),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=6)
    ),
    max_leaves=40,
)


def check_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "environments" / "prod" / "smtp.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    report, unreadable = validate_files([str(path)])
    assert not unreadable
    known = set(all_rules())
    for diagnostic in report.diagnostics:
        assert diagnostic.rule in known
        assert diagnostic.line >= 1 and diagnostic.column >= 1
        assert diagnostic.file == str(path)


@FUZZ
@given(document=documents)
def test_random_structures_never_raise(tmp_path: Path, document: Any) -> None:
    check_file(tmp_path, json.dumps(document, allow_nan=True).encode())


@FUZZ
@given(
    text=st.text(alphabet=string.printable + "\u00e9\u2603\ufeff\t:-[]{}&*!|>'\"#%@`", max_size=400)
)
def test_random_text_never_raises(tmp_path: Path, text: str) -> None:
    check_file(tmp_path, text.encode("utf-8", "surrogatepass"))


@st.composite
def mutated_examples(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(EXAMPLES)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(
            st.sampled_from(["delete", "swap", "retype", "unicode", "huge", "deep", "dup"])
        )
        line = lines[index]
        key, colon, _ = line.partition(":")
        if action == "delete":
            del lines[index]
        elif action == "swap" and index + 1 < len(lines):
            lines[index], lines[index + 1] = lines[index + 1], line
        elif action == "retype" and colon:
            value = draw(st.sampled_from(["[1, 2]", "{a: b}", "42", "null", "true", "3.5", '"x"']))
            lines[index] = f"{key}: {value}"
        elif action == "unicode" and colon:
            lines[index] = f"{key}: {draw(st.text(max_size=10))!r}"
        elif action == "huge" and colon:
            lines[index] = f"{key}: {'9' * draw(st.integers(20, 400))}"
        elif action == "deep" and colon:
            depth = draw(st.integers(1, 300))
            lines[index] = f"{key}: {'[' * depth}{']' * depth}"
        elif action == "dup":
            lines.insert(index, line)
        if not lines:
            lines = [""]
    data = ("\n".join(lines) + "\n").encode()
    if draw(st.booleans()):
        flip = draw(st.integers(0, len(data) - 1))
        data = data[:flip] + bytes([data[flip] ^ draw(st.integers(1, 255))]) + data[flip + 1 :]
    return data


@FUZZ
@given(data=mutated_examples())
def test_mutated_examples_never_raise(tmp_path: Path, data: bytes) -> None:
    check_file(tmp_path, data)


@settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=mutated_examples())
def test_cli_exit_code_is_always_0_1_or_2(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "environments" / "prod" / "smtp.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    for output_format in ("text", "json", "github", "sarif"):
        assert main(
            ["validate", "-q", "--no-color", "--format", output_format, os.fspath(path)]
        ) in (0, 1, 2)
