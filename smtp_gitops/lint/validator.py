"""The validation pipeline over many files: each is checked by ``file_check``, serially or, for
many files, in forked workers; the findings come back as one sorted report."""

from __future__ import annotations

import os
from collections.abc import Callable

from smtp_gitops.lint.file_check import FileSource, check_serially
from smtp_gitops.settings.diagnostics import Diagnostic, Report

PARALLEL_THRESHOLD = 64  # below this, starting worker processes costs more than it saves


def _workers(count: int) -> int:
    # Workers are forked; multiprocessing itself is imported only when they are.
    if count < PARALLEL_THRESHOLD or not hasattr(os, "fork"):
        return 1
    return min(os.cpu_count() or 1, 8)


def validate_files(
    files: list[str],
    *,
    production_environments: tuple[str, ...] = (),
    adjust: Callable[[Report], list[Diagnostic]] | None = None,
    jobs: int | None = None,
    source: FileSource | None = None,
) -> tuple[Report, list[str]]:
    """Check every file; returns the report and the files that could not be read.

    Many files are split across the machine's cores (forked workers, so nothing is imported
    twice); the report is sorted afterwards, so it is the same as a serial run's. A worker that
    dies becomes a diagnostic on the file it was reading, never a wait for an answer.
    ``adjust`` (suppressions, rule selection) gets the report before it is finished, while each
    finding past a per-file cap is still counted under its own rule, and returns what to keep.
    ``jobs`` caps the worker processes (1: none are forked); None lets the number of files
    decide. ``source`` reads the files instead of the disk (git's index).
    """
    workers = _workers(len(files)) if jobs is None else min(max(jobs, 1), _workers(len(files)))
    if workers == 1:
        results = [check_serially(files, production_environments, source)]
    else:
        from smtp_gitops.lint.workers import check_in_workers

        results = check_in_workers(files, workers, production_environments, source)
    report = Report()
    unreadable: list[str] = []
    read: dict[str, None] = {}
    for diagnostics, files_read, problems in results:
        report.add(diagnostics)
        read.update(dict.fromkeys(files_read))
        unreadable += problems
    report.files = sorted(read)
    if adjust is not None:
        report.diagnostics = adjust(report)
    report.finish()
    return report, sorted(unreadable)
