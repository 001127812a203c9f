"""Which front end reads an image: a Python caller (the default), the command line, the web UI, a
benchmark's scoring or a training run's data, so that what the readers say fits the user who sees it: the option that
raises the pixel bound (``--max-pixels``, ``max_pixels=``, or none where there is none), and whether
a float image's stretch is the reader's to note or the front end's, which says it in its own words. A front end sets it for the length of a block
(:func:`reading_for`), so no state outlives a command run in-process (a test, a notebook)."""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Literal, get_args

#: Who a read is for: a Python caller, ``defusion``'s commands, its web UI, a benchmark's pair
#: (``defusion bench``'s, in its process or a worker's) or a training image (in a data worker too, which
#: starts with no front end set where it is spawned): the last two have no pixel-bound option to name
#: and say what reading found in their own words.
FrontEnd = Literal["python", "cli", "ui", "bench", "training"]
FRONT_ENDS: tuple[str, ...] = get_args(FrontEnd)
_front_end: contextvars.ContextVar[FrontEnd] = contextvars.ContextVar("defusion_front_end", default="python")


@contextlib.contextmanager
def reading_for(front_end: FrontEnd) -> Iterator[None]:
    """Read images inside the block for ``front_end`` (per thread and task, as :mod:`contextvars` is).

    Example:
        >>> with reading_for("cli"):
        ...     current_front_end()
        'cli'
        >>> current_front_end()
        'python'
    """
    if front_end not in FRONT_ENDS:
        raise ValueError(f"unknown front end {front_end!r}; use one of {', '.join(FRONT_ENDS)}")
    token = _front_end.set(front_end)
    try:
        yield
    finally:
        _front_end.reset(token)


def current_front_end() -> FrontEnd:
    """Who the read under way is for: ``"python"`` unless a front end said otherwise (:func:`reading_for`)."""
    return _front_end.get()


__all__ = ["FRONT_ENDS", "FrontEnd", "current_front_end", "reading_for"]
