"""A flat (misfire) shot in a focus stack: told apart, left out of the choice, weighing zero."""

import numpy as np

from defusion.fusion.stacking import flat_warning, is_flat, unrank, without_flat


def _photo(seed=0):
    return np.random.default_rng(seed).random((32, 48, 3)).astype(np.float32)


def test_a_black_or_white_misfire_is_flat_a_photo_is_not():
    black = np.zeros((32, 48, 3), np.float32)
    black[::7, ::5] = 1 / 255  # JPEG noise
    assert is_flat(black) and is_flat(np.ones((32, 48), np.float32))
    assert not is_flat(_photo())
    assert not is_flat(np.tile(np.linspace(0.4, 0.45, 48, dtype=np.float32), (32, 1)))  # a smooth grey card


def test_the_misfire_is_left_out_and_weighs_zero():
    shots = [_photo(0), _photo(1), np.zeros((32, 48, 3), np.float32), _photo(3)]
    order, flat = without_flat(shots, [0, 1, 2, 3])
    assert (order, flat) == ([0, 1, 3], [2])
    weights = unrank([np.full((2, 2), 0.5), np.full((2, 2), 0.25), np.full((2, 2), 0.25)], order, len(shots))
    assert [float(w.max()) for w in weights] == [0.5, 0.25, 0.0, 0.25]
    assert flat_warning(["a.jpg", "b.jpg", "black.jpg", "d.jpg"], flat) == (
        "black.jpg is (nearly) one value, a misfire?: left out of the focus choice")


def test_a_pair_keeps_its_flat_shot():
    assert without_flat([_photo(), np.zeros((32, 48, 3))], [0, 1]) == ([0, 1], [])


def test_a_black_misfire_in_a_focus_stack_weighs_nothing_in_the_fusion(lively_weights, rng):
    """The audit: a black shot in a stack won the focus choice in smooth areas (black patches)."""
    from defusion import Fuser
    from tests.conftest import smooth_image

    sharp = [smooth_image(rng, 48, 64) for _ in range(3)]
    black = np.zeros_like(sharp[0])
    stack = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", task="mff", pixels="sources")
    result = stack.fusion(sharp[0], sharp[1], black, sharp[2])
    assert result.left_out == (2,)
    assert float(np.abs(result.weights[2]).max()) == 0.0
    assert np.allclose(sum(result.weights), 1.0, atol=1e-5)
    assert stack.fusion(*sharp).left_out == ()
