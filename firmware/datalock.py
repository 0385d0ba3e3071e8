"""One writer per data directory: the daemon, or one technician's command.

The daemon holds an exclusive ``flock`` on ``<data_dir>/daemon.lock`` for as
long as it runs; `portique provision`, `deprovision` and `list install` take
the same lock for their work. Two processes deciding from (or writing) the
same journal and list would each keep their own idea of the last record and
of the list in force, so the second one is refused, told which process holds
the directory. The kernel drops the lock when its holder dies, so a crash
never leaves a stale lock behind (the PID in the file is only for messages).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "daemon.lock"


class DataDirBusy(Exception):
    """Another process holds the data directory; ``pid`` names it (0 if unknown)."""

    def __init__(self, data_dir: Path, pid: int, holder: str) -> None:
        who = f"{holder} (PID {pid})" if pid else holder
        super().__init__(f"{data_dir} is in use by {who}: stop it first "
                         "(systemctl stop portique) and try again")  # fmt: skip
        self.pid = pid


class DataDirLock:
    """The exclusive lock on one data directory, held until ``release``."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / LOCK_FILE
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 200, 0).decode(errors="replace").splitlines()
            os.close(fd)
            pid = int(text[0]) if text and text[0].isdigit() else 0
            holder_text = text[1] if len(text) > 1 else "another process"
            raise DataDirBusy(data_dir, pid, holder_text) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{holder}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # the kernel releases the flock with the last descriptor

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
