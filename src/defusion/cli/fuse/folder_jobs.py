"""What a folder run fuses, planned before the model loads: the pairs matched by file stem in --a and
--b, or a --stacks card's shots grouped into brackets or focus stacks, each with the name its fused
image is written under (what is left out, and why, said)."""

from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Sequence

from defusion.cli.errors import UserError
from defusion.io.notes import plural

if TYPE_CHECKING:
    from datetime import datetime

    from defusion.io.shots import Shot

#: How many shots left alone (groups of one) are each said on a line of their own; past these one line
#: counts them and names the first: a focus rail's stack, each shot a pause of over --gap from the last,
#: said a line per shot, five and more lines before the error that matters.
LONE_NAMED = 3
#: Pauses next to lone shots up to this many times the shortest are taken as one kind (a focus rail
#: settling between shots, with its jitter): the --gap suggested spans them all, so that a shot a little
#: slower than the rest is not left alone again; a pause beyond it (between scenes) is not spanned.
SAME_PAUSE_FACTOR = 1.5
#: How a --stacks group's capture time is added to its name where another card's group took it
#: (strftime), and how a note says a capture time.
NAME_TIME_FORMAT = "%Y%m%d-%H%M%S"
SAID_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def pair_jobs(args: argparse.Namespace) -> tuple[list[tuple[str, list[Path]]], list[str]]:
    """(stem, [a, b]) of each pair matched by stem in --a and --b, before the model loads, and the
    files with no partner (each a pair asked for that cannot be fused: the run's last line names them
    again, and its exit status is 1); those, and two files of one stem, said. Pairs whose fused images
    would be one file where case does not count are refused (:func:`case_clash_message`)."""
    from defusion.io.pairs import case_clashes, images_by_stem, match_pairs, stem_clashes

    pairs, unmatched = match_pairs(args.dir_a, args.dir_b)
    if not pairs:
        raise UserError(f"no pairs: no file stem is in both {args.dir_a} and {args.dir_b}")
    files_a, files_b = images_by_stem(args.dir_a), images_by_stem(args.dir_b)
    clashes = case_clashes(stem for stem, _, _ in pairs)
    if clashes:
        raise UserError(case_clash_message(clashes, files_a, args))
    lone = []
    for stem in unmatched:
        file, other = (files_a[stem], args.dir_b) if stem in files_a else (files_b[stem], args.dir_a)
        lone.append(str(file))
        print(f"defusion: warning: {file} has no partner in {as_folder(other)}; skipped", file=sys.stderr)
    for clash in stem_clashes(args.dir_a) + stem_clashes(args.dir_b):
        print(f"defusion: warning: {clash}", file=sys.stderr)
    return [(stem, [a, b]) for stem, a, b in pairs], lone


def case_clash_message(clashes: list[tuple[str, str]], files_a: dict[str, Path], args: argparse.Namespace) -> str:
    """Why pairs whose names differ only in case (:func:`~defusion.io.pairs.case_clashes`) are not
    fused, in one line naming the first clash's files in --a and the fix. Their fused images would be
    one file on Windows and macOS, the second written over the first while the run counts both; on
    Linux they would not, but the folder fused or copied there would lose one as silently.

    Example:
        >>> args = argparse.Namespace(dir_b=Path("ir"), output=Path("fused"), format="png")
        >>> files = {"Scene": Path("vis/Scene.png"), "scene": Path("vis/scene.jpg")}
        >>> print(case_clash_message([("Scene", "scene")], files, args).replace(os.sep, "/"))
        vis/Scene.png and vis/scene.jpg would be fused into one file, fused/Scene.png, on Windows and macOS \
(names that differ only in case are one file there); rename one of them and its partner in ir/
    """
    first, other = clashes[0]
    more = ""
    if len(clashes) > 1:
        more = f" ({plural(len(clashes) - 1, 'more such pair')}: {', '.join(y for _, y in clashes[1:])})"
    return (f"{files_a[first]} and {files_a[other]} would be fused into one file, {args.output / first}.{args.format}, "
            f"on Windows and macOS (names that differ only in case are one file there); rename one of them and its "
            f"partner in {as_folder(args.dir_b)}{more}")


def as_folder(path: Path) -> str:
    """``path`` said as a folder, with the separator after it, so that it does not read as a file.

    Example:
        >>> as_folder(Path("ir")) == f"ir{os.sep}", as_folder(Path(os.sep)) == os.sep
        (True, True)
    """
    said = str(path)
    return said if said.endswith(os.sep) else f"{said}{os.sep}"


def stack_groups(args: argparse.Namespace) -> list[list[Path]]:
    """Every bracket or focus stack of two or more shots in ``--stacks DIR``, grouped by capture time
    or ``--group N``, said (how many, what was left out) before the model loads. What is left out (a
    shot alone, one without a capture time, a file that is no image) is no failed group: a card holds
    single frames and other files beside its brackets, so the exit status stays 0 for them."""
    from defusion.io.shots import (Shot, group_by_count, group_by_time, group_name, list_shots, raw_twins,
                                   read_shot, untimed)

    shots = list_shots(args.stacks)
    twins = raw_twins(list(args.stacks.iterdir()))
    if twins:
        print(f"defusion: note: {plural(len(twins), 'JPEG (or other) file')} beside raw files of the same name "
              "(raw + JPEG shooting) left out: the raw files are fused", file=sys.stderr)
    timed: list[Shot] = []
    if args.group == "auto":
        timed = [read_shot(p) for p in shots]
        groups = group_by_time(timed, args.gap)
        how = f"by capture time (a new one after a pause of over {args.gap:g} s)"
        for line in untimed(timed):
            hint = " (--group N groups by name order instead)" if line.endswith("no EXIF capture time") else ""
            print(f"defusion: warning: {line}; left out{hint}", file=sys.stderr)
    else:
        groups = group_by_count(shots, args.group)
        how = f"in runs of {args.group} in name order"
        left = len(shots) % args.group
        if left:
            print(f"defusion: warning: {plural(len(shots), 'shot')} do not split into runs of {args.group}: the "
                  f"last group, {group_name(groups[-1])}, has {plural(left, 'shot')}", file=sys.stderr)
    lone = [g[0] for g in groups if len(g) < 2]
    _warn_lone(lone)
    groups = [g for g in groups if len(g) >= 2]
    hint = gap_hint(timed, args.gap, shots, lone, groups) if timed else None
    if not groups:
        advice = "; try --group N, the number of shots per bracket" if args.group == "auto" else ""
        if hint:
            advice = f"; its shots are {hint.apart} apart (a focus rail settling between shots?): {hint.advice}"
        raise UserError(f"no group of two or more shots in {args.stacks} (grouped {how}){advice}")
    if hint:
        print(f"defusion: note: the {plural(len(lone), 'shot')} left alone {'is' if len(lone) == 1 else 'are'} "
              f"{hint.apart} from the next; if they are shots of a stack or bracket (a focus rail settling "
              f"between shots), {hint.advice}", file=sys.stderr)
    sizes = sorted({len(g) for g in groups})
    print(f"defusion: {plural(sum(map(len, groups)), 'shot')} in {plural(len(groups), 'group')} {how} "
          f"({' or '.join(map(str, sizes))} shots each)", file=sys.stderr)
    return groups


def _warn_lone(lone: list[Path]) -> None:
    """Say that the shots ``lone`` (each a group of one) are skipped: a line each up to :data:`LONE_NAMED`,
    past that one line counting them."""
    from defusion.io.notes import listed

    if len(lone) <= LONE_NAMED:
        for path in lone:
            print(f"defusion: warning: {path.name} is a group of one shot: nothing to fuse it with; skipped",
                  file=sys.stderr)
        return
    named = listed([p.name for p in lone], LONE_NAMED)
    print(f"defusion: warning: {len(lone)} shots are each a group of one ({named}): nothing to fuse them with; "
          "skipped", file=sys.stderr)


class GapHint(NamedTuple):
    """A --gap that groups shots left alone (:func:`gap_hint`): the pauses next to them as said
    ("3.0 s", "3.0-3.4 s"), and the advice: the option and what it makes."""

    gap: int
    apart: str
    advice: str


def gap_hint(timed: Sequence[Shot], gap: float, shots: Sequence[Path], lone: Sequence[Path],
             groups: Sequence[Sequence[Path]]) -> GapHint | None:
    """The --gap that joins the shots ``lone`` (each a pause of over ``gap`` seconds from its neighbours,
    in ``timed``'s capture order) to their neighbours: the pauses next to them up to
    :data:`SAME_PAUSE_FACTOR` times the shortest, rounded up to whole seconds; and ``--group N`` too
    where it makes the same groups (all of N shots of ``shots``, in name order). None where nothing is
    alone, or where that gap would also join two of ``groups`` (a lone frame between brackets is a
    lone frame: no gap groups it without merging them).

    Example:
        >>> from datetime import datetime, timedelta
        >>> from defusion.io.shots import Shot
        >>> t = datetime(2026, 6, 1, 12)
        >>> rail = [Shot(Path(f"R_{i}.jpg"), t + timedelta(seconds=3 * i), 0.00625) for i in range(5)]
        >>> paths = [s.path for s in rail]
        >>> gap_hint(rail, 2.0, paths, paths, []).advice
        'try --gap 3, which makes 1 group of 5 shots (or --group 5: runs of 5 in name order)'
    """
    from defusion.io.shots import group_by_count, group_by_time, natural_key

    ordered = sorted((s for s in timed if s.taken is not None), key=lambda s: (s.taken, natural_key(s.path)))
    alone = set(lone)
    pauses = [(b.taken - a.taken).total_seconds() - a.exposure_s for a, b in zip(ordered, ordered[1:])
              if (a.path in alone or b.path in alone)]
    pauses = [p for p in pauses if p > gap]
    if not pauses:
        return None
    kind = [p for p in pauses if p <= min(pauses) * SAME_PAUSE_FACTOR]
    suggested = math.ceil(max(kind))
    regrouped = [g for g in group_by_time(ordered, suggested) if len(g) >= 2]
    fused = [set(g) for g in groups]
    if any(sum(bool(f.intersection(g)) for f in fused) > 1 for g in regrouped):
        return None
    sizes = sorted({len(g) for g in regrouped})
    made = f"{plural(len(regrouped), 'group')} of {' or '.join(map(str, sizes))} shots"
    runs = ""
    if len(sizes) == 1 and group_by_count(list(shots), sizes[0]) == regrouped:
        runs = f" (or --group {sizes[0]}: runs of {sizes[0]} in name order)"
    low, high = f"{min(kind):.1f}", f"{max(kind):.1f}"
    return GapHint(suggested, f"{low} s" if low == high else f"{low}-{high} s",
                   f"try --gap {suggested}, which makes {made}{runs}")


def stack_jobs(groups: list[list[Path]], args: argparse.Namespace) -> list[tuple[str, list[Path]]]:
    """(name, shots) of each group of :func:`stack_groups`, to fuse into ``-o`` named by its first and
    last shots (:func:`_unclaimed_name`), before the model loads."""
    from defusion.io.shots import group_name

    return [(_unclaimed_name(group_name(g), g, args), g) for g in groups]


def _unclaimed_name(name: str, group: list[Path], args: argparse.Namespace) -> str:
    """The name to write ``group`` under: ``name`` (its first and last files' stems), unless -o already
    holds a ``name`` fused from other shots (another card, whose camera numbered its files alike): the
    fused image carries its first shot's EXIF capture time, and where that differs from this group's,
    the first of name_DATE-TIME, name_DATE-TIME_2, ... free or fused from these shots, said in a note.
    Without a capture time on either side (--no-metadata, shots without EXIF) ``name`` is kept, as is
    a re-run's: written over, or left by --skip-existing."""
    from defusion.io.notes import note

    ours = _capture_second(group[0])
    first = args.output / f"{name}.{args.format}"
    theirs = _capture_second(first) if ours is not None and first.is_file() else None
    if theirs is None or theirs == ours:
        return name
    dated = f"{name}_{ours:{NAME_TIME_FORMAT}}"
    for candidate in itertools.chain([dated], (f"{dated}_{n}" for n in itertools.count(2))):
        out = args.output / f"{candidate}.{args.format}"
        if not out.is_file() or _capture_second(out) in (None, ours):
            break
    note(f"{first} was fused from other shots (taken {theirs:{SAID_TIME_FORMAT}}) than {name} in {args.stacks} "
         f"(taken {ours:{SAID_TIME_FORMAT}}; another card, its files numbered alike?): it is left as it is, and "
         f"these are fused into {candidate}.{args.format}")
    return candidate


def _capture_second(path: Path) -> datetime | None:
    """When ``path`` (a shot, or a fused image: it carries its first shot's EXIF) was taken, to the
    second (TIFF keeps no sub-seconds); None where its EXIF does not say."""
    from defusion.io.shots import read_shot

    taken = read_shot(path).taken
    return taken.replace(microsecond=0) if taken is not None else None
