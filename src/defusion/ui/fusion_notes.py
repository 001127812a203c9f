"""Notes on what fusing and reading did to the images, in ``defusion fuse``'s words: registration,
the image a palette colours, raw 16-bit sources stretched, float pixels outside [0, 1], and what the
fusion core itself said while fusing."""

from __future__ import annotations

import sys
from typing import Sequence

import numpy as np

from defusion.fusion.align import describe_alignment, describe_fill
from defusion.fusion.deghost import describe_ghosts
from defusion.fusion.fuser import Decomposition, Fuser
from defusion.fusion.stretch import describe_stretch
from defusion.io.float_pixels import describe_float_stretch
from defusion.io.front_end import reading_for
from defusion.io.notes import collecting, split_line
from defusion.io.probes import float_span
from defusion.ui.fusing import FusedStack
from defusion.ui.upload_names import name_images

#: The fusion core's advice to a Python caller (defusion.fusion.stretch's warning on grey float data in a
#: narrow band) -> what a web user can do instead: upload the counts.
PAGE_WORDS = {"give the uint16 counts to have them stretched, or stretch it with a FixedStretch "
              "(defusion.fusion.stretch)": "upload the counts as a 16-bit PNG or TIFF to have them stretched"}


def registration_notes(names: Sequence[str], found: Decomposition | FusedStack, motion: str) -> list[str]:
    """What alignment and deghosting found in a fusion (``found``: its ``warps``, ``ghosts``, ``frame``
    and ``fused``; ``names`` in the order given), as ``defusion fuse`` says it: a line each. What the
    fusion core says itself while fusing (an aligned upload that correlates little, a stack's misfire
    shots left out) is not made again here: :func:`fusion_lines` shows the core's own line."""
    size = found.fused.shape[:2]
    lines = (describe_alignment(names, found.warps, found.frame, size, motion),
             describe_fill(names, found.warps, size) if len(names) > 2 else None,  # a pair's: its first image
             describe_ghosts(names, found.ghosts))
    return [line for line in lines if line]


def fusion_lines(said: Sequence[str], names: Sequence[str], page_notes: Sequence[str] = ()
                 ) -> tuple[list[str], list[str]]:
    """(warnings, notes) to show with a fusion: what the fusion core said while fusing (``said``, the
    lines :func:`defusion.io.notes.collecting` gathered, "image N" named by ``names``, the uploads in
    the order given), then the page's own ``page_notes`` (:func:`palette_note`, :func:`registration_notes`)
    but those the core said too, each said once with the core's kind. Advice meant for a Python caller
    is put in a web user's words (``PAGE_WORDS``).

    Example:
        >>> said = ["warning: image 1: the palette colours a colour image", "note: image 2 is dim"]
        >>> fusion_lines(said, ["vis.png", "ir.png"], ["ir.png is dim", "aligned ir.png onto vis.png"])
        (['vis.png: the palette colours a colour image'], ['ir.png is dim', 'aligned ir.png onto vis.png'])
    """
    warnings: list[str] = []
    notes: list[str] = []
    for kind, message in map(split_line, said):
        message = name_images(message, names)
        for python, page in PAGE_WORDS.items():
            message = message.replace(python, page)
        (warnings if kind == "warning" else notes).append(message)
    return warnings, notes + [line for line in page_notes if line not in warnings and line not in notes]


def palette_note(fuser: Fuser, images: list[np.ndarray], names: list[str]) -> str | None:
    """Which image a palette colours, where the core had to guess (as ``defusion fuse`` notes it). What
    the core says checking the images is left unsaid, read as the page reads (a DefusionNote went to the
    server's log): the fusion says it, on the page, in :func:`fusion_lines`."""
    if fuser.options.palette == "none":
        return None
    with collecting(), reading_for("ui"):
        index, why = fuser.infrared_source(*images)
    if why is None:
        return None
    return (f"The palette colours {names[index]} as the infrared image ({why}, so it had to guess): pick the "
            "infrared image in the sidebar if it is another.")


def stretch_notes(images: list[np.ndarray], names: list[str], shared: bool | None = None) -> list[str]:
    """One line per mapping the fusion core stretches raw 16-bit sources by (thermal counts, a raw
    bracket when ``shared``: ``FuseOptions.stretch_shared``), in ``defusion fuse``'s words."""
    return [f"{said}, and shown so." for said in describe_stretch(names, images, shared)]


def float_range(data: bytes) -> tuple[float, float] | None:
    """The lowest and highest value of an upload's float pixels (a 32-bit float TIFF's first page,
    from its bytes: :func:`defusion.io.probes.float_span`), or None for integer pixels or a file
    that cannot be read (decoding says what is wrong). Asked of uploads already decoded, within the
    page's own pixel limit (``DEFUSION_MAX_PIXELS``), so it sets none of its own: every upload that
    was fused gets its note."""
    return float_span(data, max_pixels=sys.maxsize)


def float_note(name: str, span: tuple[float, float] | None) -> str | None:
    """What reading did to an upload of float pixels whose values ``span`` lie outside [0, 1] (a
    radiometric thermal frame in degrees): stretched from its minimum to its maximum onto the full
    range (:func:`defusion.io.images.read_image`, as ``defusion fuse`` reads it, and says in the same
    words: :func:`defusion.io.float_pixels.describe_float_stretch`), whatever *Stretch raw thermal frames*
    says; None for floats in [0, 1], read as they are, and for integer pixels.

    Example:
        >>> float_note("ir.tif", (20.5882, 44.902))
        'ir.tif holds float values 20.59 to 44.9 (not 0 to 1: a radiometric thermal frame in degrees, say): \
stretched from its minimum to its maximum onto the full range when read, and shown so (Stretch raw thermal frames \
does not apply to float frames)'
    """
    said = describe_float_stretch(name, span)
    if said is None:
        return None
    return f"{said}, and shown so (Stretch raw thermal frames does not apply to float frames)"


__all__ = ["PAGE_WORDS", "fusion_lines", "registration_notes", "palette_note", "stretch_notes", "float_range",
           "float_note"]
