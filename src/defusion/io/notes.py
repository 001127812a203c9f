"""What reading inputs has to tell the user, said on stderr the way ``defusion`` says its own lines.

A file read with something lost (alpha, frames, levels) or a file left out of a folder is worth one
line, not silence and not an error: ``defusion: warning: ...`` where the result may not be what the
user expects, ``defusion: note: ...`` where it is only worth knowing. Each line is said once per
process, so a file read again (a training epoch, a video's first frame) does not repeat it; it is
written above any progress bar. A server or a web page, whose user never sees stderr, gathers the
lines of one request with :func:`collecting` and shows them itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Iterator

#: What a line can be: the result may not be what the user expects, or only worth knowing.
KINDS: tuple[str, ...] = ("warning", "note")
#: How many names one line lists before it says how many more.
LISTED_NAMES = 3
#: Lines remembered as said; past this many (a server reading uploads for weeks) the memory starts over.
MAX_REMEMBERED = 4096
_said: set[str] = set()
#: Where lines go instead of stderr while :func:`collecting` is active (per thread and task).
_collector: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("defusion_notes", default=None)


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Gather the lines said inside the block (``"warning: ..."``, ``"note: ..."``, each once) into
    the list it yields, instead of writing them to stderr: for a user who sees a page, not a terminal.

    Example:
        >>> with collecting() as said:
        ...     warn("x.png has transparent pixels"); warn("x.png has transparent pixels")
        >>> said
        ['warning: x.png has transparent pixels']
    """
    lines: list[str] = []
    token = _collector.set(lines)
    try:
        yield lines
    finally:
        _collector.reset(token)


def warn(message: str) -> None:
    """Say ``defusion: warning: message`` once: the result may not be what the user expects."""
    _say("warning", message)


def note(message: str) -> None:
    """Say ``defusion: note: message`` once: worth knowing, nothing to fix."""
    _say("note", message)


def say(kind: str, message: str) -> None:
    """Say ``message`` as ``kind`` (``"warning"`` or ``"note"``): a gathered line said again, e.g.
    naming an upload rather than the temporary file it was read from."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    _say(kind, message)


def split_line(line: str) -> tuple[str, str]:
    """A line :func:`collecting` gathered -> (kind, message), kind ``"warning"`` (the result may not
    be what the user expects) or ``"note"``: for a page to show each its way, or to say it again.

    Example:
        >>> split_line("warning: a.png has transparent pixels (alpha); alpha is ignored")
        ('warning', 'a.png has transparent pixels (alpha); alpha is ignored')
    """
    kind, _, message = line.partition(": ")
    return kind, message


def listed(names: list[str], shown: int = LISTED_NAMES) -> str:
    """Names joined for one line: the first ``shown`` and how many more.

    Example:
        >>> listed(["a.png", "b.png", "c.png", "d.png", "e.png"])
        'a.png, b.png, c.png and 2 more'
    """
    return ", ".join(names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")


def plural(count: int, noun: str) -> str:
    """A count and its noun, for one line.

    Example:
        >>> plural(1, "pair"), plural(3, "method result")
        ('1 pair', '3 method results')
    """
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _say(kind: str, message: str) -> None:
    collected = _collector.get()
    if collected is not None:
        if f"{kind}: {message}" not in collected:
            collected.append(f"{kind}: {message}")
        return
    line = f"defusion: {kind}: {message}"
    if line in _said:
        return
    if len(_said) >= MAX_REMEMBERED:
        _said.clear()
    _said.add(line)
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


__all__ = ["KINDS", "LISTED_NAMES", "MAX_REMEMBERED", "collecting", "warn", "note", "say", "split_line", "listed"]
