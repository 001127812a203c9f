"""Where DeFusion stands on each benchmark: the figures of the model card's summary table.

Reads a `scripts/run_benchmarks.sh` output folder and prints, from the same means as
docs/benchmarks.md: TNO's targets and mean rank, VIFB ranks among the published methods and
how many metrics beat the `average` and `laplacian` baselines, MEFB against the paper's
Table 1, MFIFB's Qabf beside the published methods, and on each benchmark how many metrics the
default beats each other DeFusion row on (`defusion-paper`: the paper's inference, `defusion-g1`: the
paper's gain 1, `defusion-network`: the reconstruction). Mean ranks are `defusion bench`'s
(`report.table_ranks`): metrics that rescale another (SSIM-mean, SSIM) count once, and a method
with results missing on some pairs gets no rank; a benchmark missing from the folder is skipped.

Usage: python scripts/standings.py [out/bench]
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Callable

from defusion.baselines import BASELINES
from defusion.benchmark.report import mean_table, table_ranks
from defusion.benchmark.runner import DEFUSION_VARIANTS, read_results_csv
from defusion.metrics import METRICS, distinct

OURS = "defusion"


@lru_cache(maxsize=None)  # main() reads each benchmark twice: its section and the variant counts
def load(folder: Path):
    rows = read_results_csv(folder / "results.csv")
    methods, metrics, means = mean_table(rows)
    return methods, distinct(metrics), means, len({r.image for r in rows if r.method == OURS}), tuple(rows)


def rank_among(pool: list[str], metric: str, means: dict) -> int:
    order = sorted(pool, key=lambda m: means[(m, metric)], reverse=METRICS[metric].higher_is_better)
    return order.index(OURS) + 1


def beats(metric: str, means: dict, other: str) -> bool:
    ours, theirs = means[(OURS, metric)], means[(other, metric)]
    return ours != theirs and (ours > theirs) == METRICS[metric].higher_is_better


def other_variants(means: dict) -> list[str]:
    """The DeFusion variants besides the default that this benchmark scored."""
    return [m for m in DEFUSION_VARIANTS if m != OURS and (m, "Qabf") in means]


def fmt(means: dict, method: str, metrics: list[str]) -> str:
    return " / ".join(f"{means[(method, m)]:.4g}" for m in metrics)


def mean_rank(rows: tuple, methods: list[str], metrics: list[str], means: dict, others: list[str]) -> str:
    """'mean rank R of N (r.rr); best1 r, ...': the default among ``methods`` less the ``others``
    DeFusion rows, ranked as `defusion bench`'s tables rank (``report.table_ranks``: a method with
    results missing on some pairs gets no rank, and the line says how many such are left out)."""
    pool = [m for m in methods if m not in others]
    ranks = table_ranks([r for r in rows if r.method in pool], pool, metrics, means)
    order = sorted(ranks, key=ranks.get)
    unranked = [m for m in pool if m not in ranks]
    left_out = f"; {len(unranked)} with results missing not ranked ({', '.join(unranked)})" if unranked else ""
    if OURS not in ranks:
        return f"not ranked: results missing on some pairs{left_out}"
    return (f"mean rank {order.index(OURS) + 1} of {len(order)} ({ranks[OURS]:.2f}); "
            + ", ".join(f"{m} {ranks[m]:.2f}" for m in order[:3]) + left_out)


def tno(out: Path) -> None:
    methods, metrics, means, pairs, rows = load(out / "tno")
    others = other_variants(means)
    for other in others:
        print(f"TNO ({pairs}) {other}: Qabf / EN / SD / SF {fmt(means, other, ['Qabf', 'EN', 'SD', 'SF'])}")
    print(f"TNO ({pairs}): Qabf / EN / SD / SF {fmt(means, OURS, ['Qabf', 'EN', 'SD', 'SF'])} "
          f"(targets 0.41 / 6.95 / 38.41 / 8.21); {mean_rank(rows, methods, metrics, means, others)}")


def vifb(out: Path, builtin: set[str]) -> None:
    methods, metrics, means, pairs, rows = load(out / "vifb")
    published = [m for m in methods if m not in builtin]
    pool = [*published, OURS]
    print(f"VIFB ({pairs}): ranks of {len(pool)} (published + DeFusion): " + ", ".join(
        f"{m} {rank_among(pool, m, means)}" for m in ["Qabf", "SSIM", "MI", "VIF"])
        + "; over every method but the other DeFusion rows, "
        + mean_rank(rows, methods, metrics, means, other_variants(means)))
    for base in ("average", "laplacian"):
        won = [m for m in metrics if beats(m, means, base)]
        print(f"  better than {base} on {len(won)} of {len(metrics)}: {', '.join(won)}")


def mefb(out: Path) -> None:
    methods, metrics, means, pairs, rows = load(out / "mefb")
    for method in (OURS, *other_variants(means)):
        print(f"MEFB ({pairs}) {method}: MEF-SSIM / MS-MEF-SSIM / SSIM / SSIM-mean / Qabf "
              f"{fmt(means, method, ['MEF-SSIM', 'MS-MEF-SSIM', 'SSIM', 'SSIM-mean', 'Qabf'])} "
              "(paper: MEF-SSIM 0.827, SSIM 0.608)")
    print(f"MEFB ({pairs}): {mean_rank(rows, methods, metrics, means, other_variants(means))}")


def mfifb(out: Path, builtin: set[str]) -> None:
    methods, metrics, means, pairs, rows = load(out / "mfifb")
    published = [m for m in methods if m not in builtin]
    print(f"MFIFB ({pairs}): Qabf " + ", ".join(f"{m} {means[(m, 'Qabf')]:.3f}" for m in (OURS, *other_variants(means)))
          + "; published " + ", ".join(f"{m} {means[(m, 'Qabf')]:.3f}" for m in published))
    print(f"MFIFB ({pairs}): {mean_rank(rows, methods, metrics, means, other_variants(means))}")


#: Each benchmark's section, by the name of its folder, in the order printed: every one takes the
#: output folder and the built-in methods' names (those not among a benchmark's published methods).
SECTIONS: dict[str, Callable[[Path, set[str]], None]] = {
    "tno": lambda out, builtin: tno(out),
    "vifb": vifb,
    "mefb": lambda out, builtin: mefb(out),
    "mfifb": mfifb,
}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out/bench")
    builtin = set(DEFUSION_VARIANTS) | set(BASELINES)
    present = [name for name in SECTIONS
               if (out / name / "results.csv").is_file() and load(out / name)[3]]  # with DeFusion's rows
    if not present:
        sys.exit(f"standings: no benchmark results in {out} (expected tno/, vifb/, mefb/ or mfifb/ with results.csv)")
    for name, section in SECTIONS.items():
        if name not in present:
            print(f"{name.upper()}: not in {out} (or without DeFusion's rows); skipped")
        else:
            section(out, builtin)
    for name in present:
        methods, metrics, means, pairs, _ = load(out / name)
        for other in other_variants(means):
            won = [m for m in metrics if beats(m, means, other)]
            print(f"{name.upper()} ({pairs}): default better than {other} on {len(won)} of {len(metrics)} "
                  f"(worse or level: {', '.join(m for m in metrics if m not in won)})")


if __name__ == "__main__":
    main()
