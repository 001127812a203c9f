"""How long and how large a fusion is, said before the work: the network passes a fusion (or a folder
run's largest) takes where they are many, and a warning where its peak memory is over what the
machine has available. The figures are :mod:`defusion.cli.job_size`'s."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse.file_names import already_fused
from defusion.cli.job_size import (MANY_PASSES, PEAK_MEMORY_HINT, available_memory, describe_folder_passes,
                                   describe_memory, describe_passes, network_passes, passes_at_one, peak_memory)

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
    say_size(fuse_options, size[1], size[0], len(args.images))
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
    from defusion.io.notes import note, warn

    fuse_options = _fuse_options(options)
    todo = [job for job in jobs if not (args.skip_existing and already_fused(job[0], args))]
    if fuse_options is None or not todo:
        return
    firsts = header_sizes([sources[0] for _, sources in todo], known)
    sized = [(name, size[1], size[0], len(sources)) for (name, sources), size in zip(todo, firsts)
             if size is not None and size[0] * size[1] <= args.max_pixels]  # (name, height, width, sources)
    if not sized:
        return
    name, height, width, count = max(sized, key=lambda job: job[1] * job[2] * job[3])
    passes = network_passes(fuse_options, height, width, count)
    if passes >= MANY_PASSES:
        total = sum(network_passes(fuse_options, h, w, n) for _, h, w, n in sized)
        largest = describe_passes(height, width, count, fuse_options.scale, passes,
                                  passes_at_one(fuse_options, height, width, count))
        note(describe_folder_passes(len(todo), unit, total, firsts.count(None), name, largest))
    said = describe_memory(peak_memory(height * width, count, fuse_options.scale), available_memory(),
                           what=f"the largest {unit[:-1]}, {name},")
    if said:
        warn(f"{said}: {PEAK_MEMORY_HINT}")


def say_size(options: FuseOptions, height: int, width: int, sources: int) -> None:
    """Before a single fusion's first network pass, once: how many passes it takes where they are
    :data:`MANY_PASSES` or more (:func:`describe_passes`), and a warning where its peak memory
    (:func:`peak_memory`) is over what the machine has available (:func:`available_memory`)."""
    from defusion.io.notes import note, warn

    passes = network_passes(options, height, width, sources)
    if passes >= MANY_PASSES:
        note(describe_passes(height, width, sources, options.scale, passes,
                             passes_at_one(options, height, width, sources)))
    said = describe_memory(peak_memory(height * width, sources, options.scale), available_memory())
    if said:
        warn(f"{said}: {PEAK_MEMORY_HINT}")


def header_sizes(paths: list[Path], known: dict[Path, tuple[int, int] | None]) -> list[tuple[int, int] | None]:
    """(width, height) of each of ``paths`` from ``known`` (read already), else from its header (read
    now, nothing decoded: ms); None where it does not tell (a camera raw file, a damaged one).

    Example:
        >>> header_sizes([Path("IMG_01.png"), Path("no-such-file.png")], {Path("IMG_01.png"): (640, 480)})
        [(640, 480), None]
    """
    from defusion.io.images import header_size

    return [known[path] if path in known else header_size(path) for path in paths]


def _fuse_options(options: dict) -> FuseOptions | None:
    """The FuseOptions the fuser is made with (as Fuser.from_pretrained makes them), before the model
    loads; None where the fusion core refuses them (it says why, as the model loads)."""
    from defusion.fusion.options import FuseOptions

    try:
        return FuseOptions.for_task(None, **options)
    except (ValueError, TypeError):
        return None
