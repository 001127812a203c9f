"""Turning expected failures into one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import os
import sys
from typing import Callable

#: Exit status for bad input or usage (argparse uses 2 as well).
EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix (bad file, bad option); shown without a traceback."""


def run_guarded(fn: Callable[[], int | None], expected: tuple[type[BaseException], ...] = ()) -> int:
    """Run ``fn``; user-facing errors become ``defusion: error: ...`` and exit status 2."""
    try:
        status = fn() or 0
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at exit
        return status
    except KeyboardInterrupt:
        print("defusion: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed it: not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit
        return 1
    except (UserError, *expected) as exc:
        print(f"defusion: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
