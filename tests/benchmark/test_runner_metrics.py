"""How run_benchmark takes metric names: as defusion.metrics.metric_names, checked at call time."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.benchmark.runner import SECONDS, run_benchmark
from defusion.io.images import write_image
from tests.conftest import smooth_image

METHODS = {"max": np.maximum}


def _pairs(tmp_path, rng):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in ("p1", "p2"):
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    return da, db


def _metrics_scored(da, db, metrics) -> set[str]:
    *_, result = list(run_benchmark(da, db, METHODS, {}, metrics, progress=False))[-1]
    assert result.images == ["p1", "p2"]
    return {r.metric for r in result.rows} - {SECONDS}


@pytest.mark.parametrize("metrics, want", [
    ("EN", {"EN"}),  # once split into the characters E and N
    ("en, ssim-mean", {"EN", "SSIM-mean"}),
    (["sd", "EN"], {"SD", "EN"}),
    (("EN", "SD"), {"EN", "SD"}),  # as defusion bench passes them
])
def test_metrics_as_a_string_or_a_list_any_case(tmp_path, rng, metrics, want):
    da, db = _pairs(tmp_path, rng)
    assert _metrics_scored(da, db, metrics) == want


@pytest.mark.parametrize("metrics, message", [(["EN", "nope"], "unknown metric.*nope"), ("", "no metric named")])
def test_bad_metric_names_raise_when_called_not_while_iterating(tmp_path, rng, metrics, message):
    da, db = _pairs(tmp_path, rng)
    with pytest.raises(KeyError, match=message):
        run_benchmark(da, db, METHODS, {}, metrics, progress=False)  # no next(): the call itself raises
