"""Matching source images across folders by file stem (the benchmarks' layout)."""

from __future__ import annotations

from pathlib import Path

from defusion.data.dataset import IMAGE_SUFFIXES


def images_by_stem(folder: str | Path) -> dict[str, Path]:
    """Image files directly in ``folder``, keyed by stem (``01.png`` -> ``01``)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {folder}")
    return {p.stem: p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES}


def match_pairs(folder_a: str | Path, folder_b: str | Path) -> tuple[list[tuple[str, Path, Path]], list[str]]:
    """(stem, a, b) for stems in both folders, and the stems found in only one of them."""
    a, b = images_by_stem(folder_a), images_by_stem(folder_b)
    pairs = [(stem, a[stem], b[stem]) for stem in sorted(a.keys() & b.keys())]
    unmatched = sorted(a.keys() ^ b.keys())
    return pairs, unmatched
