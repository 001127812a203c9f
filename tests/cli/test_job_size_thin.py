"""cli.job_size counts a thin image's network passes as the fusion runs them: a 200000x1 pair at the
default scale 2 was counted (and run) as one pass of 16x400000 network px, about 11x the 768x768 that
automatic tiles bound a pass to; it runs 11 passes within that bound (padded)."""

from __future__ import annotations

from defusion.cli import job_size
from defusion.fusion.options import FuseOptions


def test_thin_images_count_the_passes_they_run():
    options = FuseOptions()
    assert job_size.network_passes(options, 1, 200_000, 2) == 11
    assert job_size.network_passes(options, 200_000, 1, 3) == 22  # two pairwise fusions
    assert job_size.passes_at_one(options, 1, 200_000, 2) == 3  # 8x200000 at scale 1, in passes of 8x73728 at most
    assert job_size.network_passes(FuseOptions(scale=1), 1, 300_000, 2) == 5


def test_square_images_count_as_before():
    options = FuseOptions()
    assert job_size.network_passes(options, 480, 640, 2) == 4
    assert job_size.network_passes(options, 3000, 4000, 2) == 108
    assert job_size.network_passes(options, 1024, 1024, 2) == 9
