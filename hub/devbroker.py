"""A throwaway mosquitto for development, the tests and the benchmark.

Runs /usr/sbin/mosquitto (Debian's package, which provisioning installs) on
a loopback port with a generated configuration in a folder of its own:
anonymous access, persistence in that folder so a restart keeps sessions.
A museum's broker uses provisioning/mosquitto/portique.conf instead.
"""

from __future__ import annotations

import contextlib
import getpass
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"
START_WAIT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DevBroker:
    def __init__(self, directory: Path, port: int = 0, extra: str = "",
                 anonymous: bool = True) -> None:  # fmt: skip
        directory.mkdir(parents=True, exist_ok=True)
        self.dir, self.port = directory, port or free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"allow_anonymous {'true' if anonymous else 'false'}\n"
            f"persistence true\npersistence_location {directory}/\n"
            f"log_dest file {directory}/mosquitto.log\n"
            # Started as root (CI), mosquitto would switch to its own user and lose the folder.
            f"user {getpass.getuser()}\n"
            "max_queued_messages 100000\n" + extra
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> DevBroker:
        """Start mosquitto and return once it accepts connections."""
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)],
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + START_WAIT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not start: see {self.dir}") from None
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=0.02)  # a short, bounded wait that also sees a crash

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=START_WAIT_S)
        self.proc = None
