"""``python -m defusion``: the ``defusion`` command, for when the console script is not on PATH."""

import sys

from defusion.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
