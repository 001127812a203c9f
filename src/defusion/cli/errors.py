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
        close_progress_bars()
        print("defusion: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which closed it: not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit
        return 1
    except (UserError, *expected) as exc:
        close_progress_bars()
        print(f"defusion: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def close_progress_bars() -> None:
    """Close the progress bars left open by an interrupt or an error, innermost first: a bar is
    drawn without a line end, so what is said next would be glued to it (``...s/tile]defusion:
    interrupted``); closed, a bar is cleared or ends its line."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is None:  # no bar was ever drawn
        return
    bars = list(getattr(tqdm.tqdm, "_instances", ()))
    for bar in sorted(bars, key=lambda bar: -abs(getattr(bar, "pos", 0))):
        bar.close()
