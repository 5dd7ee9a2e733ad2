"""Atomic file replacement: a reader sees the old file or the new one, never a partial write."""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from typing import BinaryIO

from ..errors import InvalidParameterError

logger = logging.getLogger(__name__)


def current_umask() -> int:
    """Return the process's file-creation mask (reading it requires setting it, so it is set back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Write a file through a temporary file in the same folder, then rename it onto ``path``.

    ``write`` receives a binary file object open for writing.  The data is
    flushed and fsynced, the temporary file is renamed onto ``path`` with
    :func:`os.replace` (atomic on POSIX and on Windows within one volume), and
    the folder is fsynced so the rename survives a crash.  If ``write`` or any
    later step raises, the temporary file is removed and a file already at
    ``path`` is left unchanged.

    Parameters
    ----------
    path : str or path-like
        The destination file.
    write : callable
        Called once with the open temporary file; it must not close it.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    prefix = "." + os.path.basename(path) + ".tmp"
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            # mkstemp creates the file readable by its owner only; give it the
            # mode that open() would, 0o666 less the umask.
            os.fchmod(handle.fileno(), 0o666 & ~current_umask())
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # Some platforms (Windows) and file systems cannot open or fsync a folder;
    # the rename has happened either way, only its durability is weaker there.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as exc:
        logger.debug("could not open folder %s to fsync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        logger.debug("could not fsync folder %s: %s", folder, exc)
    finally:
        os.close(fd)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Check that a file can be created or replaced at ``path``.

    Called before long work (such as training) so that a bad output path fails
    at once instead of after the work is done.

    Raises
    ------
    InvalidParameterError
        If ``path`` is a folder, or its parent folder is missing or not writable.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise InvalidParameterError(
            f"output path {path!r} is a folder; give a file name such as {os.path.join(path, 'model.npz')!r}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidParameterError(
            f"cannot write {path!r}: folder {folder!r} does not exist; create it first or choose another path"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidParameterError(
            f"cannot write {path!r}: folder {folder!r} is not writable; choose a folder you can write to"
        )
