"""A flat (misfire) shot in a focus stack: told apart, left out of the choice, weighing zero."""

import re

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
    import pytest

    from defusion.errors import DefusionWarning

    with pytest.warns(DefusionWarning, match=r"image 3 is \(nearly\) one value, a misfire\?: left out of the focus"):
        result = stack.fusion(sharp[0], sharp[1], black, sharp[2])
    assert result.left_out == (2,)
    assert float(np.abs(result.weights[2]).max()) == 0.0
    assert np.allclose(sum(result.weights), 1.0, atol=1e-5)
    assert stack.fusion(*sharp).left_out == ()


def test_defusion_fuse_warns_of_a_misfire_shot_in_a_focus_stack(lively_weights, rng, tmp_path, capsys):
    """The audit's command said nothing of the black shot it fused in; it now warns, naming its file."""
    from defusion.cli.main import main
    from defusion.io.images import write_image
    from tests.conftest import smooth_image

    paths = []
    for k, image in enumerate([smooth_image(rng, 48, 64), smooth_image(rng, 48, 64),
                               np.zeros((48, 64, 3), np.uint8), smooth_image(rng, 48, 64)]):
        paths.append(tmp_path / f"IMG_{k}.png")
        write_image(paths[-1], image)
    code = main(["fuse", *map(str, paths), "--task", "mff", "--weights", str(lively_weights), "--device", "cpu",
                 "--runtime", "torch", "-o", str(tmp_path / "out.png")])
    assert code == 0
    err = capsys.readouterr().err
    assert "defusion: warning: IMG_2.png is (nearly) one value, a misfire?: left out of the focus choice" in err


def test_defusion_fuse_says_an_aligned_stack_s_edges_were_filled_from_the_shots_covering_them(
        lively_weights, rng, tmp_path, capsys):
    """The audit: a breathing stack's uncovered edges were smeared streaks, unsaid; a pair's (its first
    image fills them) is not said, its alignment line is enough."""
    import cv2

    from defusion.cli.main import main
    from defusion.io.images import write_image
    from tests.conftest import smooth_image

    scene = smooth_image(rng, 120, 160)
    paths = []
    for k, zoom in enumerate((1.0, 1.03, 1.06)):  # each shot a little more magnified, about the centre
        warp = cv2.getRotationMatrix2D((80, 60), 0, zoom)
        paths.append(write_image(tmp_path / f"breathe_{k}.png", cv2.warpAffine(scene, warp, (160, 120),
                                                                               borderMode=cv2.BORDER_REFLECT)))
    args = ["fuse", "--task", "mff", "--align", "affine", "--weights", str(lively_weights), "--device", "cpu",
            "--runtime", "torch", "--no-progress", "--scale", "1"]
    assert main([*args, *map(str, paths), "-o", str(tmp_path / "stack.png")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"defusion: note: the frame edges breathe_1\.png and breathe_2\.png do not cover \(up to \d+ px\) "
                     r"were filled from the shots that cover them", err), err
    assert main([*args, *map(str, paths[:2]), "-o", str(tmp_path / "pair.png")]) == 0
    assert "were filled" not in capsys.readouterr().err
