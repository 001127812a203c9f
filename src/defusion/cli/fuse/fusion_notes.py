"""What the fusion core did with ``defusion fuse``'s sources, said: the raw sensor frames it stretched
(or --stretch none left flat), the image --palette colours where it had to guess, and what --align and
--deghost found, for one fusion or summed up over a folder run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse import once as once_notes
from defusion.cli.fuse.file_names import said_names
from defusion.cli.fuse.reading import in_folder_run
from defusion.io.notes import plural

#: Entries in a --palette's colour map (OpenCV's, :func:`defusion.fusion.color.thermal_colours`): its
#: colours have this many steps, whatever the bits of the file they are written to.
PALETTE_STEPS = 256

if TYPE_CHECKING:
    import numpy as np

    from defusion.fusion.fuser import Decomposition, Fuser, Fusion


def note_stretched(paths: list[Path], images: list[np.ndarray], shared: bool | None = None,
                   args: argparse.Namespace | None = None, once: set[str] | None = None) -> None:
    """Say which sources the fusion core stretches as raw sensor frames (--stretch auto), and how:
    each on its own (several cameras' frames), or ``shared`` (--task mef: one sensor's bracket) all
    by one mapping (stretch.describe_stretch); in a folder run (``args``), the first pair's only
    (``once``), as a line per pair would bury the progress bar."""
    from tqdm import tqdm

    from defusion.fusion.stretch import describe_stretch

    folder = args is not None and in_folder_run(args)
    if folder and once is not None and once_notes.STRETCHED in once:
        return
    said = describe_stretch([path.name for path in paths], images, shared)
    for line in said:
        tqdm.write(f"defusion: note: {line} (--stretch none keeps the values as they are"
                   + ("; other pairs alike, unsaid)" if folder else ")"), file=sys.stderr)
    if said and folder and once is not None:
        once.add(once_notes.STRETCHED)


def note_unstretched(paths: list[Path], images: list[np.ndarray], args: argparse.Namespace, once: set[str],
                     shared: bool | None = None) -> None:
    """Say which sources --stretch none leaves as raw sensor frames, nearly flat (the fused image is
    then close to the other source alone): one line each for a single fusion, the first pair's only
    in folder modes (thermal_notes.describe_unstretched: the API's rule and words). Only those
    --stretch auto would stretch: not a bracket's dark shot beside brighter ones that fill the range
    (``shared``, the fuser's ``stretch_shared``: --task mef), which is an exposure, fused as it is either way."""
    from defusion.fusion.thermal_notes import describe_unstretched
    from defusion.io.notes import note

    if once_notes.UNSTRETCHED in once:
        return
    said = describe_unstretched(said_names(paths), images, option="--stretch ", shared=shared)
    for line in said:
        note(line + ("; other pairs alike, unsaid" if in_folder_run(args) else ""))
    if said and in_folder_run(args):
        once.add(once_notes.UNSTRETCHED)


def note_infrared(paths: list[Path], images: list[np.ndarray], fuser: Fuser) -> None:
    """Say which image --palette colours where the core's rule (the one raw thermal frame, else the
    only grey image) had to guess."""
    from tqdm import tqdm

    index, why = fuser.infrared_source(*images)
    if why:
        tqdm.write(f"defusion: note: --palette colours {paths[index]} as the infrared image ({why}); "
                   "--infrared N picks the Nth image instead", file=sys.stderr)


def palette_range_note(span: tuple[float, float] | None, measured_on: str, kept: str = "") -> str | None:
    """What a --palette measured the infrared values it spans on (``span``: low, high, as
    :meth:`~defusion.fusion.fuser.Fuser.measure_palette` finds them; None: a flat image, no span), in the
    form --palette-range takes, so that another run colours alike: one wording for ``defusion fuse`` and
    ``defusion video`` (``kept``: what it is kept for, said after ``measured_on``); None where there is no
    range to repeat (none, or one narrower than the digits written: nearly flat infrared).

    Example:
        >>> palette_range_note((0.125, 0.75), "these images")  # doctest: +NORMALIZE_WHITESPACE
        '--palette spans infrared values 0.125 to 0.75 (measured on these images); --palette-range 0.125,0.75
        colours another run alike'
        >>> palette_range_note((0.5, 0.5000000001), "these images") is None
        True
    """
    from defusion.fusion.choices import palette_span_text

    if span is None:
        return None
    low, high = palette_span_text(span).split(",")
    if low == high:
        return None
    return (f"--palette spans infrared values {low} to {high} (measured on {measured_on}){kept}; "
            f"--palette-range {low},{high} colours another run alike")


def note_palette_range(fuser: Fuser, images: list[np.ndarray]) -> tuple[float, float] | None:
    """Say the infrared values a --palette measured on ``images`` spans (:func:`palette_range_note`), as
    ``defusion video`` does, where no --palette-range fixed them: the value that colours another run of
    other images (a clip's next frame, the same scene later) alike. Measured again after the fusion
    (:meth:`~defusion.fusion.fuser.Fuser.measure_palette`: the fusion core keeps no span it used), once:
    the span is returned for what else keys on it (--legend), --palette-range's where given (None: no
    palette, or a flat infrared image that spans nothing)."""
    from defusion.io.notes import note

    if fuser.options.palette == "none":
        return None
    if fuser.options.palette_range is not None:
        return fuser.options.palette_range
    span = fuser.measure_palette(*images)
    said = palette_range_note(span, "these images")
    if said:
        note(said)
    return span


def legend_values(fuser: Fuser, paths: list[Path], images: list[np.ndarray]
                  ) -> tuple[tuple[float, float] | None, str]:
    """The infrared source's own values (a 16-bit frame's counts, a float frame's values) that the fused
    infrared image's 0 and 1 stand for, for --legend's labels
    (:func:`~defusion.fusion.palette_legend.source_values`; None where no one line maps them: an 8-bit or
    colour source, a flat float file), and what its caption calls them: "counts", or a float file's
    "values" (degrees, say: the file does not tell). The source the palette colours as the core picks it,
    the stretch --stretch gives it (measured again: cheap, and the same), and the range reading
    stretched a float file from (that file read again, float files only)."""
    from defusion.fusion.color import thermal_source
    from defusion.fusion.palette_legend import source_values
    from defusion.fusion.stretch import FixedStretch, measure_stretch
    from defusion.io.float_pixels import float_stretched
    from defusion.io.probes import float_span

    options = fuser.options
    stretch = options.stretch
    fixed = (stretch if isinstance(stretch, FixedStretch)
             else measure_stretch(images, options.stretch_shared) if stretch == "auto" else None)
    index = options.infrared if options.infrared is not None else thermal_source(
        images, fixed.sources if fixed is not None else ())[0]
    mapping = fixed.mapping(index) if fixed is not None and index in fixed.sources else None
    floats = float_span(paths[index])
    if floats is None:
        return source_values(images[index], mapping), "counts"
    read_span = floats if float_stretched(*floats) else (0.0, 1.0)  # read as io.float_pixels reads it
    return source_values(images[index], mapping, read_span), "values"


def palette_steps_note(out: Path, folder: bool) -> str:
    """What a --palette does to a 16-bit result written 16-bit (``out``: the file, or a folder run's
    -o): its colours come from a colour map of :data:`PALETTE_STEPS` entries, so they step as an 8-bit
    image's, while the fused detail drawn over them keeps 16 bits. Said, as README promises 16-bit in,
    16-bit out: the file is, its colours are not finer than 8 bits.

    Example:
        >>> palette_steps_note(Path("f.png"), folder=False)  # doctest: +NORMALIZE_WHITESPACE
        "--palette draws from a 256-entry colour map: f.png is 16-bit and so is the fused detail over its
        colours, but the colours themselves step as an 8-bit image's"
    """
    whose = f"the results in {out} are" if folder else f"{out} is"
    return (f"--palette draws from a {PALETTE_STEPS}-entry colour map: {whose} 16-bit and so is the fused detail "
            f"over {'their' if folder else 'its'} colours, but the colours themselves step as an 8-bit image's")


def note_registration(paths: list[Path], found: Fusion | Decomposition, motion: str) -> None:
    """Say what --align found (and the frame edges it filled) and how much --deghost replaced, a line
    each, naming the files."""
    from defusion.fusion.align import describe_alignment, describe_fill
    from defusion.fusion.deghost import describe_ghosts
    from defusion.io.notes import note

    names = said_names(paths)
    size = found.fused.shape[:2]
    fill = describe_fill(names, found.warps, size) if len(names) > 2 else None  # a pair's: its first image
    for line in (describe_alignment(names, found.warps, found.frame, size, motion), fill,
                 describe_ghosts(names, found.ghosts)):
        if line:
            note(line)


def registration_extent(found: Fusion | Decomposition) -> tuple[float | None, float | None]:
    """How far --align moved the farthest-moved source of one fusion (px, its farthest corner: a
    focus stack's breathing moves corners, not the centre; None without alignment) and
    the largest share of a source's pixels --deghost replaced (None without deghosting): all a folder
    run keeps of each fusion's result, so a long run's memory does not grow with it."""
    from defusion.fusion.align import warp_extent

    size = found.fused.shape[:2]
    shifts = [warp_extent(w, *size).corners for w in found.warps if w is not None]
    return (max(shifts) if shifts else None), (max(found.ghosts) if found.ghosts else None)


def registration_summary(found: dict[str, tuple[float | None, float | None]], unit: str, motion: str
                         ) -> list[str]:
    """A line each on what --align and --deghost found over a folder run's fusions (``found``: name ->
    :func:`registration_extent`; ``unit``: "pairs" or "groups"), naming the one where they moved or
    replaced most, so a registration that went astray can be looked at.

    Example:
        >>> found = {"IMG_1": (0.5, 0.0), "IMG_4": (6.0, 0.031), "IMG_7": (1.5, 0.00004)}
        >>> for line in registration_summary(found, "groups", "euclidean"):
        ...     print(line)
        aligned 3 groups: corners moved up to 6.0 px (IMG_4), median 1.5 px
        deghost replaced up to 3.1% of a source's pixels (IMG_4); nothing moved in 2 of 3 groups
        >>> registration_summary({"a": (None, 0.0)}, "pairs", "none")
        ['deghost found nothing that moved in 1 pair']
        >>> registration_summary({"a": (None, 0.2)}, "pairs", "none")
        ["deghost replaced up to 20.0% of a source's pixels (a); nothing moved in 0 of 1 pair"]
    """
    import numpy as np

    lines = []
    shifts = {name: shift for name, (shift, _) in found.items() if shift is not None}
    if shifts:
        worst = max(shifts, key=shifts.get)
        what = "shifts" if motion == "translation" else "corners moved"  # as describe_alignment says it
        lines.append(f"aligned {plural(len(shifts), unit[:-1])}: {what} up to {shifts[worst]:.1f} px ({worst}), "
                     f"median {float(np.median(list(shifts.values()))):.1f} px")
    ghosts = {name: ghost for name, (_, ghost) in found.items() if ghost is not None}
    if ghosts:
        worst = max(ghosts, key=ghosts.get)
        still = sum(f"{share:.1%}" == f"{0:.1%}" for share in ghosts.values())  # as describe_ghosts rounds
        if still == len(ghosts):
            lines.append(f"deghost found nothing that moved in {plural(len(ghosts), unit[:-1])}")
        else:
            lines.append(f"deghost replaced up to {ghosts[worst]:.1%} of a source's pixels ({worst}); "
                         f"nothing moved in {still} of {plural(len(ghosts), unit[:-1])}")
    return lines
