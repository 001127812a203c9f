"""``defusion bench`` scores every method of a pair in one ``shared_inputs(sources=True)`` block: each
source's own quantities computed once for all methods (the speed-up of a performance audit), scores
bit-identical to each metric alone, and what the metrics warn of a result returned for the run to say
once per method. A plain block no longer shares them between calls (a review: stale scores where a
caller refills its source buffers in place), so the bench has to ask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.benchmark import evaluation
from defusion.metrics import METRICS

SIZE = (48, 56)
NAMES = ["Qabf", "Nabf", "SSIM", "MI", "VIF", "Qcb"]


def test_a_pairs_sources_are_processed_once_for_all_its_methods_with_scores_as_alone(rng, monkeypatch, sobel_passes):
    calls = sobel_passes
    a, b = rng.integers(0, 256, SIZE, dtype=np.uint8), rng.integers(0, 256, SIZE, dtype=np.uint8)
    outputs = {f"m{k}": rng.integers(0, 256, SIZE, dtype=np.uint8) for k in range(3)}
    task = evaluation.PairTask("01", Path("a/01.png"), Path("b/01.png"), dict.fromkeys(outputs, NAMES), {}, [],
                               set(), None, [])
    rows, problems, found = evaluation._scores(task, outputs, [a, b])
    assert problems == [] and found == []
    assert len(calls) == 2 + len(outputs)  # Qabf's Sobel pass: each source once, each result once
    monkeypatch.undo()  # the metrics alone below, uncounted
    alone = {(name, metric): METRICS[metric].fn(fused, a, b) for name, fused in outputs.items() for metric in NAMES}
    assert {(r.method, r.metric): r.value for r in rows} == alone
