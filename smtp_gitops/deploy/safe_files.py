"""Opening the files that sit beside a deployed output (the output itself, its state, history
and lock) as files someone else may have planted: never through a symbolic link, only if a
regular file, never blocking on a FIFO or a device, and never more than a bounded size.

Each refusal is an ``OSError`` whose message says what was found, so a hostile file beside the
output becomes a one-line error, never a hang, a crash or a write somewhere else. Opening and
reading follow ``settings.bounded``'s one set of rules; this module adds the folder
descriptor every file beside the output is reached through, and bounded appends.
"""

from __future__ import annotations

import errno
import os

from smtp_gitops.settings.bounded import open_regular, read_regular


def open_folder(path: str) -> int:
    """A descriptor of the folder ``path``: every later file operation names files relative to
    it (``dir_fd``), so a folder swapped for a link afterwards changes nothing."""
    return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def real_path_of(folder: int, fallback: str) -> str:
    """Where the opened folder really is, as the kernel says (so the path checked is the
    folder written to); ``fallback`` resolved where the system cannot say."""
    try:
        return os.readlink(f"/proc/self/fd/{folder}")
    except OSError:
        return os.path.realpath(fallback)


def read_regular_if_exists(path: str, limit: int, dir_fd: int | None = None) -> bytes | None:
    try:
        return read_regular(path, limit, dir_fd=dir_fd)
    except FileNotFoundError:
        return None


def append_regular(path: str, data: bytes, limit: int, dir_fd: int | None = None) -> None:
    """Append ``data`` to the regular file ``path`` (created 0600 if missing). A file already
    over ``limit`` is refused rather than grown without bound."""
    descriptor = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, dir_fd=dir_fd)
    with os.fdopen(descriptor, "ab") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise OSError(errno.EFBIG, f"over {limit} bytes (rotate it)", path)
        handle.write(data)
