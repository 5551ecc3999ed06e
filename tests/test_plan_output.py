"""`plan` shows what a pull request wrote as inert text: a Markdown comment renders every name
and value literally (no HTML, headings, links, emphasis, mentions), and the terminal output
carries no control characters. Checked by parsing the comment with a real Markdown parser."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from smtp_gitops.commands.cli import main
from smtp_gitops.settings.untrusted_text import markdown_code, markdown_text, printable
from tests.test_plan import edit, repo  # noqa: F401 (the fixture)

HOSTILE_TEMPLATE = (
    "x\\n## Approved by @octocat\\n<details><summary>@team</summary>\\x1b[31m #12 ``` "
    "| </details><!-- hidden"
)
# Each passes validation (a report email's local part may hold most punctuation).
HOSTILE = {
    "{email: ops@example.com,": '{email: "a`b|c*d_e~f#1&g\'h{@admin.example.com",',
    "template: portal-json": f'template: "{HOSTILE_TEMPLATE}"',
    "output: /etc/portal/smtp.json": 'output: "/etc/```<img src=x onerror=alert(1)>`[x](y)"',
    "- https://portal-1.example.com/api/reload-application": (
        "- https://portal-1.example.com/<details>@team/**bold**"
    ),
}
FOLDER = "<img src=x>`@x"

PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
ZERO_WIDTH = "\u200b"


def inline_text(token: Token) -> str:
    return "".join(child.content for child in token.children or [])


def cells(tokens: list[Token]) -> list[list[str]]:
    rows: list[list[str]] = []
    for index, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and tokens[index - 1].type in ("td_open", "th_open"):
            rows[-1].append(inline_text(token))
    return rows


@pytest.fixture
def hostile(repo: Path) -> Path:  # noqa: F811
    prod = repo / "environments" / "prod" / "smtp.yaml"
    for old, new in HOSTILE.items():
        edit(prod, old, new)
    folder = repo / "environments" / FOLDER
    folder.mkdir()
    (folder / "smtp.yaml").write_text((repo / "environments" / "dev" / "smtp.yaml").read_text())
    return repo


def test_markdown_renders_every_name_and_value_as_text(
    hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--base", "HEAD", "--format", "markdown"]) == 0
    comment = capsys.readouterr().out
    tokens = PARSER.parse(comment)
    kinds = {token.type for token in tokens} | {
        child.type for token in tokens for child in token.children or []
    }
    assert not kinds & {"html_block", "html_inline", "link_open", "image", "em_open"}
    assert not kinds & {"strong_open", "s_open", "hr", "fence", "code_block"}
    headings = [
        inline_text(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "heading_open"
    ]
    assert headings == ["smtp-gitops plan: HEAD → this change", FOLDER, "prod"]
    rows = cells(tokens)
    assert all(len(row) == 3 for row in rows)
    shown = {key: (before, after) for key, before, after in rows[1:]}
    assert shown["sets.primary.ReportEmails"][1].replace(ZERO_WIDTH, "") == (
        "portal-reports@example.com, a`b|c*d_e~f#1&g'h{@admin.example.com"
    )
    assert shown["render.template"][1].replace(ZERO_WIDTH, "") == printable(
        HOSTILE_TEMPLATE.encode().decode("unicode_escape")
    )
    assert shown["render.output"][1] == "/etc/```<img src=x onerror=alert(1)>`[x](y)"
    assert shown["reload.targets"][1].replace(ZERO_WIDTH, "") == (
        "https://portal-1.example.com/<details>@team/**bold**, "
        "https://portal-2.example.com/api/reload-application"
    )
    # GitHub links mentions and issue numbers in text, never inside code spans.
    text = " ".join(
        child.content for token in tokens for child in token.children or [] if child.type == "text"
    )
    assert not re.search(r"(?<![A-Za-z0-9])@[A-Za-z]", text), "a mention would notify"
    assert not re.search(r"#[0-9]", text), "an issue reference would link"
    assert "\x1b" not in comment


def test_text_output_carries_no_control_characters(
    hostile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", "--base", "HEAD"]) == 0
    out = capsys.readouterr().out
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)
    assert "\\x1b[31m #12" in out and "\\x0a## Approved" in out
    assert out.count("\n") == len(out.splitlines())  # no line was split by a value


@pytest.mark.parametrize(
    "value",
    ["plain", "a`b", "``", "` lead", "trail `", "pipe|in|table", "@everyone", "x\ny", "a\\|b"],
)
def test_code_spans_show_exactly_their_text(value: str) -> None:
    row = f"| {markdown_code(value, in_table=True)} | {markdown_text(value)} |\n|---|---|\n"
    header = cells(PARSER.parse(row))[0]
    assert header[0] == printable(value)
    assert header[1].replace(ZERO_WIDTH, "") == printable(value)


def test_everyday_values_are_unchanged() -> None:
    for value in ("smtp.gmail.com", "portal@example.com, ops@example.com (disabled)", "587"):
        assert markdown_text(value) == value
    assert markdown_text("env:SMTP_PRIMARY_PASSWORD") == "env:SMTP_PRIMARY_PASSWORD"
    assert markdown_text("$x$ _y_") == "\\$x\\$ \\_y\\_"  # GitHub renders `$x$` as math
