"""Which front end reads an image: a Python caller (the default), the command line, the web UI, a
benchmark's scoring or a training run's data, so that what the readers say fits the user who sees it: what
raises the pixel bound (:func:`pixel_bound_setter`: ``--max-pixels`` or ``max_pixels=``), and whether
a float image's stretch is the reader's to note or the front end's, which says it in its own words. A front end sets it for the length of a block
(:func:`reading_for`), so no state outlives a command run in-process (a test, a notebook)."""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator, Literal, NamedTuple, get_args

#: Who a read is for: a Python caller, ``defusion``'s commands, its web UI, a benchmark's pair
#: (``defusion bench``'s, in its process or a worker's) or a training image (in a data worker too, which
#: starts with no front end set where it is spawned): the last two say what reading found in their own words.
FrontEnd = Literal["python", "cli", "ui", "bench", "training"]
FRONT_ENDS: tuple[str, ...] = get_args(FrontEnd)
#: The command-line option that raises the pixel bound: ``defusion fuse``'s, ``metrics``', ``video``'s,
#: ``bench``'s and ``train``'s (whose config's ``max_pixels`` it sets).
MAX_PIXELS_OPTION = "--max-pixels"
#: The argument that raises it in Python: ``read_image``'s (and ``decode_image``'s).
MAX_PIXELS_ARGUMENT = "max_pixels="
#: What raises the pixel bound for each front end's user: a command's option (bench's and train's too,
#: which read under their own front ends), a Python caller's argument, and for the web UI the
#: argument too, which it tells in its own words where it shows the error (``ImageTooLargeError.told``).
_PIXEL_BOUND_SETTERS: dict[FrontEnd, str] = {"python": MAX_PIXELS_ARGUMENT, "cli": MAX_PIXELS_OPTION,
                                             "ui": MAX_PIXELS_ARGUMENT, "bench": MAX_PIXELS_OPTION,
                                             "training": MAX_PIXELS_OPTION}
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


class ReadingWords(NamedTuple):
    """How the readers' lines say what becomes of an image, in its reader's terms (:func:`reading_words`)."""

    #: What the user does with it: "save it as 16-bit to fuse its own levels".
    verb: str
    #: What becomes of its transparent pixels, whose alpha is ignored.
    transparent: str
    #: What to do with an animated image's or a multi-page file's frames, of which only the first is read.
    frames: str


#: Each front end's words: a benchmark scores results, a training run learns from images, the rest fuse.
_WORDS: dict[FrontEnd, ReadingWords] = {
    **{end: ReadingWords("fuse", "they fuse as their colour values", "save the one to fuse as an image of its own")
       for end in ("python", "cli", "ui")},
    "bench": ReadingWords("score", "they are scored as their colour values",
                          "save the one to score as an image of its own"),
    "training": ReadingWords("train on", "training sees their colour values",
                             "save the others as images of their own to train on them"),
}


def reading_words() -> ReadingWords:
    """The words the readers say what becomes of an image in, for the read under way's user.

    Example:
        >>> reading_words().verb
        'fuse'
        >>> with reading_for("bench"):
        ...     reading_words().transparent
        'they are scored as their colour values'
    """
    return _WORDS[current_front_end()]


def transparent_warning(name: str) -> str:
    """What is said of an image ``name`` with transparent pixels, whose alpha is ignored, in the words
    of the read under way's user (:func:`reading_words`).

    Example:
        >>> transparent_warning("logo.png")
        'logo.png has transparent pixels (alpha); alpha is ignored: they fuse as their colour values (flatten it onto a background first to fuse what it shows)'
    """
    words = reading_words()
    return (f"{name} has transparent pixels (alpha); alpha is ignored: {words.transparent} (flatten it onto a "
            f"background first to {words.verb} what it shows)")


def current_front_end() -> FrontEnd:
    """Who the read under way is for: ``"python"`` unless a front end said otherwise (:func:`reading_for`)."""
    return _front_end.get()


def pixel_bound_setter() -> str:
    """What raises the pixel bound for the user of the read under way (:func:`current_front_end`), for an
    error's hint (:func:`~defusion.io.pixel_bound.limit_hint`): ``--max-pixels`` under a ``defusion`` command,
    ``defusion bench``'s scoring and ``defusion train``'s data included, and ``max_pixels=`` in Python.

    Example:
        >>> pixel_bound_setter()  # called from Python
        'max_pixels='
        >>> with reading_for("bench"):
        ...     pixel_bound_setter()
        '--max-pixels'
    """
    return _PIXEL_BOUND_SETTERS[current_front_end()]


__all__ = ["FRONT_ENDS", "MAX_PIXELS_ARGUMENT", "MAX_PIXELS_OPTION", "FrontEnd", "current_front_end",
           "pixel_bound_setter", "reading_for", "reading_words", "transparent_warning"]
