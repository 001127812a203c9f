"""Reading ``defusion fuse``'s sources, and saying what reading did to them: float frames stretched,
an infrared + visible pair's order, sources resized (and stretched out of shape) by --resize. A note a
folder run would repeat for each pair is said once (:mod:`defusion.cli.fuse.once`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse import once as once_notes
from defusion.cli.fuse.file_names import said_names
from defusion.cli.fuse.source_sizes import check_turned

if TYPE_CHECKING:
    import numpy as np


def load_sources(paths: list[Path], args: argparse.Namespace, once: set[str]) -> list[np.ndarray]:
    """The images at ``paths`` as the fusion takes them (each read under --max-pixels; --resize brings
    them to the first's size), refusing shots turned a quarter against the others. ``once``: the notes
    this run has said that a folder run says once (their names are added as they are said)."""
    from defusion.io.images import read_image
    from defusion.io.resize import resize_to_first

    images = [read_image(p, args.max_pixels) for p in paths]
    _note_floats(paths, args, once)
    _note_infrared_first(paths, images, args, once)
    if not args.resize and getattr(args, "rig", None) is None:
        check_turned(paths, [im.shape[:2] for im in images])
    if args.resize:
        h, w = images[0].shape[:2]
        for name, image in zip(said_names(paths)[1:], images[1:]):
            _note_aspect_change(name, image, h, w)
        _note_resized(paths, images, args, once)
        images = resize_to_first(images)
    return images


def in_folder_run(args: argparse.Namespace) -> bool:
    """Whether this run fuses many pairs or groups (--a/--b or --stacks), whose notes are said once."""
    return getattr(args, "dir_a", None) is not None or getattr(args, "stacks", None) is not None


def _note_floats(paths: list[Path], args: argparse.Namespace, once: set[str]) -> None:
    """Say which sources hold float values outside [0, 1] (a radiometric thermal frame in degrees) that
    reading stretched from their minimum to their maximum (io.float_pixels.float_stretched: the web UI's rule
    and words), whatever --stretch says: one line each for a single fusion; in folder modes the first
    such source only, once, as a line per pair would bury the progress bar."""
    from defusion.io.float_pixels import describe_float_stretch
    from defusion.io.notes import note
    from defusion.io.probes import float_span

    if once_notes.FLOATS in once:
        return
    folders = in_folder_run(args)
    rest = "; other float sources are stretched alike, unsaid" if folders else ""
    for name, path in zip(said_names(paths), paths):
        said = describe_float_stretch(name, float_span(path, args.max_pixels))
        if said is None:
            continue
        note(f"{said} (--stretch does not apply to float frames{rest})")
        if folders:
            once.add(once_notes.FLOATS)
            return


def _note_infrared_first(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace,
                         once: set[str]) -> None:
    """Say, once, that an infrared + visible pair (--task ivf, or a --palette) came infrared first:
    the output takes the first image's size, and --resize shrinks the visible image to the thermal
    frame's (thermal_notes.describe_order: the API's rule and words). ``images`` as read."""
    from defusion.fusion.thermal_notes import describe_order
    from defusion.io.notes import note

    thermal = args.task == "ivf" or getattr(args, "palette", None) not in (None, "none")
    if not thermal or once_notes.ORDER in once:
        return
    named = getattr(args, "infrared", None)  # --infrared N (1-based) settles which is the infrared image
    said = describe_order(said_names(paths), images, resize="--resize" if args.resize else None,
                          infrared=None if named is None else named - 1)
    if said is not None:
        note(said + (" (--a the visible folder, --b the infrared one)" if getattr(args, "dir_a", None) else ""))
        once.add(once_notes.ORDER)


def _note_resized(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace, once: set[str]) -> None:
    """Say which sources --resize brings to the first's size, and from what size: one line naming
    each for a single fusion; in folder modes the first pair (or group) resized only, once, as a
    line per pair would bury the progress bar."""
    from defusion.io.notes import note
    from defusion.io.resize import describe_resize

    said = describe_resize(said_names(paths), images)
    if said is None or once_notes.RESIZE in once:
        return
    folders = in_folder_run(args)
    if folders:
        once.add(once_notes.RESIZE)
    rest = "; other sources of another size are resized alike, unsaid" if folders else ""
    note(f"--resize {said}{rest}")


def _note_aspect_change(name: str, image: np.ndarray, h: int, w: int) -> None:
    """Say when --resize stretches ``image`` (the source ``name``, as :func:`said_names` names it) onto an
    h x w grid of another shape (it does not crop)."""
    from tqdm import tqdm

    from defusion.io.resize import changes_aspect

    ih, iw = image.shape[:2]
    if changes_aspect(ih, iw, h, w):
        tqdm.write(f"defusion: note: --resize changes {name}'s aspect ratio (from {iw}x{ih} to {w}x{h}, WxH): "
                   "it is stretched, not cropped", file=sys.stderr)
