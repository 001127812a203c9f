"""What :meth:`Fuser.fuse` takes as images, and how it says what it does not take."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from defusion import Fuser
from defusion.fusion.errors import FusionInputError
from defusion.model.weights import load_weights
from tests.conftest import smooth_image


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    return Fuser(load_weights(tiny_weights))


@pytest.mark.parametrize("container", [list, tuple])
def test_one_list_of_images_says_to_pass_them_as_separate_arguments(fuser, rng, container):
    images = container(smooth_image(rng, 16, 16) for _ in range(3))
    with pytest.raises(FusionInputError, match=r"separate arguments: call fuse\(\*images\).*got one "
                                               f"{container.__name__} of 3"):
        fuser.fuse(images)
    assert fuser.fuse(*images).shape == (16, 16, 3)


def test_one_image_still_says_two_are_needed(fuser, rng):
    with pytest.raises(FusionInputError, match="fusion needs at least two images"):
        fuser.fuse(smooth_image(rng, 16, 16))


def test_grey_plus_alpha_fuses_as_its_grey_plane(fuser, rng):
    """A Pillow image in mode LA as an array is HxWx2: its alpha is dropped, as an RGBA image's is."""
    grey = smooth_image(rng, 24, 32, channels=1)
    alpha = np.full_like(grey, 128)
    la = np.asarray(Image.merge("LA", [Image.fromarray(grey), Image.fromarray(alpha)]))
    other = smooth_image(rng, 24, 32, channels=1)
    assert la.shape == (24, 32, 2)
    fused = fuser.fuse(la, other)
    assert fused.shape == (24, 32) and np.array_equal(fused, fuser.fuse(grey, other))


def test_a_shape_with_other_channels_names_the_ones_taken(fuser, rng):
    with pytest.raises(FusionInputError, match=r"image 1 must be HxW or HxWxC with C in 1, 2, 3, 4 .*got shape "
                                               r"\(16, 16, 5\)"):
        fuser.fuse(np.zeros((16, 16, 5), np.uint8), smooth_image(rng, 16, 16))


def test_a_channels_first_image_is_told_how_to_pass_it(fuser, rng):
    """A tensor's usual layout (CxHxW) is refused, saying how to put the channels last (never guessed)."""
    with pytest.raises(FusionInputError, match=r"got shape \(3, 16, 24\), which looks channels-first \(CxHxW\): "
                                               r"pass np.moveaxis\(x, 0, -1\)"):
        fuser.fuse(np.zeros((3, 16, 24), np.uint8), smooth_image(rng, 16, 24))
