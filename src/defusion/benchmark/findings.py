"""What reading and evaluating a benchmark's files found worth a note, and saying it once.

A run reads hundreds of files, in this process or in worker processes: what is worth a line (a
16-bit file of 8-bit values, a float source on another scale, results grey stored as RGB) is
gathered pair by pair and said by the process that runs the benchmark, once per kind and method
or source folder, so that a folder of 100 such files is one line, not 100 (nor one per worker). A
result that is (nearly) one value, a failed fusion, is a warning instead, gathered alike: one per method,
naming a pair and its file (:func:`flat_results`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from defusion.io.arrays import MAX_8BIT
from defusion.io.notes import note, say, split_line

if TYPE_CHECKING:
    from defusion.benchmark.evaluation import PairResult

#: How a grey result stored as RGB is scored, said by ``defusion bench`` (per method) and ``defusion metrics``.
GREY_RGB_SCORED = ("scored per colour channel, as VIFB scores a colour result (against a colour source's R, G "
                   "and B rather than its rgb2gray; SF with the channels side by side)")


@dataclass(frozen=True)
class Finding:
    """Something reading a file for a run found worth a note, said once per ``kind`` and ``group``
    at the end of the run, naming the first file and counting the others (:func:`finding_notes`)."""

    kind: str  # "eight-bit", "float-scale" (fused stretched, scored on its scale), "float-stretched", or one of
    # METRIC_READINGS (a warning of the metrics about a result: reading_warnings)
    group: str  # the method whose result it is, or the folder of the source
    path: str
    detail: str = ""  # float-scale: the scale; float-stretched: the values' span; METRIC_READINGS: the warning
    source: bool = True  # a source (grouped by folder), else a method's result
    pair: str = ""  # the pair's stem, where said (METRIC_READINGS)


#: The kinds of :class:`Finding` that are the metrics' warnings about a result they may misread (floats
#: clipped to [0, 1], or read on 0..255 while near black: ``defusion.metrics._inputs``), said once per
#: method as warnings (:func:`reading_warnings`), not as notes.
METRIC_READINGS = ("floats clipped", "floats read as levels", "eight-bit values")


def finding_notes(found: list[Finding]) -> list[str]:
    """One note per kind of finding and method or source folder (and scale), naming the first file
    and how many there are: a folder of 100 such files is one line, not 100.

    Example:
        >>> found = [Finding("eight-bit", "TNO/ir", f"TNO/ir/{stem}.png") for stem in ("01", "02", "03")]
        >>> print(finding_notes(found)[0])  # doctest: +ELLIPSIS
        3 sources in TNO/ir (e.g. TNO/ir/01.png) are 16-bit files whose values are all <= 255 (8-bit values saved ...
    """
    groups: dict[tuple[str, str, str, bool], list[Finding]] = {}
    for f in found:
        if f.kind in METRIC_READINGS:  # warnings, said by reading_warnings
            continue
        groups.setdefault((f.kind, f.group, f.detail if f.kind == "float-scale" else "", f.source), []).append(f)
    notes = []
    for (kind, group, _, source), items in groups.items():
        first, count = items[0], len({f.path for f in items})
        one = count == 1
        if source:
            files = first.path if one else f"{count} sources in {group} (e.g. {first.path})"
        else:
            files = f"{group}'s result {first.path}" if one else f"{count} results of {group} (e.g. {first.path})"
        it, its, they = ("it", "its", "is") if one else ("them", "their", "are")
        if kind == "eight-bit":
            notes.append(f"{files} {they} {'a 16-bit file' if one else '16-bit files'} whose values are all <= "
                         f"{MAX_8BIT} (8-bit values saved as 16-bit?): scored as 16-bit, near black (save {it} as "
                         f"8-bit to score {its} 8-bit values)")
        elif kind == "float-scale":
            notes.append(f"{files} hold{'s' if one else ''} float pixels outside [0, 1]: the methods fuse {it} "
                         f"stretched from {its} minimum to {its} maximum (as defusion fuse reads {it}), the metrics "
                         f"score {it} on {its} own scale ({first.detail})")
        elif one:
            notes.append(f"{files} holds float pixels spanning {first.detail}, neither 0..1 nor 0..255 (the scales the "
                         "metrics take; a radiometric frame in degrees or Kelvin?): scored as the methods fuse it, "
                         "stretched from its minimum to its maximum (defusion metrics refuses such a file)")
        else:
            notes.append(f"{count} sources in {group} (e.g. {first.path}, spanning {first.detail}) hold float pixels "
                         "on neither 0..1 nor 0..255 (the scales the metrics take; radiometric frames in degrees or "
                         "Kelvin?): scored as the methods fuse them, stretched from their minimum to their maximum "
                         "(defusion metrics refuses such files)")
    return notes


def reading_warnings(found: list[Finding]) -> list[str]:
    """One warning per method and kind of the metrics' warnings about its results (:data:`METRIC_READINGS`:
    floats clipped to [0, 1], or read on 0..255 while near black), naming the first pair, its file and
    how many pairs: 100 such results of one method are one line, not 100 (nor one per pair unnamed).

    Example:
        >>> said = "float values span 0..1.6, ..., so read as levels on 0..255, near black; ..."
        >>> found = [Finding("floats read as levels", "CBF", f"cbf/{stem}.tif", said, source=False, pair=stem)
        ...          for stem in ("01", "02")]
        >>> print(reading_warnings(found[:1])[0])
        CBF's result for 01 (cbf/01.tif): float values span 0..1.6, ..., so read as levels on 0..255, near black; ...
        >>> print(reading_warnings(found)[0])  # doctest: +NORMALIZE_WHITESPACE
        CBF's results for 2 pairs, e.g. 01 (cbf/01.tif): float values span 0..1.6, ..., so read as levels on 0..255,
        near black; ...
    """
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in found:
        if f.kind in METRIC_READINGS:
            groups.setdefault((f.kind, f.group), []).append(f)
    lines = []
    for (_, method), items in groups.items():
        first, count = items[0], len({f.pair for f in items})
        whose = (f"{method}'s result for {first.pair}" if count == 1
                 else f"{method}'s results for {count} pairs, e.g. {first.pair}")
        lines.append(f"{whose} ({first.path}): {first.detail}")
    return lines


def say_found(pair: PairResult, told: set[tuple[str, str]], flat: list[str] | None = None) -> None:
    """Say what evaluating a pair found worth a line, here (not in a worker, where lines would repeat
    in each): the lines its reading and fusing said, the first narrow source of the run, and each
    method's results grey stored as RGB, once per method, but for the ``flat`` ones (its
    :func:`failed_fusions`, computed here where not given). ``told`` holds what was said once already:
    ``("narrow", "")``, ``("grey-rgb", method)``."""
    for line in pair.said:
        say(*split_line(line))
    for path, lo, hi in pair.narrow:
        if ("narrow", "") not in told:
            told.add(("narrow", ""))
            from defusion.benchmark.scored_images import raw_thermal_note  # here: scored_images imports this module

            note(raw_thermal_note(path, lo, hi, "the baselines and the metrics") + " (said once, of the first such source)")
    if flat is None:
        sources = tuple(image for image in (getattr(pair, "a", None), getattr(pair, "b", None)) if image is not None)
        flat = failed_fusions(getattr(pair, "outputs", {}), sources, getattr(pair, "found", ()))
    for name, example in pair.grey_rgb.items():
        if name in flat:  # black is R = G = B: warned of as a failed fusion (flat_results), not as grey
            continue
        if ("grey-rgb", name) not in told:
            told.add(("grey-rgb", name))
            note(f"{name}'s results are grey stored as RGB (R = G = B; e.g. {example}): {GREY_RGB_SCORED}, so they "
                 "score otherwise than the same pixels in 1-channel files, which score as grey")


def failed_fusions(outputs: dict[str, np.ndarray], sources: tuple[np.ndarray, ...],
                   found: list[Finding] | tuple = ()) -> list[str]:
    """The methods whose result (``outputs``: {method: shown, uint8}) is (nearly) one value
    (:func:`~defusion.benchmark.scored_images.nearly_flat`, an all-black frame say) though its ``sources``
    are not; none where the sources are flat themselves, nor one ``found`` to be a 16-bit file of 8-bit
    values (near black as scored, and said so with its fix: :func:`finding_notes`).

    Example:
        >>> black, ramp = np.zeros((8, 8), np.uint8), np.tile(np.arange(0, 64, 8, dtype=np.uint8), (8, 1))
        >>> failed_fusions({"GFF": ramp, "Flat": black}, (ramp, ramp)), failed_fusions({"Flat": black}, (black, black))
        (['Flat'], [])
    """
    if sources and all(_flat(source) for source in sources):
        return []
    eight_bit = {f.group for f in found if f.kind == "eight-bit" and not f.source}
    return [name for name, image in outputs.items() if name not in eight_bit and _flat(image)]


@dataclass(frozen=True)
class FlatResult:
    """A method's result of a pair that is (nearly) one value though its sources are not
    (:func:`failed_fusions`): a failed fusion, scored as it is, warned of at the end of the run
    (:func:`flat_results`)."""

    method: str
    stem: str  # the pair
    level: float  # its mean value, of MAX_8BIT
    path: str = ""  # its file (a published result, or one --save-fused wrote); "" where none is kept


def flat_found(stem: str, outputs: dict[str, np.ndarray], flat: list[str], files: dict[str, Path],
               save_dir: Path | None = None) -> list[FlatResult]:
    """The ``flat`` results of pair ``stem`` (its :func:`failed_fusions`, of ``outputs``) as
    :class:`FlatResult`, each with its file: a published one's (``files``), else the one --save-fused
    wrote in ``save_dir``.

    Example:
        >>> black = np.zeros((8, 8), np.uint8)
        >>> found = flat_found("carLight", {"Flat": black, "max": black}, ["Flat", "max"],
        ...                    {"Flat": Path("flat/carLight.png")})
        >>> found[0]
        FlatResult(method='Flat', stem='carLight', level=0.0, path='flat/carLight.png')
        >>> [f.path for f in found], flat_found("01", {"max": black}, ["max"], {}, Path("out/fused"))[0].path
        (['flat/carLight.png', ''], 'out/fused/max/01.png')
    """
    def path(name: str) -> str:
        if name in files:
            return str(files[name])
        return str(save_dir / name / f"{stem}.png") if save_dir is not None else ""

    return [FlatResult(name, stem, float(np.mean(outputs[name])), path(name)) for name in flat]


def flat_results(found: list[FlatResult]) -> list[str]:
    """One warning per method with results that are (nearly) one value though their sources are not
    (``found``: :func:`flat_found`, pair by pair): scored as they are (some metrics not defined on them,
    their means then over fewer pairs), so said by name, with how many, the first pair and its file to
    look at; 100 such results of one method are one line, not 100.

    Example:
        >>> found = [FlatResult("Flat", "carLight", 0.2, "flat/carLight.png")]
        >>> print(flat_results(found)[0])  # doctest: +NORMALIZE_WHITESPACE
        Flat's result for carLight is (nearly) one value (about 0 of 255): a failed fusion? It is scored as it is,
        so some of its means may be over fewer pairs; look at flat/carLight.png
        >>> found += [FlatResult("max", stem, 0.0) for stem in ("01", "02")]
        >>> print(flat_results(found)[1])  # doctest: +NORMALIZE_WHITESPACE
        max's results for 2 pairs are (nearly) one value (e.g. 01, about 0 of 255): failed fusions? They are scored
        as they are, so some of its means may be over fewer pairs; look at its output (--save-fused keeps it)
    """
    by_method: dict[str, list[FlatResult]] = {}
    for f in found:
        by_method.setdefault(f.method, []).append(f)
    lines = []
    for name, items in by_method.items():
        first, count = items[0], len({f.stem for f in items})
        level = f"about {first.level:.0f} of {MAX_8BIT}"
        where = first.path or "its output (--save-fused keeps it)"
        if count == 1:
            lines.append(f"{name}'s result for {first.stem} is (nearly) one value ({level}): a failed fusion? It is "
                         f"scored as it is, so some of its means may be over fewer pairs; look at {where}")
        else:
            lines.append(f"{name}'s results for {count} pairs are (nearly) one value (e.g. {first.stem}, {level}): "
                         "failed fusions? They are scored as they are, so some of its means may be over fewer "
                         f"pairs; look at {where}")
    return lines


def _flat(image: np.ndarray) -> bool:
    """:func:`~defusion.benchmark.scored_images.nearly_flat`, imported here: scored_images imports this module."""
    from defusion.benchmark.scored_images import nearly_flat

    return nearly_flat(image)
