"""Reading a file named by the settings (a secret, a template) without trusting what it is.

A path in a settings file may name a device (``/dev/zero`` never ends), a FIFO (opening it
blocks until someone writes) or a huge file; only regular files are read, and never past a cap.
"""

from __future__ import annotations

import os
import stat


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, for a message (``a FIFO``)."""
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


class UnsafeFile(Exception):
    """The path is not a regular file, or is over the cap; the message says which."""


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (symbolic links followed), at most ``limit``.

    Raises ``UnsafeFile`` for anything else and ``OSError`` when it cannot be opened.
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise UnsafeFile(f"{path} is not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        # The size stat reports is not trusted (files in /proc report 0): read one byte past.
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UnsafeFile(f"{path} is larger than {limit} bytes")
    return data
