"""The pixel bound on inputs (``--max-pixels``, :data:`~defusion.io.formats.DEFAULT_MAX_PIXELS`): checked
from an image's header before anything is decoded, said as one :class:`ImageTooLargeError` whose hint
names the bound where its user sets it (:func:`limit_hint`), and Pillow's own decompression-bomb guard
kept from refusing what the bound allows."""

from __future__ import annotations

import enum
import re
from pathlib import Path

from PIL import Image

from defusion.io.errors import ImageReadError
from defusion.io.formats import pillow_formats
from defusion.io.front_end import MAX_PIXELS_ARGUMENT, MAX_PIXELS_OPTION, pixel_bound_setter

#: How a command-line user raises the pixel bound (``defusion fuse``, ``metrics``, ``video``, ``bench``,
#: ``train``); the server and the web UI say theirs (:meth:`ImageTooLargeError.told`).
RAISE_LIMIT_HINT = f"raise it with {MAX_PIXELS_OPTION}"
#: How a Python caller raises it: the argument of ``read_image`` (and ``decode_image``) that sets it.
PYTHON_LIMIT_HINT = f"raise it with {MAX_PIXELS_ARGUMENT}"
#: Bytes Pillow reads to pick the plugin of a file's format (``Image.open``'s prefix).
_PREFIX_BYTES = 16


class _Hint(enum.Enum):
    """The default of :class:`ImageTooLargeError`'s ``hint``: the one of the surface it is raised under."""

    SURFACE = "surface"


def limit_hint() -> str:
    """How the user who met the pixel bound raises it, as the front end of the read decides
    (:func:`~defusion.io.front_end.pixel_bound_setter`): ``--max-pixels`` under a ``defusion`` command
    (``defusion fuse`` reads through :func:`read_image`; ``bench``'s scoring and ``train``'s data too),
    ``max_pixels=``, the argument of a Python caller's ``read_image``.

    Example:
        >>> limit_hint()  # called from Python, not under a defusion command
        'raise it with max_pixels='
    """
    return f"raise it with {pixel_bound_setter()}"


class ImageTooLargeError(ImageReadError):
    """An input over the pixel bound: ``source`` (a path or an upload's name) and ``detail`` (its
    size against the bound), then ``hint`` in brackets: how to raise the bound, by default in the terms
    of the surface it is raised under (:func:`limit_hint`: ``--max-pixels`` on the command line,
    ``max_pixels=`` in Python), which a server or UI tells in its own terms, and names an upload as its
    user knows it, with :meth:`told`.

    Example:
        >>> err = ImageTooLargeError("/tmp/x.png", "4x4 is 16 pixels, over the limit of 9 pixels")
        >>> str(err.told(source="a.png", hint="the server's --max-pixels"))
        "a.png: 4x4 is 16 pixels, over the limit of 9 pixels (the server's --max-pixels)"
    """

    def __init__(self, source: str | Path, detail: str, hint: str | None | _Hint = _Hint.SURFACE) -> None:
        hint = limit_hint() if hint is _Hint.SURFACE else hint
        self.source, self.detail, self.hint = str(source), detail, hint
        super().__init__(f"{self.source}: {detail}" + (f" ({hint})" if hint else ""))

    def told(self, *, source: str | Path | None = None, hint: str | None = None) -> ImageTooLargeError:
        """The same error naming ``source`` instead, with ``hint`` instead (where the error has one:
        Pillow's own guard, which no flag raises, keeps none)."""
        return ImageTooLargeError(self.source if source is None else source, self.detail,
                                  hint if hint is not None and self.hint else self.hint)

    def __reduce__(self) -> tuple:  # pickled whole (a benchmark worker's error), not by its message
        return type(self), (self.source, self.detail, self.hint), self.__dict__


def allow_pixels(max_pixels: int) -> None:
    """Let Pillow open what ``max_pixels`` allows: its own bomb guard (89.5 MP, refusing over twice
    that) would otherwise refuse a larger bound the user set; never lowered, so other code's
    setting keeps its meaning."""
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels


def check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    """ImageTooLargeError where a header's size is over the pixel bound, before anything is decoded.

    Example:
        >>> check_pixels(Path("a.png"), 3, 3, 9)  # at the bound: allowed
        >>> check_pixels(Path("a.png"), 4, 4, 9)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.io.pixel_bound.ImageTooLargeError: a.png: 4x4 is 16 pixels, over the limit of 9 pixels (raise ...)
    """
    if width * height > max_pixels:  # exact counts, as the server says them: rounded, both could read 0.1 MP
        raise ImageTooLargeError(path, f"{width}x{height} is {width * height:,} pixels, over the limit of "
                                       f"{max_pixels:,} pixels")


def bomb_error(path: Path, exc: Image.DecompressionBombError, max_pixels: int) -> ImageTooLargeError:
    """Pillow's DecompressionBombError, raised before the header is ours to check, as the
    ImageTooLargeError to raise: over ``max_pixels``, said as :func:`check_pixels` says it (width x height
    and exact counts, read again from the header by :func:`_header_size`; the count Pillow gives where
    the header cannot be read), or over Pillow's own bound where other code lowered it below ours (which
    no flag raises: no hint).

    Example:
        >>> bomb = Image.DecompressionBombError("Image size (400000000 pixels) exceeds limit")
        >>> str(bomb_error(Path("big.png"), bomb, 100_000_000))  # no such file: Pillow's count
        'big.png: 400,000,000 pixels, over the limit of 100,000,000 pixels (raise it with max_pixels=)'
    """
    size = _header_size(path)
    found = re.search(r"\((\d+) pixels\)", str(exc))
    count = size[0] * size[1] if size else int(found.group(1)) if found else None
    said = f"{size[0]}x{size[1]} is {count:,} pixels" if size else f"{count:,} pixels" if count else ""
    if count is None or count > max_pixels:
        return ImageTooLargeError(path, f"{said + ', ' if said else ''}over the limit of {max_pixels:,} pixels")
    return ImageTooLargeError(  # Pillow's bound, lowered by other code below ours
        path, f"{said}: too many for Pillow to open safely (its decompression-bomb guard, Image.MAX_IMAGE_PIXELS)",
        hint=None)


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the header of the image at ``path``, read by the Pillow plugin of the format
    it holds (one of :func:`~defusion.io.formats.pillow_formats`) as ``Image.open`` does, without its
    decompression-bomb check, which refused it: nothing is decoded. None where it cannot be read.

    Example:
        >>> _header_size(Path("no-such-file.png")) is None
        True
    """
    try:
        Image.init()  # the plugins of every format (Image.open had loaded those of the one it tried)
        with open(path, "rb") as f:
            prefix = f.read(_PREFIX_BYTES)
            for name in pillow_formats():
                factory, accept = Image.OPEN.get(name, (None, None))
                if factory is None or (accept and accept(prefix) is not True):
                    continue
                f.seek(0)
                with factory(f, str(path)) as im:
                    return im.size
    except Exception:  # noqa: BLE001 - a header Pillow cannot make out: the count alone is said
        return None
    return None


__all__ = ["PYTHON_LIMIT_HINT", "RAISE_LIMIT_HINT", "ImageTooLargeError", "allow_pixels", "bomb_error", "check_pixels",
           "limit_hint"]
