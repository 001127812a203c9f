"""Matching source images across folders by file stem (the benchmarks' layout).

A folder's images are the files directly in it that :func:`defusion.io.images.read_image` reads
(:data:`~defusion.io.images.READ_SUFFIXES`: GIF, HEIC and camera raw files too), hidden files (macOS's
``._08.png`` beside a copied ``08.png``) left out. :func:`match_pairs` says what else each folder
holds (other files, hidden images, subfolders), so that nothing is passed over silently. A method's
results are found the same way, or by a file pattern naming the pair, with a fixed extension or any
(:data:`EXT_FIELD`) (:func:`results_by_stem`).

Stems are compared in Unicode's composed form (:func:`pair_stem`): macOS hands out ``café`` with its
accent as a separate character, other systems and copies from them as one, and the two spellings
are one pair. Two pairs whose names differ only in case are one file on Windows and macOS
(:func:`case_clashes`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

from defusion.errors import DefusionError
from defusion.io.images import READ_FORMATS, READ_SUFFIXES
from defusion.io.notes import listed, note, plural
from defusion.io.shots import is_hidden


class PairsError(DefusionError, ValueError):
    """A folder of pairs that holds no image to pair."""


def _folder(folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {folder}")
    return folder


def _is_image(path: Path) -> bool:
    return path.is_file() and not is_hidden(path) and path.suffix.lower() in READ_SUFFIXES


def _images(folder: str | Path) -> list[Path]:
    return [p for p in sorted(_folder(folder).iterdir()) if _is_image(p)]


#: The Unicode normal form stems are compared in: composed (NFC), as Windows and Linux programs write
#: names; macOS's file systems give them decomposed (NFD) or as written.
STEM_FORM = "NFC"


def pair_stem(text: str) -> str:
    """``text`` (a stem, a file name) in :data:`STEM_FORM`, the form pairs are matched and named in:
    ``café`` typed (é one character) and ``café`` listed by macOS (e then a combining accent) are
    one pair.

    Example:
        >>> typed, listed = "caf\u00e9", "cafe\u0301"
        >>> typed == listed, pair_stem(typed) == pair_stem(listed)
        (False, True)
    """
    return unicodedata.normalize(STEM_FORM, text)


#: Stands for a pair's name in a file pattern of results (``results/{stem}_mine.png``: ``01_mine.png`` is
#: the result of the pair ``01``), for results named otherwise than ``<pair>.<ext>``.
STEM_FIELD = "{stem}"

#: Stands for the extension at the end of a file pattern (``results/{stem}_mine.{ext}``): any image
#: extension defusion reads, so that results stored as .jpg, .png and .bmp by scene (MFIFB's, MEFB's)
#: are found by one pattern.
EXT_FIELD = "{ext}"


def is_stem_pattern(where: str | Path) -> bool:
    """Whether ``where`` is a file pattern (:data:`STEM_FIELD` or :data:`EXT_FIELD` in it), not a folder.

    Example:
        >>> is_stem_pattern("results/{stem}_mine.png"), is_stem_pattern("results/mine")
        (True, False)
    """
    return STEM_FIELD in str(where) or EXT_FIELD in str(where)


def _any_extension(name: str) -> bool:
    """Whether a pattern's file ``name`` ends in ``.{ext}`` (:data:`EXT_FIELD`): any image extension."""
    return name.endswith(f".{EXT_FIELD}")


def check_stem_pattern(pattern: str | Path) -> None:
    """Refuse a file pattern (:func:`is_stem_pattern`) that can name no image: :data:`STEM_FIELD` not
    once in the file's name (PairsError), :data:`EXT_FIELD` anywhere but as its extension (PairsError),
    an extension :func:`~defusion.io.images.read_image` does not read (PairsError), or a folder that is
    not there (FileNotFoundError)."""
    pattern = Path(pattern)
    if STEM_FIELD in str(pattern.parent) or pattern.name.count(STEM_FIELD) != 1:
        raise PairsError(f"{pattern}: put {STEM_FIELD} once, in the file's name (e.g. results/{STEM_FIELD}_mine.png)")
    suffix = pattern.name.rsplit(STEM_FIELD, 1)[1]
    if EXT_FIELD in str(pattern.parent) or EXT_FIELD in pattern.name[:-len(EXT_FIELD) - 1] \
            or (EXT_FIELD in pattern.name and not _any_extension(suffix)):
        raise PairsError(f"{pattern}: {EXT_FIELD} stands for the extension: end the file's name with .{EXT_FIELD}, "
                         f"once (e.g. results/{STEM_FIELD}_mine.{EXT_FIELD})")
    if not _any_extension(suffix) and Path(f"x{suffix}").suffix.lower() not in READ_SUFFIXES:
        example = pattern.name[:len(pattern.name) - len(Path(pattern.name).suffix)] + ".png" \
            if Path(pattern.name).suffix and not Path(pattern.name).suffix.endswith("}") else f"{pattern.name}.png"
        raise PairsError(f"{pattern}: end it with an image file's extension, e.g. {example} (or .{EXT_FIELD} "
                         f"for any that defusion reads: {READ_FORMATS})")
    _folder(pattern.parent)


def results_by_stem(where: str | Path) -> dict[str, Path]:
    """A method's result files keyed by the pair each is of: the images in a folder by stem
    (:func:`images_by_stem`), or the files a pattern (:func:`is_stem_pattern`) names, by what stands in
    its :data:`STEM_FIELD` (``{stem}_mine.png``: ``01_mine.png`` -> ``01``; matched exactly, case included).
    A pattern ending in ``.{ext}`` (:data:`EXT_FIELD`) matches any image extension defusion reads, in any
    case; PairsError where it matches two files of one pair (``01_mine.jpg`` and ``01_mine.png``), since
    nothing says which is the result.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> for name in ("01_mine.png", "01_theirs.png", "02_mine.png", "03_mine.BMP"):
        ...     _ = (folder / name).write_bytes(b"")
        >>> sorted(results_by_stem(folder / "{stem}_mine.png")), sorted(results_by_stem(folder / "{stem}_mine.{ext}"))
        (['01', '02'], ['01', '02', '03'])
    """
    if not is_stem_pattern(where):
        return images_by_stem(where)
    pattern = Path(where)
    if _any_extension(pattern.name):
        return _any_extension_results(pattern)
    head, tail = pair_stem(pattern.name).split(STEM_FIELD, 1)
    found = {}
    for p in sorted(_folder(pattern.parent).iterdir()):
        name = pair_stem(p.name)
        if p.is_file() and not is_hidden(p) and len(name) > len(head) + len(tail) \
                and name.startswith(head) and name.endswith(tail):
            found[name[len(head):len(name) - len(tail)]] = p
    return found


def _any_extension_results(pattern: Path) -> dict[str, Path]:
    """:func:`results_by_stem` of a pattern ending in ``.{ext}``: the images whose name but for the
    extension matches the rest, by pair; PairsError, naming both, where one pair has two."""
    head, tail = pair_stem(pattern.name[:-len(EXT_FIELD) - 1]).split(STEM_FIELD, 1)
    found: dict[str, Path] = {}
    for p in _images(pattern.parent):
        base = pair_stem(p.name[:-len(p.suffix)])
        if len(base) > len(head) + len(tail) and base.startswith(head) and base.endswith(tail):
            stem = base[len(head):len(base) - len(tail)]
            if stem in found:
                raise PairsError(f"{pattern}: 2 files match for the pair {stem}: {found[stem].name} and {p.name} "
                                 f"in {pattern.parent}; remove one, or give the extension in place of {EXT_FIELD}")
            found[stem] = p
    return found


def results_folder(where: str | Path) -> Path:
    """The folder that holds a method's results: ``where`` itself, or a pattern's folder."""
    return Path(where).parent if is_stem_pattern(where) else Path(where)


def images_by_stem(folder: str | Path) -> dict[str, Path]:
    """Image files directly in ``folder``, keyed by stem (``01.png`` -> ``01``), in :data:`STEM_FORM`
    (:func:`pair_stem`); of several files with one stem the last in name order (:func:`stem_clashes`
    names them)."""
    return {pair_stem(p.stem): p for p in _images(folder)}


def stem_clashes(folder: str | Path) -> list[str]:
    """One line per stem that several image files in ``folder`` share, naming the one used.

    Example: ``01.png`` and ``01.tif`` -> ``["01: 2 files (01.png, 01.tif); using 01.tif"]``.
    """
    by_stem: dict[str, list[Path]] = {}
    for p in _images(folder):
        by_stem.setdefault(pair_stem(p.stem), []).append(p)
    return [f"{stem}: {len(files)} files ({', '.join(f.name for f in files)}) in {Path(folder)}; using {files[-1].name}"
            for stem, files in by_stem.items() if len(files) > 1]


def left_out(folder: str | Path) -> list[str]:
    """What ``folder`` holds directly besides images to pair, one phrase per kind ("2 other files, ...",
    "1 hidden file: ._08.png ...", "subfolders, not searched: ..."), the folder not named: files of
    other types, hidden image files, subfolders. Hidden files of other types (``.DS_Store``) are not
    named: they never were images."""
    entries = sorted(_folder(folder).iterdir())
    others = [p.name for p in entries if p.is_file() and not is_hidden(p) and not _is_image(p)]
    hidden = [p.name for p in entries if p.is_file() and is_hidden(p) and p.suffix.lower() in READ_SUFFIXES]
    subfolders = [f"{p.name}/" for p in entries if p.is_dir() and not is_hidden(p)]
    lines = []
    if others:
        lines.append(f"{plural(len(others), 'other file')}, not {'an image' if len(others) == 1 else 'images'} "
                     f"defusion reads: {listed(others)} (it reads {READ_FORMATS})")
    if hidden:
        lines.append(f"{plural(len(hidden), 'hidden file')}: {listed(hidden)} (names starting with '.' are system "
                     "files, such as the ._ files macOS writes beside copies, not images)")
    if subfolders:
        lines.append(f"subfolders, not searched: {listed(subfolders)} (give one itself to pair its images)")
    return lines


def match_pairs(folder_a: str | Path, folder_b: str | Path) -> tuple[list[tuple[str, Path, Path]], list[str]]:
    """(stem, a, b) for stems in both folders, and the stems found in only one of them.

    What else the folders hold is noted (:func:`left_out`); PairsError where one holds no image at all
    (saying what it holds), rather than the vaguer "no stem in both".
    """
    a, b = images_by_stem(folder_a), images_by_stem(folder_b)
    for folder, images in ((folder_a, a), (folder_b, b)):
        lines = left_out(folder)
        if not images:
            raise PairsError(f"no images in {folder}; " + (f"it holds {'; '.join(lines)}" if lines else "it is empty"))
        for line in lines:
            note(f"{folder}: left out {line}")
    pairs = [(stem, a[stem], b[stem]) for stem in sorted(a.keys() & b.keys())]
    unmatched = sorted(a.keys() ^ b.keys())
    twins = case_twins(a.keys() - b.keys(), b.keys() - a.keys())
    if twins:
        note(f"not paired, as their names differ only in case: {listed([f'{x} and {y}' for x, y in twins])} "
             f"({folder_a}, {folder_b}); a pair's names must match exactly, case included: rename one of each")
    return pairs, unmatched


def case_twins(only_a: Iterable[str], only_b: Iterable[str]) -> list[tuple[str, str]]:
    """(stem of A, stem of B) of stems found on one side only that differ only in case: a pair a user
    meant, which matching by exact stem (as on a case-sensitive file system) leaves out.

    Example:
        >>> case_twins(["carLight", "kettle"], ["carlight", "fight"])
        [('carLight', 'carlight')]
    """
    by_fold = {_folded(stem): stem for stem in only_b}
    return [(stem, by_fold[_folded(stem)]) for stem in sorted(only_a) if _folded(stem) in by_fold]


def case_clashes(stems: Iterable[str]) -> list[tuple[str, str]]:
    """(first, other) of ``stems`` that are one name where case does not count: the pairs ``Scene``
    (of Scene.png) and ``scene`` (of scene.jpg) are both fused into ``Scene.png`` on Windows and macOS
    (their file systems keep a name's case but match names regardless of it), the second over the
    first. Refusing them everywhere keeps a folder's results the same wherever it is fused or copied
    to; renaming one is the fix. Each clash once, against the first of its stems in name order.

    Example:
        >>> case_clashes(["scene", "kettle", "Scene", "Kettles", "SCENE"])
        [('SCENE', 'Scene'), ('SCENE', 'scene')]
    """
    first: dict[str, str] = {}
    clashes = []
    for stem in sorted(stems):
        seen = first.setdefault(_folded(stem), stem)
        if seen != stem:
            clashes.append((seen, stem))
    return clashes


def _folded(stem: str) -> str:
    """``stem`` as names are matched where case does not count: :func:`pair_stem`'s form, case folded as
    Unicode defines it (``Straße`` and ``STRASSE`` too, which ``lower()`` keeps apart and some file
    systems as well: at worst a rename asked for that was not needed, never a fused image lost)."""
    return pair_stem(stem.casefold())


__all__ = ["EXT_FIELD", "PairsError", "STEM_FIELD", "STEM_FORM", "case_clashes", "case_twins", "check_stem_pattern",
           "images_by_stem", "is_stem_pattern", "left_out", "match_pairs", "pair_stem", "results_by_stem",
           "results_folder", "stem_clashes"]
