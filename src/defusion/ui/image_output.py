"""The page's images as it hands them out: PNG bytes (with the uploads' metadata), a compare sheet
as JPEG bytes, and file names for downloads, and alt text for showing them."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from defusion.fusion.color import to_uint8
from defusion.io.icc import matched_metadata
from defusion.io.metadata import ImageMetadata, choose_metadata, embed_metadata, read_metadata
from defusion.fusion.provenance import MadeBy, labelled_sheet


def png_bytes(image: np.ndarray, sources: Sequence[bytes | ImageMetadata] | None = None,
              matched: Sequence[np.ndarray] | None = None, made_by: MadeBy | None = None) -> bytes:
    """Encode HxW or HxWx3 uint8/uint16 RGB as PNG (16-bit stays 16-bit); with ``sources`` (in order)
    it carries their colour profile and the first one's EXIF, as ``defusion fuse`` does. ``sources``:
    the uploads' metadata as decoding read it once (:attr:`defusion.ui.uploads.Decoded.metadata`, the
    profiles as the pixels were matched: nothing is read again), or the uploaded files, read here.
    ``matched``: with files, the sources' pixels as fused, their colours brought into one profile
    (:func:`~defusion.ui.uploads.matched_colours`), which the image then carries (the first colour
    upload's: :func:`defusion.io.icc.matched_metadata`); without them, the files' first.
    ``made_by``: what fused it (the page's fuser and weights), whose record it carries, as ``defusion
    fuse`` writes it (:mod:`defusion.fusion.provenance`), the examples' fusions too."""
    if image.dtype not in (np.uint8, np.uint16):
        image = to_uint8(image)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", bgr)
    if not ok:  # pragma: no cover - cv2 encodes any uint8/uint16 array
        raise OSError("PNG encoding failed")
    if not sources and made_by is None:
        return encoded.tobytes()
    read = [source if isinstance(source, ImageMetadata) else read_metadata(source) for source in sources or []]
    if matched is not None and read:
        read = matched_metadata(matched, read)
    metadata = choose_metadata(read, colour=image.ndim == 3, record=made_by.record() if made_by else None)
    return embed_metadata(encoded.tobytes(), ".png", metadata)


def sheet_jpeg(sources: Sequence[tuple[str, np.ndarray]], fused: np.ndarray, made_by: MadeBy | None = None) -> bytes:
    """The sources (``(name, pixels)``, in the order shown) and ``fused`` side by side, labelled, as JPEG
    bytes: ``defusion fuse --compare``'s sheet (:func:`defusion.fusion.provenance.labelled_sheet`), the fused
    tile labelled by the options that shaped it (``made_by``: the page's), to share a fusion as one picture.

    Example:
        >>> grey = np.zeros((30, 40), np.uint8)
        >>> sheet_jpeg([("ir.png", grey), ("vis.png", grey)], grey).startswith(bytes([0xFF, 0xD8]))  # a JPEG
        True
    """
    from defusion.io.sheets import SHEET_JPEG_QUALITY

    buffer = io.BytesIO()
    labelled_sheet(sources, fused, made_by).save(buffer, format="JPEG", quality=SHEET_JPEG_QUALITY)
    return buffer.getvalue()


def download_name(name_a: str, name_b: str, *more: str, part: str = "fused", suffix: str = ".png") -> str:
    """``fused_<a>_<b>.png``; a bracket or stack is named by its first and last image (give them in
    the order the page shows them, the order fused); ``part`` names another image of the result
    (``common``, ``unique_a``, ...) and ``suffix`` its file type.

    Example:
        >>> download_name("ir.png", "vis.jpg"), download_name("ev-2.jpg", "ev0.jpg", "ev+2.jpg")
        ('fused_ir_vis.png', 'fused_ev-2_to_ev+2.png')
        >>> download_name("ir.png", "vis.jpg", part="common")
        'common_ir_vis.png'
    """
    stem = lambda n: Path(n).stem or "image"  # noqa: E731
    if more:
        return f"{part}_{stem(name_a)}_to_{stem(more[-1])}{suffix}"
    return f"{part}_{stem(name_a)}_{stem(name_b)}{suffix}"


def alt_text(what: str, names: Sequence[str] = (), palette: str = "none") -> str:
    """An image's alt text on the page, for a screen reader or a page that did not load its images:
    ``what`` it is, of which uploads (``names``), and the thermal palette that coloured it (none:
    unsaid).

    Example:
        >>> alt_text("fused image", ["vis.png", "ir.png"], "inferno")
        'fused image of vis.png and ir.png, inferno palette'
        >>> alt_text("source image B, ir.png")
        'source image B, ir.png'
        >>> alt_text("fused image", ["f1.png", "f2.png", "f3.png"])
        'fused image of f1.png, f2.png and f3.png'
    """
    said = list(names)
    of = f" of {', '.join(said[:-1])} and {said[-1]}" if len(said) > 1 else f" of {said[0]}" if said else ""
    return f"{what}{of}" + (f", {palette} palette" if palette != "none" else "")


__all__ = ["png_bytes", "download_name", "alt_text", "sheet_jpeg"]
