"""``defusion fuse --compare``: the sources and the fused image side by side, labelled with their file
names and the fusion's options, in one small picture (:func:`defusion.io.sheets.compare_sheet`), so that
a fusion is judged at a glance rather than by opening three or more files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse.file_names import compare_path, said_names

if TYPE_CHECKING:
    import numpy as np

#: The options a sheet's fused tile names where given (the ones that change what the fusion is), in order.
LABELLED_OPTIONS = ("task", "pixels", "align", "palette")


def write_compare_sheet(path: Path, stem: str | None, paths: list[Path], images: list[np.ndarray],
                        fused: np.ndarray, args: argparse.Namespace) -> Path:
    """Write the sheet of ``images`` (the sources read from ``paths``) and ``fused`` to ``path`` (for one
    fusion) or ``path/<stem>.jpg`` (a folder run's pair or group); returns where it went."""
    import numpy as np

    from defusion.io.sheets import SHEET_JPEG_QUALITY, compare_sheet
    from defusion.io.writing import write_image

    out = compare_path(path, stem)
    sheet = compare_sheet(list(zip(said_names(paths), images)), fused, fused_label(args))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_image(out, np.asarray(sheet), quality=SHEET_JPEG_QUALITY)
    return out


def fused_label(args: argparse.Namespace) -> str:
    """The fused tile's label: "fused", then the options given that change what the fusion is.

    Example:
        >>> fused_label(argparse.Namespace(task="mef", pixels=None, align="affine", palette=None, deghost=True))
        'fused: --task mef --align affine --deghost'
        >>> fused_label(argparse.Namespace(task=None, pixels=None, align=None, palette="none", deghost=None))
        'fused'
    """
    given = [f"--{name} {getattr(args, name)}" for name in LABELLED_OPTIONS
             if getattr(args, name, None) not in (None, "none")]
    if getattr(args, "deghost", None):
        given.append("--deghost")
    return "fused" + (f": {' '.join(given)}" if given else "")
