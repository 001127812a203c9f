"""Matching source images across folders by file stem (the benchmarks' layout)."""

from __future__ import annotations

from pathlib import Path

from defusion.data.dataset import IMAGE_SUFFIXES


def _images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {folder}")
    return [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def images_by_stem(folder: str | Path) -> dict[str, Path]:
    """Image files directly in ``folder``, keyed by stem (``01.png`` -> ``01``); of several files
    with one stem the last in name order (:func:`stem_clashes` names them)."""
    return {p.stem: p for p in _images(folder)}


def stem_clashes(folder: str | Path) -> list[str]:
    """One line per stem that several image files in ``folder`` share, naming the one used.

    Example: ``01.png`` and ``01.tif`` -> ``["01: 2 files (01.png, 01.tif); using 01.tif"]``.
    """
    by_stem: dict[str, list[Path]] = {}
    for p in _images(folder):
        by_stem.setdefault(p.stem, []).append(p)
    return [f"{stem}: {len(files)} files ({', '.join(f.name for f in files)}) in {Path(folder)}; using {files[-1].name}"
            for stem, files in by_stem.items() if len(files) > 1]


def match_pairs(folder_a: str | Path, folder_b: str | Path) -> tuple[list[tuple[str, Path, Path]], list[str]]:
    """(stem, a, b) for stems in both folders, and the stems found in only one of them."""
    a, b = images_by_stem(folder_a), images_by_stem(folder_b)
    pairs = [(stem, a[stem], b[stem]) for stem in sorted(a.keys() & b.keys())]
    unmatched = sorted(a.keys() ^ b.keys())
    return pairs, unmatched
