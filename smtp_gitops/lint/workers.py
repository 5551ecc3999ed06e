"""Check many files in forked worker processes, surviving workers that die.

A worker can die without a Python exception: a crash in the C parser, or the kernel's
out-of-memory killer. A pool would then wait forever for its answer. Here every worker reports
what it is doing as it goes, so when one dies the file it was reading (or that file's base) is
known: that file gets a diagnostic, and the files the worker had not finished are checked again
by a fresh worker that knows not to read the culprit.
"""

from __future__ import annotations

import multiprocessing
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from smtp_gitops.lint.file_check import FileSource, UnreadableFile, Validator, crash_diagnostic
from smtp_gitops.settings.diagnostics import Diagnostic

# Diagnostics, files read (the file and its base) and unreadable-file problems of one check.
Outcome = tuple[list[Diagnostic], list[str], list[str]]


def _worker(
    paths: list[str],
    crashed: dict[str, str],
    connection: Connection,
    production_environments: tuple[str, ...],
    source: FileSource | None,
) -> None:
    """Check ``paths``, announcing each file before it is checked or parsed."""

    def progress(event: str, path: str) -> None:
        connection.send((event, path))

    validator = Validator(
        source,
        crashed=crashed,
        progress=progress,
        production_environments=production_environments,
    )
    for path in paths:
        progress("check", path)
        try:
            checked = validator.check(path)
        except UnreadableFile as error:
            connection.send(("done", path, ([], [], [str(error)])))
            continue
        connection.send(("done", path, (checked.diagnostics, checked.files_read, [])))
    if source is not None:
        source.close()
    connection.close()


@dataclass(slots=True)
class _Run:
    """One worker's chunk and what it reported."""

    paths: list[str]
    receiver: Connection
    process: Any
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    # The file being checked, then any file being parsed for it: the last one is the culprit.
    busy: list[str] = field(default_factory=list)

    def take(self, message: tuple[Any, ...]) -> None:
        event, path = message[0], message[1]
        if event == "check":
            self.busy = [path]
        elif event == "load":
            self.busy.append(path)
        elif event == "loaded" and self.busy and self.busy[-1] == path:
            self.busy.pop()
        elif event == "done":
            self.outcomes[path] = message[2]
            self.busy = []


def _describe(exit_code: int | None) -> str:
    if exit_code is not None and exit_code < 0:
        try:
            return f"killed by {signal.Signals(-exit_code).name}"
        except ValueError:
            return f"killed by signal {-exit_code}"
    return f"exit code {exit_code}"


def _start(
    paths: list[str],
    crashed: dict[str, str],
    production_environments: tuple[str, ...],
    source: FileSource | None,
) -> _Run:
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_worker,
        args=(paths, crashed, sender, production_environments, source),
        daemon=True,
    )
    process.start()
    sender.close()  # the worker holds the only writing end: its death ends our reads
    return _Run(paths, receiver, process)


def _finish(runs: list[_Run]) -> None:
    """Read every worker's reports until each has exited or died."""
    reading = {run.receiver: run for run in runs}
    while reading:
        for ready in wait(list(reading)):
            assert isinstance(ready, Connection)
            try:
                reading[ready].take(ready.recv())
            except EOFError:
                reading.pop(ready).receiver.close()
    for run in runs:
        run.process.join()


def check_in_workers(
    files: list[str],
    workers: int,
    production_environments: tuple[str, ...] = (),
    source: FileSource | None = None,
) -> list[Outcome]:
    """Check ``files`` split across ``workers`` processes; each file's outcome exactly once.
    ``source`` (read instead of the disk) is copied into each worker by the fork."""
    outcomes: list[Outcome] = []
    crashed: dict[str, str] = {}
    remaining = files
    while remaining:
        chunks = [chunk for chunk in (remaining[i::workers] for i in range(workers)) if chunk]
        known = dict(crashed)  # what this round's workers were told not to read
        runs = [_start(chunk, known, production_environments, source) for chunk in chunks]
        _finish(runs)
        remaining = []
        for run in runs:
            outcomes.extend(run.outcomes.values())
            unfinished = [path for path in run.paths if path not in run.outcomes]
            if not unfinished:
                continue
            reason = _describe(run.process.exitcode)
            culprit = run.busy[-1] if run.busy else unfinished[0]
            if culprit in known:
                # It died again on a file it did not even read (so not in the parser): give
                # that file up rather than retry it for ever.
                culprit = culprit if culprit in unfinished else unfinished[0]
                outcomes.append(([crash_diagnostic(culprit, reason)], [culprit], []))
                unfinished.remove(culprit)
            else:
                crashed.setdefault(culprit, reason)  # several workers may die on one shared base
            remaining += unfinished
    return outcomes
