"""The benchmark pair folders in ../shared, given and read the same way by the scripts that use them."""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion.io.pairs import match_pairs

#: ../shared/data/bench beside the repository: read only as test scenes, never needed by the product.
SHARED_BENCH = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bench"


def add_pair_arguments(p: argparse.ArgumentParser, flag: str, default: Path, sides: tuple[str, str],
                       limit: int) -> None:
    """``flag`` (a folder holding the two ``sides``, as ``args.folder``), --limit, --weights,
    --runtime and --no-progress."""
    p.add_argument(flag, dest="folder", type=Path, default=default, help=f"a folder with {sides[0]}/ and {sides[1]}/")
    p.add_argument("--limit", type=int, default=limit, help=f"the first N pairs (default {limit})")
    p.add_argument("--weights", default=None, help="weight file (default: the shipped weights)")
    p.add_argument("--runtime", default="onnxruntime")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the pairs (on stderr)")


def load_pairs(folder: Path, sides: tuple[str, str], limit: int) -> list[tuple[str, Path, Path]]:
    """The first ``limit`` (stem, first, second) pairs matched by stem, or exit saying what is missing."""
    first, second = (folder / side for side in sides)
    if not first.is_dir():
        raise SystemExit(f"no pairs: {first} is not a folder (pass the benchmark's folder)")
    return match_pairs(first, second)[0][:limit]
