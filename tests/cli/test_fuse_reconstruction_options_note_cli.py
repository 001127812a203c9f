"""`defusion fuse --task mff` with options of the network's reconstruction says they do nothing there.

From an audit: ``--task mff --scale 1 --unique-gain 1 --color rgb`` (the paper's settings) still took
the pixels from the sources, mff's default, in silence.
"""

from __future__ import annotations

import argparse

import pytest

from defusion.cli import fuse
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _args(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"pixels": None, "unique_gain": None, "detail_gain": None, "color": "auto", **given})


@pytest.mark.parametrize("given, pixels, expected", [
    ({"unique_gain": 1.0, "color": "rgb"}, "sources", ["--unique-gain"]),  # --color changes the decision map
    ({"unique_gain": 1.0, "detail_gain": 1.5}, "sources", ["--unique-gain", "--detail-gain"]),
    ({"detail_gain": 1.5}, "sources", ["--detail-gain"]),
    ({"color": "rgb"}, "sources", []),  # what the network sees, and so which pixels are picked
    ({"unique_gain": 1.0}, "network", []),  # the reconstruction is the result
    ({"unique_gain": 1.0, "pixels": "sources"}, "sources", []),  # asked for the sources' pixels in so many words
    ({"color": "ycbcr"}, "sources", []),  # auto's own mode
    ({}, "sources", []),
])
def test_which_options_are_named(given, pixels, expected):
    assert fuse.advice.reconstruction_options(_args(**given), pixels) == expected


def _pair(tmp_path, rng, prefix: str) -> list:
    near, far = smooth_image(rng, 48, 64), smooth_image(rng, 48, 64)
    return [write_image(tmp_path / f"{prefix}_{name}.png", image) for name, image in (("near", near), ("far", far))]


def _notes(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("defusion: note:")]


def test_mff_with_the_papers_options_notes_that_pixels_come_from_the_sources(tmp_path, rng, tiny_weights, capsys):
    a, b = _pair(tmp_path, rng, "paper")
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--task", "mff", "--scale", "1",
                 "--unique-gain", "1", "--color", "rgb", "--weights", str(tiny_weights), "--no-progress"]) == 0
    assert _notes(capsys) == ["defusion: note: --unique-gain shapes the network's reconstruction, but --task mff "
                              "takes the fused pixels from the sources: add --pixels network for the network's "
                              "fusion (the paper's)"]


def test_mff_with_pixels_network_or_without_such_options_says_nothing(tmp_path, rng, tiny_weights, capsys):
    a, b = _pair(tmp_path, rng, "quiet")
    common = [str(a), str(b), "--task", "mff", "--weights", str(tiny_weights), "--no-progress", "--scale", "1"]
    assert main(["fuse", *common, "-o", str(tmp_path / "n.png"), "--pixels", "network", "--detail-gain", "1"]) == 0
    assert main(["fuse", *common, "-o", str(tmp_path / "s.png")]) == 0
    assert not _notes(capsys)
