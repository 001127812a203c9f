"""``defusion fuse --compare``: the sources and the fused image side by side, labelled with their file
names and the options that shaped the fusion, in one small picture
(:func:`defusion.fusion.provenance.labelled_sheet`, the web UI's too), so that a fusion is judged at a glance
rather than by opening three or more files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse.file_names import compare_path, said_names

if TYPE_CHECKING:
    import numpy as np

    from defusion.fusion.fuser import Fuser
    from defusion.fusion.provenance import MadeBy


def write_compare_sheet(path: Path, stem: str | None, paths: list[Path], images: list[np.ndarray],
                        fused: np.ndarray, made_by: MadeBy | None) -> Path:
    """Write the sheet of ``images`` (the sources read from ``paths``) and ``fused`` (labelled by what
    made it: :func:`defusion.fusion.provenance.fused_label`) to ``path`` (for one fusion) or
    ``path/<stem>.jpg`` (a folder run's pair or group); returns where it went."""
    import numpy as np

    from defusion.fusion.provenance import labelled_sheet
    from defusion.io.sheets import SHEET_JPEG_QUALITY
    from defusion.io.writing import write_image

    out = compare_path(path, stem)
    sheet = labelled_sheet(list(zip(said_names(paths), images)), fused, made_by)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_image(out, np.asarray(sheet), quality=SHEET_JPEG_QUALITY)
    return out


def made_by(fuser: Fuser, args: argparse.Namespace) -> MadeBy:
    """What a ``defusion fuse`` fusion ran with: ``fuser``'s options, runtime and precision, the
    weights of --onnx or --weights (none: the shipped ones) and --task, for its image's record and its
    compare sheet's label (:mod:`defusion.fusion.provenance`)."""
    from defusion.fusion.provenance import MadeBy

    return MadeBy.of(fuser, getattr(args, "onnx", None) or getattr(args, "weights", None),
                     getattr(args, "task", None))
