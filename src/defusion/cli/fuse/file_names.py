"""The file names ``defusion fuse`` says and writes: the sources as its notes name them, and the names
and types of what a run writes (components, source maps, compare sheets, a folder run's fused images)."""

from __future__ import annotations

import argparse
from pathlib import Path

#: File types folder modes write (--format).
FOLDER_FORMATS = ("png", "tif", "jpg")
#: The images --components writes, as NAME.<suffix> (PREFIX_NAME.<suffix> in folder modes), and the
#: one it adds with --pixels sources (the decision map).
COMPONENT_PARTS = ("common", "unique_a", "unique_b")
WEIGHT_PART = "weight_a"
#: The file types --compare writes (JPEG by default, PNG where its suffix says so), and the one a folder
#: run's sheets take (``<name>.jpg`` each).
COMPARE_SUFFIXES = (".jpg", ".jpeg", ".png")
COMPARE_FOLDER_SUFFIX = ".jpg"


def said_names(paths: list[Path]) -> list[str]:
    """The files' names or, where two share a name, the fewest trailing parts of their paths that tell
    them apart (vi/x.png, ir/x.png rather than two long paths); the paths as given where nothing does.

    Example:
        >>> said_names([Path("shots/IMG_01.jpg"), Path("shots/IMG_02.jpg")])
        ['IMG_01.jpg', 'IMG_02.jpg']
        >>> said_names([Path("/data/bench/vi/x.png"), Path("/data/bench/ir/x.png")])
        ['vi/x.png', 'ir/x.png']
        >>> said_names([Path("a/x.png"), Path("a/x.png")])
        ['a/x.png', 'a/x.png']
    """
    deepest = max((len(p.parts) for p in paths), default=1)
    for depth in range(1, deepest + 1):
        names = [str(Path(*p.parts[-depth:])) for p in paths]
        if len(set(names)) == len(names):
            return names
    return [str(p) for p in paths]


def component_suffix(out: Path) -> str:
    """The components' file type: the fused image's where it keeps 16 bits, else PNG.

    Example:
        >>> component_suffix(Path("fused.tif")), component_suffix(Path("fused.jpg"))
        ('.tif', '.png')
    """
    return out.suffix if out.suffix.lower() in (".png", ".tif", ".tiff") else ".png"


def compare_path(path: Path, stem: str | None) -> Path:
    """Where --compare's sheet goes: ``path`` itself for one fusion, ``path/<stem>.jpg`` in a folder run.

    Example:
        >>> compare_path(Path("sheet.png"), None).as_posix(), compare_path(Path("sheets"), "IMG_01-IMG_03").as_posix()
        ('sheet.png', 'sheets/IMG_01-IMG_03.jpg')
    """
    return path if stem is None else path / f"{stem}{COMPARE_FOLDER_SUFFIX}"


def already_fused(stem: str, args: argparse.Namespace) -> bool:
    """Whether a pair's outputs (the fused image, and the components, source map and compare sheet if asked
    for) are written."""
    out = args.output / f"{stem}.{args.format}"
    wanted = [out]
    if args.components:
        suffix = component_suffix(out)
        wanted += [args.components / f"{stem}_{part}{suffix}" for part in COMPONENT_PARTS]
    if args.source_map:
        wanted.append(args.source_map / f"{stem}.png")
    if args.compare:
        wanted.append(compare_path(args.compare, stem))
    return all(p.is_file() or _written_in_another_form(p) for p in wanted)


def _written_in_another_form(path: Path) -> bool:
    """Whether ``path``'s folder holds it under a name that differs only in Unicode form (the
    decomposed ``café`` a run before 2026-12-07 named a Mac's pair by, where pairs are now named in
    composed form: :func:`~defusion.io.pairs.pair_stem`). Only a name beyond ASCII can differ so.

    Example:
        >>> _written_in_another_form(Path("no-such-folder/cafe.png"))
        False
    """
    from defusion.io.pairs import pair_stem

    if path.name.isascii() or not path.parent.is_dir():
        return False
    name = pair_stem(path.name)
    return any(pair_stem(other.name) == name and other.is_file() for other in path.parent.iterdir())
