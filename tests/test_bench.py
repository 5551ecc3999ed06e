"""The benchmark says what it is doing: each step on stderr, with the time so far, while the
tables on stdout stay clean for pasting into the README."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import Progress

REPO = Path(__file__).resolve().parent.parent


def test_progress_names_each_step_with_the_time_so_far(
    capsys: pytest.CaptureFixture[str],
) -> None:
    progress = Progress(steps=2)
    progress.step("cold start against yamllint (9 pairs)")
    progress.step("plan")
    progress.finish()
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(
        r"\[0:0\d\] 1/2 cold start against yamllint \(9 pairs\)\n"
        r"\[0:0\d\] 2/2 plan\n\[0:0\d\] done\n",
        captured.err,
    )


def test_the_benchmark_says_how_long_it_runs() -> None:
    shown = subprocess.run(
        [sys.executable, str(REPO / "bench" / "run.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert re.search(r"--quick\s+3 pairs, 1,000 files at most \(about \d+ minutes\)", shown)
