"""Apply a list file and kill this process (SIGKILL) at the N-th step of the apply.

Used by test_list_crash.py: a "step" is each Python or C call made from the
list manager's and list format's code, so N walks through every write,
fsync, rename and SQLite statement of an apply. With N = 0 the apply runs to
the end and the number of steps is printed.
"""

import os
import signal
import sys
from pathlib import Path

from firmware.lists.manager import ListManager
from firmware.trust import TrustStore, read_public_key

WATCHED = (os.sep + os.path.join("firmware", "lists") + os.sep, os.sep + "trust.py")


def main() -> None:
    data_dir, root, list_file, kill_at, now = sys.argv[1:6]
    trust = TrustStore.open(read_public_key(Path(root)), Path(data_dir) / "trust.json")
    manager = ListManager(Path(data_dir), trust, 1 << 30)
    data = Path(list_file).read_bytes()
    steps = 0

    def count(frame, event, arg):  # noqa: ANN001
        nonlocal steps
        if event in ("call", "c_call") and any(w in frame.f_code.co_filename for w in WATCHED):
            steps += 1
            if steps == int(kill_at):
                os.kill(os.getpid(), signal.SIGKILL)

    sys.setprofile(count)
    manager.apply_bytes(data, float(now))
    sys.setprofile(None)
    print(steps)


main()
