"""The one durable file writer: a file written here survives a power cut whole or not at all.

Temp file beside the target (same file system, so the rename is atomic),
fsync, rename over the target, fsync the directory so the rename itself is
on disk. A reader sees the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: Path, data: bytes | str, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` (text is UTF-8), created with permission ``mode``.

    Raises OSError (a full disk, a read-only directory); the old file is then untouched.
    """
    payload = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)  # O_CREAT's mode is filtered by the umask, and ignored if tmp existed
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def fsync_file(path: Path) -> None:
    """Flush ``path``'s content to disk (a file written or moved by other means)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def fsync_directory(directory: Path) -> None:
    """Flush ``directory``'s entries, so a file created or renamed in it stays after a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
