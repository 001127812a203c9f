import pytest
import torch

from defusion.fusion.resample import MAX_SCALE, check_scale, downsample, upsample


def test_up_then_down_keeps_the_size_and_nearly_the_image():
    x = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 40, 56), 5, stride=1, padding=2)  # smooth
    for s in range(1, MAX_SCALE + 1):
        y = downsample(upsample(x, s), s)
        assert y.shape == x.shape
        assert (y - x).abs().max() < 0.03
    assert upsample(x, 1) is x and downsample(x, 1) is x


def test_upsampling_stays_in_range():
    x = torch.zeros(1, 1, 8, 8)
    x[..., 4:, :] = 1.0  # a hard edge makes bicubic overshoot
    y = upsample(x, 3)
    assert y.shape == (1, 1, 24, 24) and y.min() >= 0.0 and y.max() <= 1.0


@pytest.mark.parametrize("bad", [0, MAX_SCALE + 1, 2.0, "2", None])
def test_bad_scales_are_refused(bad):
    with pytest.raises(ValueError, match="inference scale"):
        check_scale(bad)
