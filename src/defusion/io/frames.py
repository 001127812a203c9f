"""Animated images and multi-page TIFFs: their frames counted, nothing decoded, for the one warning that
only the first is read (:func:`warn_frames`)."""

from __future__ import annotations

import io
from contextlib import suppress
from pathlib import Path
from typing import IO

from PIL import Image

from defusion.io.front_end import reading_words
from defusion.io.notes import warn

#: Formats that can hold several images, and what they call them.
_FRAME_NAMES = {"GIF": "frames", "PNG": "frames", "WEBP": "frames", "TIFF": "pages"}
#: Frames of an animated image (pages of a TIFF) counted at most, for the warning that only the first is
#: read: a file of many thousand tiny frames would otherwise take seconds to count (a 22 MB GIF of 1.5
#: million one-pixel frames, 15 s).
_FRAMES_COUNTED = 100
#: TIFF NewSubfileType's bit of a reduced-resolution copy: a preview, not a page of its own.
_TIFF_REDUCED = 1
#: GIF's blocks of an image (a frame) and of an extension; the flag of a colour table that follows a descriptor.
_GIF_IMAGE, _GIF_EXTENSION = b",", b"!"
_GIF_COLOUR_TABLE = 0x80
#: A zero byte between GIF blocks: padding some encoders write (a second block terminator) and decoders
#: (Pillow among them) step over; and how many bytes of a run of them are read at once.
_GIF_PADDING = b"\x00"
_GIF_PADDING_CHUNK = 4096


def warn_frames(path: Path, image_format: str | None, count: int) -> None:
    """Say that only the first of an animated image's ``count`` frames (a multi-page TIFF's pages) is read."""
    kind = _FRAME_NAMES.get(image_format or "")
    if kind is not None and count > 1:
        many = f"{count} or more" if count >= _FRAMES_COUNTED else str(count)
        warn(f"{path} holds {many} {kind}; only the first is read ({reading_words().frames})")


def count_frames(path: Path, im: Image.Image) -> int:
    """How many images the file holds where its format can hold several, up to ``_FRAMES_COUNTED``; else 1.

    Example:
        >>> import tempfile
        >>> frames = [Image.new("L", (4, 4), level) for level in (0, 128, 255)]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "blink.gif"
        ...     frames[0].save(path, save_all=True, append_images=frames[1:])
        ...     with Image.open(path) as im:
        ...         count_frames(path, im)
        3
    """
    if im.format not in _FRAME_NAMES:
        return 1
    if im.format == "TIFF":
        return tiff_pages(path)
    if im.format == "GIF":  # Pillow's n_frames walks every frame; an APNG's and a WebP's header says
        return _gif_frames(path)
    return min(getattr(im, "n_frames", 1), _FRAMES_COUNTED)


def tiff_pages(path: Path) -> int:
    """How many images a TIFF holds, its reduced-resolution previews not counted, up to
    ``_FRAMES_COUNTED`` (1 where tifffile cannot tell).

    Example:
        >>> import tempfile
        >>> pages = [Image.new("L", (4, 4), level) for level in (0, 255)]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Path(folder) / "scan.tif"
        ...     pages[0].save(path, save_all=True, append_images=pages[1:])
        ...     tiff_pages(path), tiff_pages(Path(folder) / "no-such.tif")
        (2, 1)
    """
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            count = 0
            for page in tif.pages:
                count += not page.subfiletype & _TIFF_REDUCED
                if count >= _FRAMES_COUNTED:
                    break
            return count
    except Exception:  # tifffile's errors on an odd file: reading its first page says what is wrong
        return 1


def _gif_frames(path: Path) -> int:
    """How many frames a GIF holds, up to ``_FRAMES_COUNTED``, from its blocks, nothing decoded (1 where
    its structure cannot be followed: reading its first frame says what is wrong)."""
    count = 0
    with suppress(OSError), open(path, "rb") as f:
        screen = f.read(13)  # signature and version, then the logical screen descriptor (its flags at 10)
        _skip_colour_table(f, screen[10:11])
        while count < _FRAMES_COUNTED:
            block = _gif_block(f)
            if block == _GIF_IMAGE:
                descriptor = f.read(9)  # position, size, then its flags
                _skip_colour_table(f, descriptor[8:9])
                f.read(1)  # LZW minimum code size
                count += _skip_sub_blocks(f)
            elif block == _GIF_EXTENSION:
                f.read(1)  # its label
                _skip_sub_blocks(f)
            else:  # the trailer, the end of the file or something unknown
                break
    return max(count, 1)


def _gif_block(f: IO[bytes]) -> bytes:
    """The byte that introduces the next GIF block (``,`` an image, ``!`` an extension, ``;`` the
    trailer), zero bytes of padding before it stepped over a chunk at a time (a long run of them costs
    no more than reading it); ``b""`` at the end of the file."""
    byte = f.read(1)
    while byte == _GIF_PADDING:
        chunk = f.read(_GIF_PADDING_CHUNK)
        if not chunk:
            return b""
        rest = chunk.lstrip(_GIF_PADDING)
        if rest:
            f.seek(1 - len(rest), io.SEEK_CUR)  # just past the block's first byte
            return rest[:1]
    return byte


def _skip_colour_table(f: IO[bytes], flags: bytes) -> None:
    """Step over the colour table that a GIF descriptor's last byte, ``flags``, says follows."""
    if flags and flags[0] & _GIF_COLOUR_TABLE:
        f.seek(3 << ((flags[0] & 7) + 1), io.SEEK_CUR)


def _skip_sub_blocks(f: IO[bytes]) -> bool:
    """Step over a GIF data block's sub-blocks; whether it ended (its terminator read) before the file did."""
    while size := f.read(1):
        if size == b"\x00":
            return True
        f.seek(size[0], io.SEEK_CUR)
    return False


__all__ = ["count_frames", "tiff_pages", "warn_frames"]
