"""Which pairs a benchmark evaluates, and the notes and errors on what it leaves out.

The pairs are the stems found in both source folders, less those whose sources differ in size;
a ``--fused`` folder's files named after no pair are noted, and one holding no result of any
pair is an error that says what name was expected and which pattern would match what it holds.
"""

from __future__ import annotations

from pathlib import Path

from defusion.io.notes import listed, plural
from defusion.io.pairs import STEM_FIELD, images_by_stem, is_stem_pattern, left_out, match_pairs, results_folder
from defusion.io.probes import header_size


def evaluated_pairs(dir_a: Path, dir_b: Path, limit: int | None = None) -> list[tuple[str, Path, Path]]:
    """(stem, first source, second source) of the pairs :func:`~defusion.benchmark.runner.run_benchmark`
    evaluates: the stems in both folders (:func:`~defusion.io.pairs.match_pairs`), the first ``limit`` of
    them; before those whose sources differ in size are left out (a problem then)."""
    return limited(match_pairs(dir_a, dir_b)[0], limit)


def limited(pairs: list[tuple[str, Path, Path]], limit: int | None) -> list[tuple[str, Path, Path]]:
    """The first ``limit`` of ``pairs`` (all without one): --limit, for :func:`evaluated_pairs` and the run alike.

    Example:
        >>> pairs = [(stem, Path(f"ir/{stem}.png"), Path(f"vis/{stem}.png")) for stem in ("01", "02", "03")]
        >>> [stem for stem, _, _ in limited(pairs, 2)], len(limited(pairs, None))
        (['01', '02'], 3)
    """
    return pairs[:limit] if limit else pairs


def same_size_pairs(pairs: list[tuple[str, Path, Path]], problems: list[str]) -> list[tuple[str, Path, Path]]:
    """``pairs`` less those whose sources' headers give different sizes, each noted in ``problems``:
    no method or metric can take such a pair, and counting it would mix means over different pairs."""
    kept = []
    for stem, path_a, path_b in pairs:
        size_a, size_b = header_size(path_a), header_size(path_b)
        if size_a is not None and size_b is not None and size_a != size_b:
            problems.append(sizes_differ(stem, size_a, size_b))
        else:
            kept.append((stem, path_a, path_b))
    return kept


def sizes_differ(stem: str, size_a: tuple[int, int], size_b: tuple[int, int]) -> str:
    """The note on a pair left out because its sources differ in size (no method, no metric can take it).

    Example:
        >>> sizes_differ("07", (640, 480), (632, 480))
        '07: the sources differ in size (640x480 vs 632x480); left out'
    """
    return f"{stem}: the sources differ in size ({size_a[0]}x{size_a[1]} vs {size_b[0]}x{size_b[1]}); left out"


def unpaired_results(name: str, where: Path, files: dict[str, Path], pairs: list[str]) -> list[str]:
    """Notes on what a ``--fused`` folder holds besides results of ``pairs``: images named after no
    pair (with the pair a name matches but for case: stems are matched exactly) and other files,
    as the source folders' are noted, so that a misnamed result is not passed over silently. Of a
    pattern (:func:`~defusion.io.pairs.is_stem_pattern`), the files it matches named after no pair
    only: its folder may hold other methods' results too (VIFB's ``<image>_<method>.jpg``).

    Example:
        >>> files = {stem: Path(f"out/{stem}_CBF.jpg") for stem in ("01", "P02", "99")}
        >>> print(unpaired_results("CBF", Path("out/{stem}_CBF.jpg"), files, ["01", "p02"])[0])
        --fused CBF: 2 files matching {stem}_CBF.jpg named after no pair, left out: 99_CBF.jpg, P02_CBF.jpg \
(names must match a pair's exactly, case included: P02_CBF.jpg for the pair p02?)
    """
    known = set(pairs)
    by_lower = {stem.lower(): stem for stem in pairs}
    stray = [files[stem].name for stem in sorted(files) if stem not in known]
    pattern = is_stem_pattern(where)
    notes = [] if pattern else [f"--fused {name}: {where}: left out {line}" for line in left_out(where)]
    if stray:
        hints = [f"{files[stem].name} for the pair {by_lower[stem.lower()]}?" for stem in sorted(files)
                 if stem not in known and stem.lower() in by_lower]
        matching = f" matching {Path(where).name}" if pattern else ""
        notes.append(f"--fused {name}: {plural(len(stray), 'file')}{matching} named after no pair, "
                     f"left out: {listed(stray)}"
                     + (f" (names must match a pair's exactly, case included: {listed(hints)})" if hints else ""))
    return notes


def no_result_of_a_pair(name: str, where: Path, files: dict[str, Path], stems: list[str]) -> str:
    """The error of a ``--fused`` folder or pattern (``where``) whose ``files`` are of none of the pairs
    (``stems``): the name the first pair's result would have, a name found (one starting with the pair's,
    where there is one) and, where a found name holds a pair's, the pattern that would match such names.

    Example:
        >>> print(no_result_of_a_pair("CBF", Path("out/{stem}.jpg"), {"01_CBF": Path("out/01_CBF.jpg")}, ["01", "02"]))
        --fused CBF: none of the 1 files in out matching {stem}.jpg is named after a pair (expected e.g. 01.jpg for \
the pair 01; found e.g. 01_CBF.jpg); for names like 01_CBF.jpg give a pattern: --fused 'CBF=out/{stem}_CBF.jpg'
    """
    stem, folder = stems[0], results_folder(where)
    pattern = Path(where).name if is_stem_pattern(where) else f"{STEM_FIELD}.png"
    if not is_stem_pattern(where):
        what = f"none of the {len(files)} image files in {folder} is named after a pair"
    elif files:
        what = f"none of the {len(files)} files in {folder} matching {pattern} is named after a pair"
    else:
        what = f"no file in {folder} matches {pattern}"
    found = list(files.values()) or list(images_by_stem(folder).values())
    example = next((p for p in found if p.name.startswith(stem)), found[0] if found else None)
    message = (f"--fused {name}: {what} (expected e.g. {pattern.replace(STEM_FIELD, stem)} for the pair {stem}; "
               + (f"found e.g. {example.name})" if example else f"{folder} holds no image file)"))
    suggested = _suggested_pattern(example.name, stems) if example else None
    if suggested is not None and suggested != pattern:
        message += f"; for names like {example.name} give a pattern: --fused '{name}={folder / suggested}'"
    return message


def _suggested_pattern(file_name: str, stems: list[str]) -> str | None:
    """A pattern (:data:`~defusion.io.pairs.STEM_FIELD`) that matches ``file_name``, where it starts, or its
    stem ends, with one of ``stems`` (the longest): what a ``--fused`` pattern for such names looks like.

    Example:
        >>> _suggested_pattern("p1_fused.png", ["p1", "p10"]), _suggested_pattern("CBF_p10.jpg", ["p1", "p10"])
        ('{stem}_fused.png', 'CBF_{stem}.jpg')
    """
    name = Path(file_name)
    for stem in sorted(stems, key=len, reverse=True):
        if file_name.startswith(stem) and len(file_name) > len(stem):
            return STEM_FIELD + file_name[len(stem):]
        if name.stem.endswith(stem) and len(name.stem) > len(stem):
            return name.stem[:-len(stem)] + STEM_FIELD + name.suffix
    return None
