"""``python -m firmware`` is the ``portique`` command."""

import sys

from firmware.cli import main

sys.exit(main())
