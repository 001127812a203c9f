"""ECC's final correlation, told per registered image (``align_images(on_correlation=...)``) and put in
words (``describe_correlation``): a photo of another scene that a shift registers passes every bound a
handheld shot has, but correlates little once registered. A note, never a refusal: no threshold
separates one scene from two (infrared beside visible correlates as little; see LOW_CORRELATION)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.align import LOW_CORRELATION, align_images, describe_correlation
from defusion.fusion.color import to_float
from defusion.io.images import read_image
from tests.conftest import REPO

EXAMPLES = REPO / "src" / "defusion" / "examples"
#: The shots' size: the examples resized, for speed.
SIZE = (180, 120)


def _example(name: str) -> np.ndarray:
    image = to_float(read_image(EXAMPLES / f"{name}.png")).astype(np.float32)
    return cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA)


def _handheld(image: np.ndarray) -> np.ndarray:
    """``image`` as a second shot by hand: turned 1 degree and shifted (edges repeated)."""
    matrix = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), 1.0, 1.0)
    matrix[:, 2] += (4, -3)
    return cv2.warpAffine(image, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("motion", ["translation", "euclidean", "affine"])
def test_a_handheld_shot_of_one_scene_correlates_well_and_is_not_noted(motion):
    correlations = {}
    align_images([_example("mef_under"), _handheld(_example("mef_over"))], motion,
                 on_correlation=correlations.__setitem__)
    assert list(correlations) == [1] and correlations[1] > 0.85 > LOW_CORRELATION
    assert describe_correlation(["ev-2.png", "ev+2.png"], (None, correlations[1]), 0) is None


@pytest.mark.parametrize("motion", ["translation", "euclidean"])
def test_another_scene_that_passes_the_handheld_bounds_is_registered_but_named(motion):
    other = np.ascontiguousarray(_example("mef_over")[::-1, ::-1])  # turned upside down: another picture
    correlations = {}
    aligned = align_images([_example("mef_under"), other], motion, on_correlation=correlations.__setitem__)
    assert len(aligned) == 2  # not refused: one scene's infrared and visible images correlate as little
    assert 0.0 < correlations[1] < LOW_CORRELATION
    line = describe_correlation(["ev-2.png", "other.png"], (None, correlations[1]), 0)
    assert line.startswith(f"other.png correlates little with ev-2.png once registered ({correlations[1]:.2f};")
    assert line.endswith("check that it shows the same scene") and "\n" not in line


def test_on_correlation_is_told_each_registered_image_against_the_reference_and_nothing_for_none():
    reference = _example("mff_near")
    shots = [_handheld(_example("mff_far")), reference, _handheld(reference)]
    correlations = {}
    align_images(shots, "euclidean", reference=1, on_correlation=correlations.__setitem__)
    assert sorted(correlations) == [0, 2] and all(0.85 < c <= 1.0 for c in correlations.values())
    told = []
    align_images(shots, "none", on_correlation=lambda *args: told.append(args))
    assert told == []


def test_describe_correlation_names_only_those_under_the_bound_and_counts_many():
    names = [f"IMG_{k}.png" for k in range(5)]
    low = (None, 0.1, 0.2, 0.25, LOW_CORRELATION)  # the bound itself correlates enough
    line = describe_correlation(names, low, 0)
    assert line.startswith("3 images correlate little with IMG_0.png once registered (down to 0.10;"), line
    assert line.endswith("check that they show the same scene")
    assert describe_correlation(names, (None,) * 5, 0) is None


def test_defusion_fuse_notes_an_aligned_image_that_correlates_little_naming_the_files(tmp_path, tiny_weights, capsys,
                                                                                     fresh_notes):
    """The note, said by the fusion where it aligns, in the command's words: the files, not "image 2"."""
    from defusion.cli.main import main
    from defusion.io.writing import write_image

    under, other = _example("mef_under"), np.ascontiguousarray(_example("mef_over")[::-1, ::-1])
    paths = [write_image(tmp_path / "ev-2.png", under), write_image(tmp_path / "other.png", other)]
    assert main(["fuse", *map(str, paths), "--align", "translation", "--weights", str(tiny_weights), "--scale", "1",
                 "--no-progress", "-o", str(tmp_path / "f.png")]) == 0
    assert "defusion: note: other.png correlates little with ev-2.png once registered" in capsys.readouterr().err
