"""How long and how large a fusion is, said before the work: the network passes a fusion (or a folder
run's largest) takes where they are many, and a warning where its peak memory is over what the
machine has available. The figures are :mod:`defusion.cli.job_size`'s."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from defusion.cli.fuse.file_names import already_fused
from defusion.cli.job_size import (MANY_PASSES, PEAK_MEMORY_HINT, available_memory, describe_folder_passes,
                                   describe_memory, describe_passes, network_passes, passes_at_one, peak_memory,
                                   stack_advice)

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions


def say_size_from_header(args: argparse.Namespace, options: dict,
                         known: dict[Path, tuple[int, int] | None]) -> bool:
    """:func:`say_size` from the first source's header (the fused image takes its size), before the
    model loads: from ``known`` where the size check or the shots' settings read it (each header is
    read once), else read now. Whether it was said: where the header does not tell (a camera raw
    file), the fusion says it once the source is read. Not for a source over --max-pixels (reading
    refuses it) nor options the fusion core refuses (it says why)."""
    size = header_sizes(args.images[:1], known)[0]  # (width, height), upright
    fuse_options = _fuse_options(options)
    if size is None or size[0] * size[1] > args.max_pixels or fuse_options is None:
        return False
    say_size(fuse_options, size[1], size[0], len(args.images), args.images)
    return True


def say_folder_size(args: argparse.Namespace, options: dict, jobs: list[tuple[str, list[Path]]], unit: str,
                    known: dict[Path, tuple[int, int] | None]) -> None:
    """Before a folder run's model loads, once: how many passes it takes where its largest fusion (by
    pixels x sources) takes :data:`MANY_PASSES` or more (:func:`describe_folder_passes`), and a warning
    where that fusion's peak memory is over what is available: a card of brackets runs for hours, and
    one large pair among small ones can exhaust memory. Each fusion's size is its first source's (the
    fused image takes it), from ``known`` or its header (:func:`header_sizes`, nothing decoded); those
    whose header does not tell (camera raw files) are left out and counted, as are, silently, those over
    --max-pixels (reading refuses them) and those --skip-existing leaves."""
    from defusion.io.notes import note

    fuse_options = _fuse_options(options)
    todo = [job for job in jobs if not (args.skip_existing and already_fused(job[0], args))]
    if fuse_options is None or not todo:
        return
    firsts = header_sizes([sources[0] for _, sources in todo], known)
    sized = [(name, size[1], size[0], sources) for (name, sources), size in zip(todo, firsts)
             if size is not None and size[0] * size[1] <= args.max_pixels]  # (name, height, width, sources)
    if not sized:
        return
    name, height, width, sources = max(sized, key=lambda job: job[1] * job[2] * len(job[3]))
    count = len(sources)
    passes = network_passes(fuse_options, height, width, count)
    if passes >= MANY_PASSES:
        total = sum(network_passes(fuse_options, h, w, len(n)) for _, h, w, n in sized)
        largest = describe_passes(height, width, count, fuse_options.scale, passes,
                                  passes_at_one(fuse_options, height, width, count))
        note(describe_folder_passes(len(todo), unit, total, firsts.count(None), name, largest))
    _warn_memory(fuse_options, height, width, sources, f"the largest {unit[:-1]}, {name},")


def say_size(options: FuseOptions, height: int, width: int, sources: int,
             paths: Sequence[Path] | None = None) -> None:
    """Before a single fusion's first network pass, once: how many passes it takes where they are
    :data:`MANY_PASSES` or more (:func:`describe_passes`), and a warning where its peak memory
    (:func:`peak_memory`) is over what the machine has available (:func:`available_memory`), with how
    to fuse a stack of the ``paths`` in parts (:func:`_warn_memory`)."""
    from defusion.io.notes import note

    passes = network_passes(options, height, width, sources)
    if passes >= MANY_PASSES:
        note(describe_passes(height, width, sources, options.scale, passes,
                             passes_at_one(options, height, width, sources)))
    _warn_memory(options, height, width, list(paths) if paths is not None else [None] * sources)


def _warn_memory(options: FuseOptions, height: int, width: int, paths: Sequence[Path | None],
                 what: str = "this fusion") -> None:
    """The warning where a fusion of ``paths`` (their size height x width; ``what`` names it) is expected
    to peak over what is available, with :data:`PEAK_MEMORY_HINT` and, for 3 or more images, first how
    to fuse them in parts (:func:`~defusion.cli.job_size.stack_advice`): smaller images and another
    runtime do not help a stack, whose peak grows with its number of images."""
    from defusion.io.notes import warn

    available = available_memory()
    said = describe_memory(peak_memory(height * width, len(paths), options.scale), available, what=what)
    if not said or available is None:
        return
    names = [p.name if p is not None else f"image {i + 1}" for i, p in enumerate(paths)]
    parts = stack_advice(names, height * width, options.scale, available, _same_pairs(options))
    warn(f"{said}: {parts}; else {PEAK_MEMORY_HINT}" if parts else f"{said}: {PEAK_MEMORY_HINT}")


def _same_pairs(options: FuseOptions) -> bool:
    """Whether parts of a stack fused one by one, then their results, make what one run makes of the stack
    (up to the files' rounding): --stack balanced's halves in the order given, neither aligned nor
    deghosted, at a unique gain each part's last fusion takes as one run does (with pixels="sources"
    every fusion takes it; the reconstruction weighs up the last alone)."""
    gain_alike = options.pixels == "sources" or options.unique_gain == 1
    registered = options.align == "none" and not options.deghost
    return options.stack == "balanced" and options.order == "given" and registered and gain_alike


def header_sizes(paths: list[Path], known: dict[Path, tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """(width, height) of each of ``paths`` from ``known`` (read already), else from its header (read
    now, nothing decoded: ms); None where it does not tell (a camera raw file, a damaged one).

    Example:
        >>> header_sizes([Path("IMG_01.png"), Path("no-such-file.png")], {Path("IMG_01.png"): (640, 480)})
        [(640, 480), None]
    """
    from defusion.io.probes import header_size

    return [known[path] if path in known else header_size(path) for path in paths]


def _fuse_options(options: dict) -> FuseOptions | None:
    """The FuseOptions the fuser is made with (as Fuser.from_pretrained makes them), before the model
    loads; None where the fusion core refuses them (it says why, as the model loads)."""
    from defusion.fusion.options import FuseOptions

    try:
        return FuseOptions.for_task(None, **options)
    except (ValueError, TypeError):
        return None
