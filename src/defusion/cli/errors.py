"""Turning expected failures into one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Callable

#: Exit status for bad input or usage (argparse uses 2 as well).
EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix (bad file, bad option); shown without a traceback."""


def run_guarded(fn: Callable[[], int | None], expected: tuple[type[BaseException], ...] = ()) -> int:
    """Run ``fn``; user-facing errors become ``defusion: error: ...`` and exit status 2."""
    try:
        return fn() or 0
    except KeyboardInterrupt:
        print("defusion: interrupted", file=sys.stderr)
        return 130
    except (UserError, *expected) as exc:
        print(f"defusion: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
