"""The `dotenv` filter: every value it writes reads back byte for byte through a real bash
(`set -a; . file`) and python-dotenv's `dotenv_values`, with nothing expanded or executed;
what no quoting can carry is refused, naming the field and never the value."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from dotenv import dotenv_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smtp_gitops.commands.cli import main
from smtp_gitops.render.dotenv_quote import UnquotableValue, quote
from tests.helpers import VALID, write_env

HOSTILE = [
    "`touch MARKER`",
    "$(touch MARKER)",
    "it's $HOME",
    "a\\$b",
    "back\\slash\\",
    "\\\\double",
    "\"quoted\" 'both'",
    "#not a comment",
    " padded ",
    "tab\there",
    "$",
    "a$%b",
    "${",
    "}${",
    "ünïcödé ✓ 密码",
    "semi;colon && pipe | amp & <redir>",
    "",
    "=",
    "~/home",
    "a:~/b",
    "!event",
]
# Characters that mean something to bash or python-dotenv, mixed with everyday ones.
SPECIAL = st.sampled_from(list("'\"\\$`#{}()[]!*?@-_=;|&<> \t~:,.+/aZ9é✓"))
VALUES = st.one_of(
    st.text(SPECIAL, max_size=12),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)


def read_back_with_bash(path: Path, count: int) -> list[bytes]:
    names = " ".join(f'"$V{i}"' for i in range(count))
    done = subprocess.run(
        ["bash", "-c", f'set -a; . "$1"; printf "%s\\0" {names}', "bash", str(path)],
        capture_output=True,
        check=True,
        cwd=path.parent,
        env={"PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    return done.stdout.split(b"\0")[:count]


def round_trip(tmp_path: Path, values: list[str]) -> None:
    """Write the values that can be written; both readers must return them unchanged."""
    written = []
    for value in values:
        try:
            written.append((value, quote(value)))
        except UnquotableValue:
            # Refused only for what no form can carry (the module says why for each).
            assert (
                re.search("[\0\r\n]", value)
                or re.search(r"\$\{[^}]*\}", value)
                or (re.search(r"['\\]", value) and re.search(r"[`$]", value))
            ), repr(value)
    path = tmp_path / "values.env"
    path.write_text("".join(f"V{i}={text}\n" for i, (_, text) in enumerate(written)), "utf-8")
    expected = [value for value, _ in written]
    assert read_back_with_bash(path, len(written)) == [v.encode() for v in expected]
    parsed = dotenv_values(path)
    assert [parsed[f"V{i}"] for i in range(len(written))] == expected
    assert not (tmp_path / "MARKER").exists()


def test_hostile_values_round_trip_and_run_nothing(tmp_path: Path) -> None:
    round_trip(tmp_path, HOSTILE)


@settings(
    max_examples=100,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(VALUES, min_size=1, max_size=40))
def test_generated_values_round_trip_through_bash_and_python_dotenv(
    tmp_path: Path, values: list[str]
) -> None:
    round_trip(tmp_path, values)


@pytest.mark.parametrize("value", ["a\0b", "line\nbreak", "carriage\rreturn", "${HOME}"])
def test_values_no_quoting_can_carry_are_refused(value: str) -> None:
    with pytest.raises(UnquotableValue):
        quote(value)


def test_everyday_values_stay_bare() -> None:
    for value in ("smtp.gmail.com", "587", "portal@example.com", "a@x.com,b@y.com"):
        assert quote(value) == value


PASSWORD = "p'a\"s`s $(id) \\w#rd"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_env(tmp_path, "prod", VALID.replace("smtp.gmail.com", "smtp.example.com"))
    return tmp_path


def test_render_dotenv_output_reads_back_exactly(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "p\"a's \\w#rd ✓"  # a quote and a backslash, no backtick or `$`
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", password)
    out = repo / "smtp.env"
    assert main(["render", "prod", "--template", "dotenv", "--out", str(out)]) == 0
    assert dotenv_values(out)["SMTP_PASSWORD"] == password
    done = subprocess.run(
        ["bash", "-c", 'set -a; . ./smtp.env; printf %s "$SMTP_PASSWORD"'],
        capture_output=True,
        check=True,
        cwd=repo,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.stdout.decode() == password


def test_render_refuses_a_password_it_cannot_write_without_printing_it(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMTP_PRIMARY_PASSWORD", PASSWORD)
    assert main(["render", "prod", "--template", "dotenv", "--out", "smtp.env"]) == 1
    captured = capsys.readouterr()
    assert "template dotenv (line 11): dotenv: the value of set 'primary' field password" in (
        captured.err
    )
    assert "$(id)" not in captured.out + captured.err
    assert not (repo / "smtp.env").exists()
