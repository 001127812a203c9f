"""The model card's failure cases, chosen by the numbers rather than by hand.

For TNO, MEFB and MFIFB: the pair where the shipped weights' Qabf falls furthest below the
best other method's (baselines and published results, as scored by `defusion bench` in
OUT), shown as A, B, DeFusion, that method, and the centre of both at 2x.

Usage: python scripts/make_failure_figure.py [OUT=out/bench] -> docs/images/failures.jpg
Needs ../shared and a finished `scripts/run_benchmarks.sh OUT`.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from defusion.benchmark.report import labelled_tile, tile_rows
from defusion.benchmark.runner import builtin_method, read_results_csv
from defusion.fusion.color import to_uint8
from defusion.io.pairs import images_by_stem, match_pairs
from defusion.io.images import read_image

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data" / "bench"
#: name -> (folder A, folder B, folder of published methods' results or None)
BENCHES = {
    "tno": ("ivf/tno/vi", "ivf/tno/ir", None),
    "mefb": ("mef/mefb/A", "mef/mefb/B", None),
    "mfifb": ("mff/mfifb/A", "mff/mfifb/B", "mff/mfifb/fused"),
}
METRIC = "Qabf"
OURS = "defusion"
#: The fusion task of each benchmark: DeFusion fuses at that task's defaults, as `defusion bench` did.
TASKS = {"tno": "ivf", "mefb": "mef", "mfifb": "mff"}


def worst_pair(results: Path) -> tuple[str, str, float, float]:
    """(image, best other method, our Qabf, its Qabf) where our Qabf is lowest relative to the best."""
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    for r in read_results_csv(results):
        if r.metric == METRIC and np.isfinite(r.value):
            scores[r.image][r.method] = r.value
    best = None
    for image, by_method in scores.items():
        others = {m: v for m, v in by_method.items() if not m.startswith(OURS)}
        if OURS not in by_method or not others:
            continue
        rival = max(others, key=others.get)
        ratio = by_method[OURS] / max(others[rival], 1e-9)
        if best is None or ratio < best[0]:
            best = (ratio, image, rival, by_method[OURS], others[rival])
    if best is None:
        raise SystemExit(f"no {METRIC} scores for {OURS} and another method in {results}")
    return best[1:]


def centre_crop(image: np.ndarray, share: float = 0.5) -> np.ndarray:
    h, w = image.shape[:2]
    ch, cw = int(h * share), int(w * share)
    return image[(h - ch) // 2:(h + ch) // 2, (w - cw) // 2:(w + cw) // 2]


def figure_row(name: str, bench_out: Path) -> list[Image.Image]:
    dir_a, dir_b, published = BENCHES[name]
    image, rival, ours_q, rival_q = worst_pair(bench_out / "results.csv")
    pairs = {stem: (a, b) for stem, a, b in match_pairs(DATA / dir_a, DATA / dir_b)[0]}
    a, b = (to_uint8(read_image(p)) for p in pairs[image])
    ours = to_uint8(builtin_method(OURS, device="cpu", task=TASKS[name])(a, b))
    published_dir = DATA / published / rival if published else None
    if published_dir is not None and published_dir.is_dir():
        theirs = to_uint8(read_image(images_by_stem(published_dir)[image]))
    else:
        theirs = to_uint8(builtin_method(rival)(a, b))
    tiles = [labelled_tile(a, f"{name} {image}: A"), labelled_tile(b, "B"),
             labelled_tile(ours, f"DeFusion  Qabf {ours_q:.2f}"), labelled_tile(theirs, f"{rival}  Qabf {rival_q:.2f}"),
             labelled_tile(centre_crop(ours), "DeFusion, centre 2x"), labelled_tile(centre_crop(theirs), f"{rival}, centre 2x")]
    print(f"{name}: pair {image}, DeFusion Qabf {ours_q:.3f} vs {rival} {rival_q:.3f}")
    return tiles


def main() -> None:
    bench_out = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "out" / "bench"
    rows = [figure_row(name, bench_out / name) for name in BENCHES]
    sheet = tile_rows(rows)
    path = REPO / "docs" / "images" / "failures.jpg"
    sheet.save(path, quality=88)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
