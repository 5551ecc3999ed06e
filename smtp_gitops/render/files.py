"""Writing files so that readers never see half of one, and nothing secret is left behind."""

from __future__ import annotations

import contextlib
import os
import secrets

from smtp_gitops.settings.bounded import file_kind

TEMP_PREFIX = ".smtp-gitops-"


def _temp_prefix(path: str) -> str:
    return f"{TEMP_PREFIX}{os.path.basename(path)}."


class OutputRefused(Exception):
    """The path cannot take an output; the message names the real cause."""


def check_output_path(path: str, repository: str | None = None) -> None:
    """Refuse ``path`` as an output unless it is a regular file or nothing yet: a device, FIFO,
    socket, folder or link there is never replaced by a file of secrets. A missing folder is
    created later only inside ``repository`` (``build/`` beside the settings); anywhere else
    it is an error naming it."""
    import stat as stat_module

    folder = os.path.dirname(os.path.abspath(path))
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        info = None
    if info is not None and not stat_module.S_ISREG(info.st_mode):
        kind = file_kind(info.st_mode)
        raise OutputRefused(f"{path} is {kind}; only a regular file is replaced")
    probe = folder
    while not os.path.lexists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise OutputRefused(f"{probe} is not a folder, so {path} cannot be written")
    inside = repository is not None and os.path.commonpath(
        [os.path.realpath(repository), os.path.realpath(probe)]
    ) == os.path.realpath(repository)
    if probe != folder and not inside:
        missing = folder
        while os.path.dirname(missing) != probe:
            missing = os.path.dirname(missing)
        raise OutputRefused(f"the folder {missing} does not exist (create it first)")


def write_atomic(
    path: str,
    data: bytes,
    mode: int = 0o600,
    *,
    durable: bool = True,
    owner: tuple[int, int] | None = None,
    dir_fd: int | None = None,
) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file in the same folder, then rename.

    The rename is atomic on POSIX, so a reader (or a crash) sees the old file or the new one,
    never a mixture. ``mode`` defaults to owner-only because the content may hold passwords.
    ``durable`` adds the fsyncs that make the new file survive a power cut; ``owner`` is
    applied where this process may (restoring a file another user owned). With ``dir_fd``,
    ``path`` is a name in that open folder, and nothing is looked up by path at all.
    """
    if dir_fd is not None:
        _write_atomic_in(dir_fd, path, data, mode, durable, owner)
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        _write_atomic_in(descriptor, os.path.basename(path), data, mode, durable, owner)
    finally:
        os.close(descriptor)


def _write_atomic_in(
    folder: int, name: str, data: bytes, mode: int, durable: bool, owner: tuple[int, int] | None
) -> None:
    temporary = f"{_temp_prefix(name)}{secrets.token_hex(6)}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    handle = os.open(temporary, flags, 0o600, dir_fd=folder)
    try:
        os.fchmod(handle, mode)
        if owner is not None:
            with contextlib.suppress(PermissionError):
                os.fchown(handle, *owner)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        raise
    if durable:
        os.fsync(folder)


def remove_stale_temp_files(path: str, dir_fd: int | None = None) -> int:
    """Remove temporary files an interrupted write of ``path`` left behind (they may hold
    passwords). Call it only while no other writer of ``path`` can be running."""
    folder = os.path.dirname(os.path.abspath(path))
    prefix = _temp_prefix(path)
    removed = 0
    try:
        names = os.listdir(dir_fd if dir_fd is not None else folder)
    except OSError:
        return 0
    for name in names:
        if name.startswith(prefix):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                if dir_fd is not None:
                    os.unlink(name, dir_fd=dir_fd)
                else:
                    os.unlink(os.path.join(folder, name))
                removed += 1
    return removed
