"""What a fusion job will take, told before it starts: its network passes (the tiles of each pairwise
fusion, from the options alone) and its peak memory (fitted to measured peaks), against what the machine
has available. Pure functions: ``defusion fuse`` says them (:mod:`defusion.cli.fuse`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Sequence

from defusion.io.notes import plural

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions

#: Network passes from which a single fusion says, before the first, how many it takes: a 24 MP bracket at
#: --task mef (--scale 2) took 204, over an hour on a shared 2-core CPU, with no word before the progress bar.
MANY_PASSES = 16
#: Peak memory of ``defusion fuse`` on a pair (resident set, /usr/bin/time -v; default options, ONNX Runtime
#: on the CPU, its memory pattern planner off: onnx_runtime.MEMORY_PATTERN) as a base and bytes per source
#: pixel, fitted per --scale on a shared 2-core AMD EPYC machine. --task mff (--scale 1): JPEG pairs of 6.0 MP
#: (3000x2000), 12.0 MP (4240x2832) and 24.0 MP (6000x4000) peaked at 1.27, 1.77 and 2.54 GB (2026-12-07),
#: PNG pairs of 4.0 MP (2304x1728) and 12.0 MP (4000x3000) at 1.15 and 1.90 GB (performance audit, later that
#: day: 46 bytes more per source pixel between those two); the fit, on the safe side of every one of them,
#: estimates 1.24, 1.42, 1.96 and 3.04 GB (4, 6, 12 and 24 MP; 3-7% to spare at 4-12 MP). --task mef and ivf
#: (--scale 2): JPEG pairs of 6, 12 and 24 MP at 1.17, 1.47 and 1.94 GB, the 0.14 MP example pair at 0.94 GB and
#: a 4.0 MP PNG pair already at 1.11 GB by a quarter of its passes (the audit): estimates 1.01 (example), 1.18,
#: 1.26, 1.53 and 2.06 GB. With the planner on, the JPEG pairs peaked 0.35-0.49 GB higher; before the images'
#: buffers were slimmed (float copies, colour temporaries, all four projections summed over the tiles) at 2.54
#: and 6.58 GB (mff, 6 and 24 MP) and 2.50 and 3.71 GB (mef, 6 and 12 MP): 1.2 GB plus 107-128 bytes per source
#: pixel. What is left per pixel: the sources as read and as floats, grey network inputs, the blended colour,
#: the tiler's sums of the projections used; the base is mostly ONNX Runtime's working memory for a tile (its
#: tiles are bounded, so that part stays; a smaller --tile lowers it: PEAK_MEMORY_HINT).
PEAK_MEMORY_FIT: dict[int, tuple[float, float]] = {1: (0.88e9, 45.0), 2: (1.0e9, 22.0)}
#: What lowers a fusion's peak, measured on the same machine (2026-12-07, peak resident set): fewer pixels, or a
#: smaller --tile, which bounds ONNX Runtime's working memory for a pass (the base of PEAK_MEMORY_FIT): --tile
#: 384 took the 0.14 MP example pair (--task mef) from 0.94 to 0.54 GB and a 1 MP --task ivf pair from 0.87 to
#: 0.57 GB, at 1.7x and 1.4x the CPU time. Not --runtime torch: it peaked higher (example pair 1.02 GB against ONNX
#: Runtime's 0.94; 1 MP ivf over 1.05 GB against 0.87-0.90) and 2-4x slower. Not --scale 1 below a few MP: its
#: network input may no longer be tiled (the 1 MP ivf pair: 1.34 GB).
PEAK_MEMORY_HINT = ("fuse smaller images (the peak grows by 0.02-0.05 GB per megapixel of each source), use a "
                    "smaller --tile (--tile 384: 0.3-0.4 GB less, 1.4-1.7x slower), or free memory first")
#: Why a stack's peak is over what is available, and what lowers it there (said before PEAK_MEMORY_HINT for
#: 3 or more images): every image is held at once, as read, as floats, as a network input and as its weight
#: in the result, so the peak grows with their number by design (an audit measured about 28.5 bytes per
#: pixel of each shot; PEAK_MEMORY_FIT's 22-45 are pairs'); fusing the stack in parts, then their results,
#: holds one part's images at a time. --stack balanced fuses halves, then the two results: parts that are
#: that tree's nodes (:func:`stack_parts`) fuse the same pairs as one run.
STACK_PARTS_HINT = ("{count} images are held at once (about {each:.2f} GB each), so fuse them in {parts} "
                    "({names}) into PNG or TIFF files, then fuse the {results}{same}: each fusion may peak at "
                    "about {peak:.1f} GB")
#: What STACK_PARTS_HINT adds where the parts are --stack balanced's own halves, in the order fused.
SAME_PAIRS = " (the pairs one run fuses: --stack balanced fuses halves, then their results)"
#: What is said where no level of parts keeps each fusion, that of their results too, within memory.
STACK_ROUNDS_HINT = ("{count} images are held at once (about {each:.2f} GB each), so fuse them in parts of at "
                     "most {most} into PNG or TIFF files, then fuse those results the same way")
#: Where Linux says how much memory is available to start new programs without swapping (MemAvailable, kB).
MEMINFO = Path("/proc/meminfo")
#: Which control groups this process is in (a container's memory limit is its group's, not the machine's).
PROC_CGROUP = Path("/proc/self/cgroup")
#: Where the control-group file systems are mounted.
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: Per cgroup version: the sub-mount, the limit, the usage, and the memory.stat line of cache the kernel can
#: drop before it counts against the limit (Docker's `docker stats` subtracts the same).
CGROUP_FILES = {2: ("", "memory.max", "memory.current", "inactive_file"),
                1: ("memory", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")}
#: cgroup v1 writes "no limit" as a huge number (PAGE_COUNTER_MAX pages) rather than v2's "max".
CGROUP_NO_LIMIT = 2 ** 60
_GB = 1e9


def peak_memory(pixels: int, sources: int, scale: int) -> int:
    """Bytes a fusion of ``sources`` images of ``pixels`` each at ``scale`` is expected to peak at
    (:data:`PEAK_MEMORY_FIT`; past the scales measured, the largest one's: the network's memory per
    tile is the same at any scale). Over two sources, an extrapolation from pairs.

    Example:
        >>> round(peak_memory(24_000_000, 2, 1) / 1e9, 1), round(peak_memory(96_000_000, 2, 2) / 1e9, 1)
        (3.0, 5.2)
    """
    base, per_pixel = _fit(scale)
    return int(base + per_pixel * pixels * sources)


def _fit(scale: int) -> tuple[float, float]:
    """:data:`PEAK_MEMORY_FIT`'s (base, bytes per source pixel) at ``scale`` (past those measured, the largest's)."""
    return PEAK_MEMORY_FIT.get(scale, PEAK_MEMORY_FIT[max(PEAK_MEMORY_FIT)])


def images_that_fit(pixels: int, scale: int, available: int) -> int:
    """The most images of ``pixels`` each that a fusion at ``scale`` is expected to fuse within ``available``
    bytes (:func:`peak_memory`); 0 where not one.

    Example:
        >>> images_that_fit(24_000_000, 1, 22_200_000_000), images_that_fit(24_000_000, 1, 500_000_000)
        (19, 0)
    """
    base, per_pixel = _fit(scale)
    return max(0, int((available - base) // (per_pixel * pixels)))


def stack_parts(count: int, most: int) -> tuple[list[int], bool] | None:
    """The sizes of the parts, in order, that ``count`` images split into so that each part's fusion and
    that of their results hold at most ``most`` images, and whether the parts are --stack balanced's
    nodes of one level (the first part the larger half, as :func:`defusion.fusion.stacking.split_point`
    splits a stack): then fusing each part and then their results fuses the pairs one run fuses. None
    where ``count`` fits as it is, or no level's parts do (more parts than ``most``).

    Example:
        >>> stack_parts(40, 24), stack_parts(40, 8), stack_parts(5, 3)
        (([20, 20], True), ([5, 5, 5, 5, 5, 5, 5, 5], True), ([3, 2], True))
        >>> stack_parts(40, 40), stack_parts(40, 5), stack_parts(7, 3)
        (None, None, None)
    """
    level = [count]
    while max(level) > most:
        level = [size for n in level for size in (((n + 1) // 2, n // 2) if n > 1 else (n,))]
        if len(level) > most:
            return None
    if len(level) == 1:
        return None
    depth = (len(level) - 1).bit_length()
    return level, len(level) == 2 ** depth  # no lone image carried down from a level above


def stack_advice(names: Sequence[str], pixels: int, scale: int, available: int, same_order: bool) -> str | None:
    """What lowers the peak of a fusion of the images ``names`` (3 or more, ``pixels`` each) to within
    ``available`` bytes: fusing them in parts (:func:`stack_parts`), then the parts' results, each
    fusion's peak said; ``same_order``: the fusion takes them in the order given, at gains that make a
    part's result what one run makes of it (:data:`SAME_PAIRS` is said where the parts are its
    halves). None for a pair, or where not even a pair fits.

    Example:
        >>> names = [f"H_{i:02d}.jpg" for i in range(40)]
        >>> print(stack_advice(names, 24_000_000, 1, 22_200_000_000, True))
        40 images are held at once (about 1.08 GB each), so fuse them in 4 parts of 10 (H_00.jpg-H_09.jpg, \
H_10.jpg-H_19.jpg, H_20.jpg-H_29.jpg and 1 more) into PNG or TIFF files, then fuse the 4 results (the pairs one \
run fuses: --stack balanced fuses halves, then their results): each fusion may peak at about 11.7 GB
    """
    from defusion.io.notes import listed

    count = len(names)
    most = images_that_fit(pixels, scale, available)
    if count < 3 or most < 2:
        return None
    each = _fit(scale)[1] * pixels / _GB
    found = stack_parts(count, most)
    if found is None:
        return STACK_ROUNDS_HINT.format(count=count, each=each, most=most)
    parts, halves = found
    starts = [sum(parts[:i]) for i in range(len(parts))]
    spans = [names[a] if n == 1 else f"{names[a]}-{names[a + n - 1]}" for a, n in zip(starts, parts)]
    sizes = " or ".join(map(str, sorted(set(parts))))
    peak = peak_memory(pixels, max(max(parts), len(parts)), scale) / _GB
    return STACK_PARTS_HINT.format(count=count, each=each, parts=f"{len(parts)} parts of {sizes}",
                                   names=listed(spans), results=f"{len(parts)} results", peak=peak,
                                   same=SAME_PAIRS if halves and same_order else "")


def available_memory() -> int | None:
    """Bytes of memory available to this process: the machine's (:func:`machine_available`) or, in a
    container or other control group with a memory limit, what is left under that limit
    (:func:`cgroup_available`) where it is less. None where neither can be read (not Linux): then
    nothing is checked."""
    found = [value for value in (machine_available(), cgroup_available()) if value is not None]
    return min(found) if found else None


def machine_available() -> int | None:
    """Bytes the machine has available (:data:`MEMINFO`'s MemAvailable: free, and cache the system can
    drop), None where it cannot be read."""
    try:
        for line in MEMINFO.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def cgroup_available() -> int | None:
    """Bytes left under this process's control-group memory limits (v2 or v1), the tightest of its group
    and the groups above it: a limit less its usage, less the cache the kernel drops first. None where no
    group has a limit or none can be read.

    Example:
        >>> cgroup_available() is None or cgroup_available() >= 0
        True
    """
    left = [value for version, folder in _cgroup_folders() for where in _groups_up(version, folder)
            if (value := _left_under_limit(version, where)) is not None]
    return min(left) if left else None


def _groups_up(version: int, folder: str) -> list[Path]:
    """A group's folder and every folder above it to the mount's root (inside a container the process's
    own path may not be mounted: then the root alone is the container's group)."""
    mount = CGROUP_ROOT / CGROUP_FILES[version][0]
    path = PurePosixPath(folder)
    return [mount / part for part in (path, *path.parents) if str(part) not in ("", ".")] + [mount]


def _left_under_limit(version: int, where: Path) -> int | None:
    """Bytes left under one group's limit, None where it has none or its files cannot be read."""
    _, limit_name, usage_name, cache_name = CGROUP_FILES[version]
    limit, usage = _read_bytes(where / limit_name), _read_bytes(where / usage_name)
    if limit is None or usage is None or limit >= CGROUP_NO_LIMIT:
        return None
    cache = _stat_bytes(where / "memory.stat", cache_name) or 0
    return max(0, limit - usage + min(cache, usage))


def _cgroup_folders() -> list[tuple[int, str]]:
    """(cgroup version, group path) of this process's memory group: v2's unified line ("0::/path") and
    v1's memory line ("4:memory:/path"); none where the file cannot be read."""
    try:
        lines = PROC_CGROUP.read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            found.append((2, path.lstrip("/")))
        elif "memory" in controllers.split(","):
            found.append((1, path.lstrip("/")))
    return found


def _read_bytes(path: Path) -> int | None:
    """A cgroup file's number of bytes; "max" (v2: no limit) as :data:`CGROUP_NO_LIMIT`; None if unreadable."""
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
        return CGROUP_NO_LIMIT if text == "max" else int(text)
    except (OSError, ValueError):
        return None


def _stat_bytes(path: Path, name: str) -> int | None:
    """One named counter of a cgroup's memory.stat, None where missing or unreadable."""
    try:
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    except (OSError, ValueError):
        return None
    return None


def describe_memory(needed: int, available: int | None, what: str = "this fusion") -> str | None:
    """What a fusion (``what``: a folder run's names its largest) expected to peak at ``needed`` bytes is
    told where that is over ``available`` (None: unknown, nothing said); the caller adds what to do.

    Example:
        >>> describe_memory(21_000_000_000, 13_200_000_000)
        'this fusion may need about 21.0 GB of memory at its peak, and 13.2 GB is available'
        >>> describe_memory(21_000_000_000, 13_200_000_000, what="the largest pair, IMG_7,")[:44]
        'the largest pair, IMG_7, may need about 21.0'
        >>> describe_memory(2_000_000_000, 13_200_000_000), describe_memory(2_000_000_000, None)
        (None, None)
    """
    if available is None or needed <= available:
        return None
    return (f"{what} may need about {needed / _GB:.1f} GB of memory at its peak, and {available / _GB:.1f} GB "
            "is available")


def network_passes(options: FuseOptions, height: int, width: int, sources: int) -> int:
    """Network passes fusing ``sources`` images of height x width takes with ``options`` (FuseOptions):
    the tiles of each pairwise fusion, as the fusion core lays them out, before any model is loaded."""
    from defusion.fusion.tiling import passes_for

    return passes_for(options, height, width) * (sources - 1)


def describe_passes(height: int, width: int, sources: int, scale: int, passes: int, at_one: int | None) -> str:
    """The note on a fusion of many network passes: its size, the passes and, at ``scale`` over 1, what
    --scale 1 takes (``at_one``), with what that trades. No time: the progress bar measures it.

    Example:
        >>> describe_passes(4000, 6000, 2, 2, 204, 54)
        "6000x4000 (24.0 MP) takes 204 network passes at --scale 2; --scale 1 takes 54 (about 4x fewer), running \
the network at the sources' own resolution rather than at 2x it"
        >>> describe_passes(4000, 6000, 3, 1, 108, None)
        '3 images of 6000x4000 (24.0 MP) take 108 network passes at --scale 1'
    """
    what = f"{width}x{height} ({height * width / 1e6:.1f} MP)"
    said = (f"{sources} images of {what} take" if sources > 2 else f"{what} takes") + \
        f" {passes} network passes at --scale {scale}"  # never one: MANY_PASSES
    if at_one is not None and at_one < passes:
        said += (f"; --scale 1 takes {at_one} (about {round(passes / at_one)}x fewer), running the network at the "
                 f"sources' own resolution rather than at {scale}x it")
    return said


def describe_folder_passes(jobs: int, unit: str, total: int, unsized: int, name: str, largest: str) -> str:
    """The note on a folder run whose largest fusion takes many passes: how many ``unit`` (pairs,
    groups) it fuses, their passes in all (``total``; besides those of ``unsized`` whose headers do not
    tell their size), and the largest, ``name``, as a single fusion's note says it (``largest``:
    :func:`describe_passes`, whose --scale 1 hint holds for the others alike).

    Example:
        >>> largest = describe_passes(4000, 6000, 3, 1, 108, None)
        >>> describe_folder_passes(40, "groups", 4320, 0, "IMG_1-IMG_3", largest)
        '40 groups to fuse, 4320 network passes in all; the largest, IMG_1-IMG_3: 3 images of 6000x4000 \
(24.0 MP) take 108 network passes at --scale 1'
        >>> describe_folder_passes(40, "groups", 4104, 2, "IMG_1-IMG_3", largest)[:97]
        '40 groups to fuse, 4104 network passes in all besides those of 2 groups whose headers do not tell'
    """
    unsized_said = f" besides those of {plural(unsized, unit[:-1])} whose headers do not tell their size" \
        if unsized else ""
    return (f"{plural(jobs, unit[:-1])} to fuse, {total} network passes in all{unsized_said}; the largest, {name}: "
            f"{largest}")


def passes_at_one(options: FuseOptions, height: int, width: int, sources: int) -> int | None:
    """The network passes of a fusion at --scale 1, where ``options`` run it at a larger scale."""
    from dataclasses import replace

    return network_passes(replace(options, scale=1), height, width, sources) if options.scale > 1 else None


__all__ = ["MANY_PASSES", "PEAK_MEMORY_FIT", "PEAK_MEMORY_HINT", "SAME_PAIRS", "STACK_PARTS_HINT", "STACK_ROUNDS_HINT",
           "available_memory", "cgroup_available", "describe_folder_passes", "describe_memory", "describe_passes",
           "images_that_fit", "network_passes", "passes_at_one", "peak_memory", "stack_advice", "stack_parts"]
