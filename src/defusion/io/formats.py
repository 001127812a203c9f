"""What :mod:`defusion.io.writing` writes and :mod:`defusion.io.images`' pixel bound, without their dependencies
(OpenCV, Pillow, numpy): the command line's options show them in ``--help``, which stays fast."""

from __future__ import annotations

#: Default bound on width x height of an input (decompression-bomb guard): 100 MP.
DEFAULT_MAX_PIXELS = 100_000_000
#: Suffixes that :func:`defusion.io.writing.write_image` can produce.
WRITABLE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp")
#: Suffixes that keep 16-bit data (the others are written with 8 bits).
SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")
#: JPEG quality (``write_image``'s default) and the one from which colour is kept at full resolution.
DEFAULT_JPEG_QUALITY = 95
FULL_CHROMA_QUALITY = 90

__all__ = ["DEFAULT_MAX_PIXELS", "WRITABLE_SUFFIXES", "SIXTEEN_BIT_SUFFIXES", "DEFAULT_JPEG_QUALITY",
           "FULL_CHROMA_QUALITY"]
