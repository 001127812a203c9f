"""Enfuse, the Mertens-style fusion tool of the Hugin project, as an external baseline.

Enfuse (https://enblend.sourceforge.net, Debian package ``enfuse``) blends
images in a Laplacian pyramid with per-pixel weights after Mertens, Kautz &
Van Reeth, "Exposure fusion", Pacific Graphics 2007.  It is widely used for
exposure brackets (``mode="exposure"``: its defaults, exposure 1, saturation
0.2, contrast 0) and, with contrast weighting and hard masks, for focus stacks
(``mode="focus"``).  The sources are written to temporary 16-bit TIFFs, enfuse
is run, and its 16-bit output (PNG) is read back without its alpha channel. The files are
written and read through memory (``cv2.imencode``/``imdecode``) and named to enfuse relative to the
temporary folder: OpenCV's file functions and a program's ANSI command line on Windows take no
characters outside the code page, which a user name in ``%TEMP%`` may hold.

Only usable when the ``enfuse`` executable is on ``PATH``: see
:func:`enfuse_available`; otherwise :func:`fuse_enfuse` raises ``RuntimeError``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

import cv2
import numpy as np

from defusion.baselines._common import BaselineError, BaselineRunError, check_pair, finish
from defusion.io.arrays import MAX_8BIT, MAX_16BIT

EnfuseMode = Literal["exposure", "focus"]

_MODE_ARGS: dict[str, list[str]] = {
    "exposure": ["--exposure-weight=1", "--saturation-weight=0.2", "--contrast-weight=0"],
    "focus": ["--exposure-weight=0", "--saturation-weight=0", "--contrast-weight=1", "--hard-mask"],
}


#: The files enfuse is given and writes, in a temporary folder it runs in.
SOURCE_NAMES = ("a.tif", "b.tif")
OUTPUT_NAME = "fused.png"


def enfuse_available() -> bool:
    """Whether the ``enfuse`` executable is on ``PATH``: only ``PATH`` is searched, so a program
    installed elsewhere counts only once its folder is added there.

    Example:
        >>> import os
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"PATH": ""}):  # no folder to search
        ...     enfuse_available()
        False
    """
    return shutil.which("enfuse") is not None


def _write_tiff16(path: Path, image: np.ndarray) -> None:
    data = np.round(np.clip(image, 0.0, 1.0) * MAX_16BIT).astype(np.uint16)
    if data.ndim == 3:
        data = cv2.cvtColor(data, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".tif", data)
    if not ok:
        raise BaselineRunError(f"could not write temporary TIFF {path}")
    encoded.tofile(path)


def _read_png16(path: Path, channels: int) -> np.ndarray:
    # Enfuse always adds an alpha channel; OpenCV reads a 16-bit grey+alpha TIFF
    # as 8 bits, so the output is written as PNG, which keeps 16 bits, and the
    # alpha channel is dropped by the flags below.
    flags = cv2.IMREAD_ANYDEPTH | (cv2.IMREAD_GRAYSCALE if channels == 1 else cv2.IMREAD_COLOR)
    encoded = np.fromfile(path, np.uint8)
    data = cv2.imdecode(encoded, flags) if encoded.size else None
    if data is None:
        raise BaselineRunError(f"enfuse wrote no readable image at {path}")
    scale = MAX_16BIT if data.dtype == np.uint16 else MAX_8BIT
    data = data.astype(np.float32) / scale
    return data if channels == 1 else cv2.cvtColor(data, cv2.COLOR_BGR2RGB)


def fuse_enfuse(
    a: np.ndarray, b: np.ndarray, mode: EnfuseMode = "exposure", timeout: float = 300.0
) -> np.ndarray:
    """Fuse with the ``enfuse`` executable; ``mode`` is ``"exposure"`` or ``"focus"``.

    Raises ``RuntimeError`` if enfuse is missing or fails, ``ValueError`` for another ``mode``. The
    result has the sources' shape and type (uint8 in, uint8 out).

    Example:
        >>> dark = np.full((8, 8), 0.1, np.float32)
        >>> bright = np.full((8, 8), 0.9, np.float32)
        >>> fused = fuse_enfuse(dark, bright)  # doctest: +SKIP
        >>> fused.dtype.name, round(float(fused[0, 0]), 3)  # doctest: +SKIP
        ('float32', 0.5)
        >>> fuse_enfuse(dark, bright, mode="hdr")
        Traceback (most recent call last):
        ...
        defusion.baselines._common.BaselineError: mode must be one of ['exposure', 'focus'], got 'hdr'

    Two exposures as far from mid-grey on either side fuse to mid-grey (the skipped lines need enfuse on
    ``PATH``; their output is enfuse 4.2's).
    """
    if mode not in _MODE_ARGS:
        raise BaselineError(f"mode must be one of {sorted(_MODE_ARGS)}, got {mode!r}")
    a, b, dtype = check_pair(a, b)
    exe = shutil.which("enfuse")
    if exe is None:
        raise BaselineRunError("the enfuse executable is not on PATH (Debian/Ubuntu: apt-get install enfuse)")
    with tempfile.TemporaryDirectory(prefix="defusion-enfuse-") as tmp:
        tmp_dir = Path(tmp)
        for name, image in zip(SOURCE_NAMES, (a, b)):
            _write_tiff16(tmp_dir / name, image)
        out_path = tmp_dir / OUTPUT_NAME
        cmd = [exe, *_MODE_ARGS[mode], "--depth=16", f"--output={OUTPUT_NAME}", *SOURCE_NAMES]
        try:  # run in the folder, its files named alone: nothing of %TEMP%'s path on the command line
            result = subprocess.run(cmd, capture_output=True, text=True, errors="replace",
                                    timeout=timeout, check=False, cwd=tmp_dir)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BaselineRunError(f"enfuse could not run: {exc}") from exc
        if result.returncode != 0 or not out_path.exists():
            detail = (result.stderr or result.stdout).strip()[-2000:]
            raise BaselineRunError(f"enfuse failed with exit code {result.returncode}: {detail}")
        fused = _read_png16(out_path, 1 if a.ndim == 2 else 3)
    if fused.shape != a.shape:
        raise BaselineRunError(f"enfuse returned shape {fused.shape}, expected {a.shape}")
    return finish(fused, dtype)


def fuse_enfuse_focus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`fuse_enfuse` in focus-stacking mode (contrast weight 1, hard masks).

    Enfuse's contrast window is 5x5, so images must be at least 5 pixels on
    each side (smaller ones make enfuse fail, hence ``RuntimeError``).

    Example:
        >>> sharp = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)  # a checkerboard
        >>> left = np.arange(16) < 8
        >>> a = np.where(left, sharp, 0.5).astype(np.float32)  # in focus on the left only
        >>> b = np.where(left, 0.5, sharp).astype(np.float32)  # in focus on the right only
        >>> fused = fuse_enfuse_focus(a, b)  # doctest: +SKIP
        >>> float(np.abs(fused - sharp)[2:-2, 2:-2].max()) < 0.01  # doctest: +SKIP
        True

    Each side is taken from the source in focus there, all but a 2-pixel edge (the skipped lines need
    enfuse on ``PATH``; enfuse 4.2 ran them). ``fuse_enfuse(a, b)``, weighing by exposure, takes the
    flat grey instead (mid-grey is well exposed): the checkerboard comes out at 0.48 and 0.52.
    """
    return fuse_enfuse(a, b, mode="focus")
