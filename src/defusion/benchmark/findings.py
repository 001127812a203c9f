"""What reading and evaluating a benchmark's files found worth a note, and saying it once.

A run reads hundreds of files, in this process or in worker processes: what is worth a line (a
16-bit file of 8-bit values, a float source on another scale, results grey stored as RGB) is
gathered pair by pair and said by the process that runs the benchmark, once per kind and method
or source folder, so that a folder of 100 such files is one line, not 100 (nor one per worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

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

    kind: str  # "eight-bit", "float-scale" (fused stretched, scored on its scale), "float-stretched"
    group: str  # the method whose result it is, or the folder of the source
    path: str
    detail: str = ""  # float-scale: the scale; float-stretched: the values' span
    source: bool = True  # a source (grouped by folder), else a method's result


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


def say_found(pair: PairResult, told: set[tuple[str, str]]) -> None:
    """Say what evaluating a pair found worth a line, here (not in a worker, where lines would repeat
    in each): the lines its reading and fusing said, the first narrow source of the run, and each
    method's results grey stored as RGB, once per method. ``told`` holds what was said once already:
    ``("narrow", "")``, ``("grey-rgb", method)``."""
    for line in pair.said:
        say(*split_line(line))
    for path, lo, hi in pair.narrow:
        if ("narrow", "") not in told:
            told.add(("narrow", ""))
            from defusion.benchmark.scored_images import raw_thermal_note  # here: scored_images imports this module

            note(raw_thermal_note(path, lo, hi, "the baselines and the metrics") + " (said once, of the first such source)")
    for name, example in pair.grey_rgb.items():
        if ("grey-rgb", name) not in told:
            told.add(("grey-rgb", name))
            note(f"{name}'s results are grey stored as RGB (R = G = B; e.g. {example}): {GREY_RGB_SCORED}, so they "
                 "score otherwise than the same pixels in 1-channel files, which score as grey")
