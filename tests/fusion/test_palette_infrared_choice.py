"""Which image a palette colours where it must guess: a grey one wherever one was given. A web-UI audit:
a stack of a colour photo and two grey thermal frames coloured the photo, saying "none is grey"."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import smooth_image


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    from defusion.fusion.fuser import Fuser

    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="inferno")


def test_of_one_colour_and_two_grey_images_a_grey_one_is_coloured_and_the_guess_said_truly(fuser, rng):
    visible = smooth_image(rng, 32, 40)
    first, second = (smooth_image(rng, 32, 40, channels=1) for _ in range(2))
    assert fuser.infrared_source(first, second, visible) == (1, "2 of the 3 are grey")
    assert fuser.infrared_source(visible, first, second) == (2, "2 of the 3 are grey")
    assert fuser.infrared_source(visible, first) == (1, None)  # the only grey one: certain
    assert fuser.infrared_source(visible, visible) == (1, "none is grey")
    assert fuser.infrared_source(first, second) == (1, "all are grey")


def test_the_fusion_colours_the_grey_image_it_names(fuser, rng):
    visible = smooth_image(rng, 32, 40)
    first, second = (smooth_image(rng, 32, 40, channels=1) for _ in range(2))
    chosen = fuser.fuse(first, second, visible)
    assert np.array_equal(chosen, fuser.with_options(infrared=1).fuse(first, second, visible))
    assert not np.array_equal(chosen, fuser.with_options(infrared=2).fuse(first, second, visible))
