"""Opening the files that sit beside a deployed output (the output itself, its state, history
and lock) as files someone else may have planted: never through a symbolic link, only if a
regular file, never blocking on a FIFO or a device, and never more than a bounded size.

Each refusal is an ``OSError`` whose message says what was found, so a hostile file beside the
output becomes a one-line error, never a hang, a crash or a write somewhere else.
"""

from __future__ import annotations

import errno
import os
import stat

from smtp_gitops.settings.bounded import file_kind

NOT_REGULAR = "not a regular file"


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
