"""How the page names uploads in its notes and errors: told apart where two share a name, a stack
in file-name order, and the fusion core's "image N" said as the page calls that image."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from defusion.io.shots import natural_key

#: What "image 1", "image 2" in the fusion core's messages (alignment, a camera rig) are on a pair's page.
PAIR_LABELS = ("image A", "image B")


def told_apart(names: Sequence[str]) -> list[str]:
    """Upload names as notes say them: as given, or numbered in upload order where two share a name
    (two phones' ``image.jpg``), so that "aligned image.jpg onto image.jpg" cannot happen.

    Example:
        >>> told_apart(["image.jpg", "image.jpg", "ir.png"])
        ['image.jpg (1)', 'image.jpg (2)', 'ir.png (3)']
        >>> told_apart(["vis.jpg", "ir.png"])
        ['vis.jpg', 'ir.png']
    """
    names = list(names)
    return names if len(set(names)) == len(names) else [f"{name} ({i})" for i, name in enumerate(names, start=1)]


def in_name_order(uploads: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    """A stack's ``(data, file name)`` uploads in natural file-name order (f2 before f10), as the
    CLI takes a folder's frames: a focus stack's order is its focal distance, and shots are numbered.

    Example:
        >>> [name for _, name in in_name_order([(b"", "f10.png"), (b"", "f2.png"), (b"", "f1.png")])]
        ['f1.png', 'f2.png', 'f10.png']
    """
    return sorted(uploads, key=lambda upload: natural_key(Path(upload[1])))


def name_images(message: str, labels: Sequence[str]) -> str:
    """``message`` with the fusion core's "image N" (1 the first given) put as the page calls that
    image: ``PAIR_LABELS`` for a pair (A, B), the file names for a stack (the page numbers a stack's
    images in the order they are fused, not the order given). For the core's messages about
    arrays, not a decoder's, which name the files (one may be called "image 1.png").

    Example:
        >>> name_images("cannot register image 2 to image 1 (affine): ...", PAIR_LABELS)
        'cannot register image B to image A (affine): ...'
    """
    from defusion.io.notes import name_places

    return name_places(message, labels)


__all__ = ["PAIR_LABELS", "told_apart", "in_name_order", "name_images"]
