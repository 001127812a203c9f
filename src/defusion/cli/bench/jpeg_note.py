"""The notes ``defusion bench`` says where published results stored as JPEG are scored beside built-in
methods' lossless ones (or beside another --jpeg-quality than theirs), or beside --fused results stored
lossless (--jpeg-quality encodes only the built-in methods'): the comparison would not be fair."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from defusion.io.formats import JPEG_MATCH
from defusion.io.notes import listed, note

if TYPE_CHECKING:
    from defusion.cli.bench.fingerprints import Published


def _qualities(found: Iterable[tuple[int, bool]]) -> str:
    """JPEG qualities (quality, exact: :func:`~defusion.io.jpeg.jpeg_quality`) for a note: ``75``, or
    ``75-95`` where they differ, ``about 75`` where another encoder's tables only come near one."""
    found = list(found)
    low, high = min(q for q, _ in found), max(q for q, _ in found)
    about = "" if all(exact for _, exact in found) else "about "
    return f"{about}{low}" if low == high else f"{about}{low}-{high}"


def say_lossy(published: Published, jpeg_quality: int | str | None, builtin: list[str]) -> None:
    """Note, before anything is fused, published results stored as JPEG where the built-in methods'
    are scored lossless: JPEG at VIFB's quality 75 moves Qabf by 0.02-0.04 on its pairs, as much as
    separates neighbouring methods, so a fair table scores both after the same loss (--jpeg-quality);
    and a --jpeg-quality that is none of the published results' qualities."""
    if not published.jpeg or not builtin or jpeg_quality == JPEG_MATCH:  # stored as theirs, pair by pair
        return
    every = [found for method in published.jpeg.values() for found in method]
    said = [f"{name} (quality {_qualities(found)})" for name, found in published.jpeg.items()]
    levels = sorted({q for q, _ in every})
    if jpeg_quality is None:
        hint = f"--jpeg-quality {levels[0]}" if len(levels) == 1 else "--jpeg-quality match"
        note(f"published results stored as JPEG: {listed(said)}; the built-in methods' are scored lossless, which "
             f"favours them (docs/benchmarks.md, 'JPEG results'): {hint} scores them after the same encoding")
    elif jpeg_quality not in levels:
        note(f"--jpeg-quality {jpeg_quality}: the published results' first files are of quality "
             f"{_qualities(every)} ({listed(said)})")


def say_lossless_beside_jpeg(published: Published) -> None:
    """Note --fused results stored lossless (PNG, TIFF, ...: a user's own) scored beside --fused results
    stored as JPEG (VIFB's, MFIFB's published ones): each is scored as stored, --jpeg-quality encoding only
    the built-in methods' results, so the lossless ones are favoured as the built-in methods' would be
    (:func:`say_lossy`); said whatever --jpeg-quality and --methods are, and how to compare alike."""
    if not published.lossless or not published.jpeg:
        return
    every = [found for method in published.jpeg.values() for found in method]
    levels = sorted({q for q, _ in every})
    stored = [f"{name} ({formats})" for name, formats in published.lossless.items()]
    said = [f"{name} (quality {_qualities(found)})" for name, found in published.jpeg.items()]
    if len(levels) == 1:
        alike = f"save them as JPEG of quality {levels[0]}, as the published ones are"
        builtin = f"--jpeg-quality {levels[0]}"
    else:
        alike = f"save each pair's as JPEG of the quality of its published results ({_qualities(every)})"
        builtin = "--jpeg-quality match"
    note(f"--fused results stored lossless: {listed(stored)}, scored beside published results stored as JPEG: "
         f"{listed(said)}; each is scored as stored (--jpeg-quality encodes only the built-in methods' results), "
         f"which favours the lossless ones (docs/benchmarks.md, 'JPEG results'): to compare alike, {alike}, or "
         f"where the method is built in, run it with --methods and {builtin}")
