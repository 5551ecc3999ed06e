"""Fit ``plan --format markdown`` into one GitHub comment.

GitHub refuses a comment body over 65,536 characters, and a workflow that posts the plan would
then post nothing at all. A longer plan is cut at a line (tables stay tables) and ends with a
note saying what was left out, so a reader knows the comment is not the whole plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GITHUB_COMMENT_LIMIT = 65_536
# Room kept for the note; it names at most this many left-out environments.
_NOTE_ROOM = 2_000
_NAMES_SHOWN = 20


@dataclass(slots=True)
class _LeftOut:
    partly: str | None = None  # the environment whose section was cut short
    rows: int = 0  # its table rows left out
    environments: list[str] = field(default_factory=list)  # sections left out whole
    unchanged_line: bool = False

    def note(self, limit: int) -> str:
        parts = []
        if self.partly is not None and self.rows:
            parts.append(f"{self.rows} more changed field(s) of {self.partly}")
        if self.environments:
            shown = ", ".join(self.environments[:_NAMES_SHOWN])
            more = len(self.environments) - _NAMES_SHOWN
            parts.append(
                f"{len(self.environments)} more environment(s): {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        if self.unchanged_line:
            parts.append("the list of unchanged environments")
        return (
            f"> **Cut short:** this plan is longer than GitHub's {limit:,}-character comment "
            f"limit. Left out: {'; '.join(parts) or 'the rest'}. Run `smtp-gitops plan` (or "
            "see the job's log) for the whole plan."
        )


def fit_comment(markdown: str, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """``markdown`` as it is when it fits in ``limit`` characters, else cut with a note."""
    if len(markdown) <= limit:
        return markdown
    budget = limit - _NOTE_ROOM
    kept: list[str] = []
    used = 0
    section: str | None = None
    left_out = _LeftOut()
    cutting = False
    for line in markdown.splitlines():
        if line.startswith("### "):
            section = line.removeprefix("### ")
        if not cutting and used + len(line) + 1 > budget:
            cutting = True
            left_out.partly = section
        if not cutting:
            kept.append(line)
            used += len(line) + 1
        elif line.startswith("### "):
            left_out.environments.append(section or line)
        elif line.startswith("| ") and not line.startswith("| field |"):
            if section == left_out.partly:
                left_out.rows += 1
        elif line.startswith("No changes:"):
            left_out.unchanged_line = True
    if left_out.partly in left_out.environments:
        left_out.partly = None
    note = left_out.note(limit)
    return "\n".join([*kept, "", note[: _NOTE_ROOM - 2]]) + "\n"
