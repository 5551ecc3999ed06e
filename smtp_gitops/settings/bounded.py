"""Opening a file without trusting what it is: a path in a settings file (a secret, a
template) or a file beside a deployed output (its state, history, lock) someone else may
have planted.

Such a path may name a device (``/dev/zero`` never ends), a FIFO (opening it blocks until
someone writes), a link or a huge file; only regular files are opened, never past a cap, and a
link only when the caller follows links.
"""

from __future__ import annotations

import errno
import os
import stat

NOT_REGULAR = "not a regular file"


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


def open_regular(
    path: str,
    flags: int,
    *,
    follow: bool = False,
    mode: int = 0o600,
    dir_fd: int | None = None,
) -> int:
    """A descriptor of ``path`` opened with ``flags``, refused unless it is a regular file.

    ``O_NONBLOCK`` keeps the open itself from waiting on a FIFO's writer; it is cleared again
    once the file is known to be regular. Without ``follow`` a symbolic link is refused
    (``ELOOP``), so what was checked is what is read or written.
    """
    extra = os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags | extra, mode, dir_fd=dir_fd)
    except OSError as error:
        if error.errno == errno.ELOOP and not follow:
            raise OSError(errno.ELOOP, "a symbolic link (refused)", path) from None
        if error.errno == errno.ENXIO:  # a FIFO without a reader, opened for writing
            info = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow)
            raise OSError(errno.EINVAL, f"{file_kind(info.st_mode)}, {NOT_REGULAR}", path) from None
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{file_kind(info.st_mode)}, {NOT_REGULAR}", path)
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def read_regular(
    path: str, limit: int, *, follow: bool = False, dir_fd: int | None = None
) -> bytes:
    """The bytes of the regular file ``path``, refused over ``limit`` bytes."""
    descriptor = open_regular(path, os.O_RDONLY, follow=follow, dir_fd=dir_fd)
    with os.fdopen(descriptor, "rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:
            raise OSError(errno.EFBIG, f"over {limit} bytes", path)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"over {limit} bytes", path)
    return data


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (symbolic links followed), at most ``limit``.

    Raises ``UnsafeFile`` for anything else and ``OSError`` when it cannot be opened.
    """
    try:
        return read_regular(path, limit, follow=True)
    except OSError as error:
        if error.errno == errno.EINVAL and NOT_REGULAR in (error.strerror or ""):
            raise UnsafeFile(f"{path} is not a regular file") from None
        if error.errno == errno.EFBIG:
            raise UnsafeFile(f"{path} is larger than {limit} bytes") from None
        raise
