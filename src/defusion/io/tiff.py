"""Grey and RGB TIFFs decoded by tifffile, where Pillow would get them wrong: it scrambles an uncompressed
grey TIFF turned a quarter (orientation 5-8) and 16-bit colour stored plane by plane, and cannot open
16-bit grey + alpha. Any other TIFF (palette, CMYK, a compression tifffile lacks) is left to Pillow."""

from __future__ import annotations

import io
from contextlib import suppress
from pathlib import Path

import numpy as np

from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import FloatReading
from defusion.io.levels import levels, opaque_alpha
from defusion.io.orientation import EXIF_ORIENTATION, upright_array
from defusion.io.pixel_bound import check_pixels

#: TIFF SampleFormat of floating-point samples.
TIFF_FLOAT = 3
#: TIFF's first bytes (classic and BigTIFF, either byte order).
TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: TIFF colour models tifffile reads here (grey, RGB; Pillow reads the rest), and its sample layouts handled.
_TIFF_GREY, _TIFF_RGB = 1, 2
_TIFF_LAYOUTS = ("YX", "YXS", "SYX")
#: TIFF ExtraSamples values that are alpha (associated, unassociated).
_TIFF_ALPHA = (1, 2)


def is_tiff(path: Path) -> bool:
    """Whether ``path`` starts as a TIFF does.

    Example:
        >>> is_tiff(Path("no-such-file.tif"))
        False
    """
    with suppress(OSError), open(path, "rb") as f:
        return f.read(len(TIFF_SIGNATURES[0])) in TIFF_SIGNATURES
    return False


def from_tifffile(path: Path, max_pixels: int, floats: FloatReading = "stretch") -> tuple[np.ndarray, bool] | None:
    """A grey or RGB TIFF's first page decoded by tifffile and turned upright by its Orientation tag
    here, and whether some pixel is transparent. Pillow scrambles an uncompressed grey TIFF turned by a
    quarter (orientation 5-8) and 16-bit colour stored plane by plane, and cannot open 16-bit grey +
    alpha. None where tifffile cannot decode it (LZW and JPEG need imagecodecs; a truncated file) or
    it holds another colour model (palette, CMYK, YCbCr, white-is-zero) or bilevel pixels: Pillow then
    reads it, or says why it cannot."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            if page.photometric not in (_TIFF_GREY, _TIFF_RGB) or page.axes not in _TIFF_LAYOUTS \
                    or page.bitspersample < 8:
                return None
            check_pixels(path, page.imagewidth, page.imagelength, max_pixels)
            colours = 1 if page.photometric == _TIFF_GREY else 3
            if page.samplesperpixel > colours + 1:  # a small file could declare thousands per pixel
                raise ImageReadError(f"{path}: {page.samplesperpixel} samples per pixel; defusion reads grey or RGB "
                                     "images, with at most one alpha sample")
            values = page.asarray()
            orientation = page.tags.valueof(EXIF_ORIENTATION, 1)
            extras = tuple(page.extrasamples)
            layout = page.axes
    except ImageReadError:  # too large, or too many samples: said, not passed on to Pillow
        raise
    except Exception:  # tifffile's errors: a compression it lacks, a truncated or unusual file
        return None
    values, alpha = _colour_and_alpha(values, colours, extras, layout)
    transparent = alpha is not None and bool(alpha.min() < opaque_alpha(alpha.dtype))
    return np.ascontiguousarray(upright_array(levels(path, values, floats), orientation)), transparent


def tiff_floats(source: Path | bytes, max_pixels: int) -> np.ndarray | None:
    """A TIFF's first page's pixels as tifffile decodes them (its alpha left out, as reading leaves it)
    where its samples are floats; None for other samples or over ``max_pixels``; tifffile's errors where
    it cannot decode the file.

    Example:
        >>> import tifffile
        >>> stored = io.BytesIO()
        >>> tifffile.imwrite(stored, np.array([[0.5, 1.5], [20.0, -3.0]], np.float32))  # a radiometric frame
        >>> tiff_floats(stored.getvalue(), 100).tolist(), tiff_floats(stored.getvalue(), 3)
        ([[0.5, 1.5], [20.0, -3.0]], None)
    """
    import tifffile

    with tifffile.TiffFile(io.BytesIO(source) if isinstance(source, bytes) else source) as tif:
        page = tif.pages.first
        if page.sampleformat != TIFF_FLOAT or page.imagewidth * page.imagelength > max_pixels:
            return None
        colours = 1 if page.photometric == _TIFF_GREY else 3
        return _colour_and_alpha(page.asarray(), colours, tuple(page.extrasamples), page.axes)[0]


def _colour_and_alpha(values: np.ndarray, colours: int, extras: tuple, layout: str
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """A TIFF page's samples (tifffile's array) as the grey or RGB pixels reading keeps, HxW or HxWx3,
    and its alpha plane (None without one): extra samples are never pixels, nor counted in their range."""
    if layout == "SYX":
        values = np.moveaxis(values, 0, -1)
    alpha = None
    if values.ndim == 3:
        declared = extras or _TIFF_ALPHA[:1]  # undeclared (OpenCV declares none): alpha, as Pillow takes it
        index = next((colours + i for i, kind in enumerate(declared) if kind in _TIFF_ALPHA), None)
        if index is not None and index < values.shape[2]:
            alpha = values[:, :, index]
        values = values[:, :, 0] if colours == 1 else values[:, :, :colours]
    return values, alpha


__all__ = ["TIFF_FLOAT", "TIFF_SIGNATURES", "from_tifffile", "is_tiff", "tiff_floats"]
