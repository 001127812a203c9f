"""What reading inputs has to tell the user: a Python warning for a Python caller, a line on stderr
for the ``defusion`` command.

A file read with something lost (alpha, frames, levels) or a file left out of a folder is worth
saying, not silence and not an error: a warning where the result may not be what the user expects,
a note where it is only worth knowing. A Python caller (a script, a notebook) gets each as a
:class:`~defusion.errors.DefusionWarning` or :class:`~defusion.errors.DefusionNote` through
:mod:`warnings`, so that its filters silence, record or raise them (shown once per calling line by
default). The ``defusion`` command (:func:`as_lines`) says them as ``defusion: warning: ...`` and
``defusion: note: ...`` lines on stderr, each once per process, so that a file read again (a training
epoch, a video's first frame) does not repeat it, written above any progress bar. A server or a web
page, whose user never sees stderr, gathers the lines of one request with :func:`collecting` and
shows them itself.

Example:
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     note("x.tif holds 3 frames; only the first is read")
    >>> caught[0].category.__name__, str(caught[0].message)
    ('DefusionNote', 'x.tif holds 3 frames; only the first is read')
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import sys
import threading
import warnings
from typing import Iterator, Sequence

from defusion.errors import DefusionNote, DefusionWarning, caller_stacklevel

#: What a line can be: the result may not be what the user expects, or only worth knowing.
KINDS: tuple[str, ...] = ("warning", "note")
#: How many names one line lists before it says how many more.
LISTED_NAMES = 3
#: Lines remembered as said; past this many (a server reading uploads for weeks) the memory starts over.
MAX_REMEMBERED = 4096
_said: set[str] = set()
#: Where lines go instead of stderr while :func:`collecting` is active (per thread and task).
_collector: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("defusion_notes", default=None)
#: The names the images of the fusion in progress go by (:func:`naming`), per thread and task.
_names: contextvars.ContextVar[Sequence[str] | None] = contextvars.ContextVar("defusion_image_names", default=None)
#: "image 2": how the fusion core names the images it was given, by place (1 the first).
IMAGE_BY_PLACE = re.compile(r"\bimage (\d+)\b")
#: The warning category of each kind, for a Python caller's ``warnings`` filters.
CATEGORIES: dict[str, type[DefusionWarning]] = {"warning": DefusionWarning, "note": DefusionNote}
#: How many :func:`as_lines` blocks are open (any thread), and whether this whole process says lines
#: (:func:`lines_for_process`: a server or a web page's process, whose reader is a log). Process-wide,
#: not per thread as :func:`collecting` is: the command's threads and forked data workers, which start
#: without its context, say theirs as lines too (a spawned worker gathers its own with
#: :func:`collecting` for the command's process to say). A count, not a flag saved and restored, so
#: that blocks of several threads closing in any order leave the process as it was.
_lines_depth = 0
_lines_always = False
_lines_lock = threading.Lock()


@contextlib.contextmanager
def as_lines() -> Iterator[None]:
    """Say what is said inside the block as ``defusion: warning: ...`` / ``defusion: note: ...`` lines
    on stderr, each once per process, above any progress bar, not as Python warnings: the way of the
    ``defusion`` command (:func:`defusion.cli.main.main`), whose user reads lines in a terminal.
    :func:`collecting` still gathers them inside it.

    Example:
        >>> with as_lines():
        ...     saying_lines()
        True
        >>> saying_lines()
        False
    """
    global _lines_depth
    with _lines_lock:
        _lines_depth += 1
    try:
        yield
    finally:
        with _lines_lock:
            _lines_depth -= 1


def lines_for_process() -> None:
    """Say lines, not Python warnings, for the rest of this process: for a server's or a web page's
    process (``uvicorn --factory ...:app_from_env``, the Streamlit app), whose reader is a log."""
    global _lines_always
    _lines_always = True


def saying_lines() -> bool:
    """Whether what is said now goes to stderr as lines (:func:`as_lines`), not to ``warnings``."""
    return _lines_always or _lines_depth > 0


@contextlib.contextmanager
def collecting() -> Iterator[list[str]]:
    """Gather the lines said inside the block (``"warning: ..."``, ``"note: ..."``, each once) into
    the list it yields, instead of saying them (as warnings, or lines on stderr): for a user who sees a
    page, not a terminal or a notebook.

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


def name_places(message: str, names: Sequence[str]) -> str:
    """``message`` with the fusion core's "image N" (1 the first given) put as the caller names that
    image: its file, an upload's field, a page's label. For the core's messages about arrays, not a
    decoder's, which name the files (one may be called "image 1.png").

    Example:
        >>> name_places("image 3 is (nearly) one value; image 9 too", ["a.jpg", "b.jpg", "black.jpg"])
        'black.jpg is (nearly) one value; image 9 too'
    """
    def name(found: re.Match) -> str:
        place = int(found.group(1))
        return names[place - 1] if 1 <= place <= len(names) else found.group(0)

    return IMAGE_BY_PLACE.sub(name, message)


@contextlib.contextmanager
def naming(names: Sequence[str]) -> Iterator[None]:
    """Inside the block, what is said names the images by ``names`` (:func:`name_places`), not "image N":
    the command's notes name the files it fused.

    Example:
        >>> with collecting() as said, naming(["ir.png", "vis.png"]):
        ...     note("image 2 holds float values")
        >>> said
        ['note: vis.png holds float values']
    """
    token = _names.set(list(names))
    try:
        yield
    finally:
        _names.reset(token)


def warn(message: str) -> None:
    """Say ``message`` as a warning: the result may not be what the user expects. A
    :class:`~defusion.errors.DefusionWarning` for a Python caller, the line ``defusion: warning: message``
    for the ``defusion`` command (:func:`as_lines`)."""
    _say("warning", message)


def note(message: str) -> None:
    """Say ``message`` as a note: worth knowing, nothing to fix. A :class:`~defusion.errors.DefusionNote`
    for a Python caller, the line ``defusion: note: message`` for the ``defusion`` command (:func:`as_lines`)."""
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


def tell(kind: str, message: str, line: str | None = None) -> None:
    """Say ``message`` each time it happens, not once per process (an engine falling back, a model
    exported): under the ``defusion`` command the line ``line`` (default ``defusion: kind: message``)
    on stderr, else a Python warning of ``kind``'s category, which a notebook can silence or catch.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always"); tell("note", "exporting the model")
        >>> caught[0].category.__name__, str(caught[0].message)
        ('DefusionNote', 'exporting the model')
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if not saying_lines():
        warnings.warn(message, CATEGORIES[kind], stacklevel=caller_stacklevel())
        return
    from tqdm import tqdm

    tqdm.write(line or f"defusion: {kind}: {message}", file=sys.stderr)


def _say(kind: str, message: str) -> None:
    names = _names.get()
    if names is not None:
        message = name_places(message, names)
    collected = _collector.get()
    if collected is not None:
        if f"{kind}: {message}" not in collected:
            collected.append(f"{kind}: {message}")
        return
    if not saying_lines():  # a Python caller: its warnings filters decide (once per calling line by default)
        warnings.warn(message, CATEGORIES[kind], stacklevel=caller_stacklevel())
        return
    line = f"defusion: {kind}: {message}"
    if line in _said:
        return
    if len(_said) >= MAX_REMEMBERED:
        _said.clear()
    _said.add(line)
    from tqdm import tqdm

    tqdm.write(line, file=sys.stderr)


__all__ = ["CATEGORIES", "DefusionNote", "DefusionWarning", "KINDS", "LISTED_NAMES", "MAX_REMEMBERED", "as_lines",
           "collecting", "IMAGE_BY_PLACE", "lines_for_process", "listed", "name_places", "naming", "note", "plural", "say", "saying_lines", "split_line", "tell",
           "warn"]
