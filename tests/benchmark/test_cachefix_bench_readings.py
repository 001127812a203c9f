"""The metrics' warnings about a result they may misread (float values clipped to [0, 1], or read on
0..255 while near black), as ``defusion bench`` says them: one ``defusion: warning:`` line per method,
naming it, a pair and its file, at the end of the run, in a command's words (save it ...).

From a review: they were Python warnings, one per pair and method, naming neither ("fused: float values
span ..."), with Python advice (np.clip) and a ``sys.exit(main())`` line under them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import tifffile

from defusion.benchmark.runner import run_benchmark
from defusion.errors import DefusionWarning
from defusion.io.images import write_image
from defusion.io.notes import as_lines

SIZE = (32, 40)
STEMS = ("p1", "p2")
#: How far past 1 each published method's float results go: clipped to [0, 1], or read on 0..255.
PAST_ONE = {"bright": 1.3, "dim": 1.8}


def _folders(root: Path, rng) -> tuple[Path, Path, dict[str, Path]]:
    """Two pairs of sources and, per :data:`PAST_ONE` method, a float TIFF result of each pair."""
    da, db = root / "vis", root / "inf"
    results = {name: root / name for name in PAST_ONE}
    for folder in results.values():
        folder.mkdir(parents=True)
    for stem in STEMS:
        a, b = (rng.integers(0, 256, SIZE, dtype=np.uint8) for _ in range(2))
        write_image(da / f"{stem}.png", a)
        write_image(db / f"{stem}.png", b)
        mean = ((a.astype(np.float32) + b) / 510).astype(np.float32)
        for name, factor in PAST_ONE.items():
            tifffile.imwrite(results[name] / f"{stem}.tif", mean * factor)
    return da, db, results


def test_a_command_says_one_line_per_method_naming_it_a_pair_and_its_file(tmp_path, rng, capsys):
    da, db, results = _folders(tmp_path, rng)
    with warnings.catch_warnings(record=True) as caught, as_lines():
        warnings.simplefilter("always")
        list(run_benchmark(da, db, {}, results, "EN,SSIM,Qabf", progress=False))
    assert not [w for w in caught if issubclass(w.category, DefusionWarning)]  # lines, not Python warnings
    said = [line for line in capsys.readouterr().err.splitlines() if "float values span" in line]
    assert len(said) == 2, said  # one per method, not one per pair and method
    bright, dim = sorted(said)
    first = results["bright"] / "p1.tif"
    assert bright.startswith(f"defusion: warning: bright's results for 2 pairs, e.g. p1 ({first}): float values span ")
    assert "clipped to it to be scored as a [0, 1] image; save it clipped to 0..1 where that is meant" in bright
    assert dim.startswith(f"defusion: warning: dim's results for 2 pairs, e.g. p1 ({results['dim'] / 'p1.tif'}): ")
    assert "read as levels on 0..255, near black" in dim and "save it as 8-bit" in dim
    assert not any("np.clip" in line or "uint8" in line for line in said)  # a command's words


def test_a_python_caller_gets_one_warning_per_method(tmp_path, rng):
    da, db, results = _folders(tmp_path, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(run_benchmark(da, db, {}, {"dim": results["dim"]}, "EN,SSIM", progress=False))
    said = [str(w.message) for w in caught
            if issubclass(w.category, DefusionWarning) and "float values" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("dim's results for 2 pairs, e.g. p1 ("), said
