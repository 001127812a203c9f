import pytest
import torch

from defusion.model.filters import gaussian_blur, gaussian_kernel_1d, high_pass


def test_kernel_is_normalised_symmetric_and_three_sigma_wide():
    taps = gaussian_kernel_1d(4.0)
    assert len(taps) == 2 * 12 + 1
    assert sum(taps) == pytest.approx(1.0)
    assert taps == taps[::-1] and max(taps) == taps[12]


def test_rejects_non_positive_sigma():
    with pytest.raises(ValueError, match="sigma"):
        gaussian_kernel_1d(0.0)


def test_blur_keeps_flat_images_and_edges_and_smooths_noise():
    flat = torch.full((1, 3, 20, 30), 0.7)
    assert torch.allclose(gaussian_blur(flat, 16.0), flat)  # wider than the image: edges replicated
    assert high_pass(flat, 16.0).abs().max() < 1e-6
    noise = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    blurred = gaussian_blur(noise, 2.0)
    assert blurred.shape == noise.shape
    assert blurred.std() < noise.std() / 2
    assert torch.allclose(high_pass(noise, 2.0) + blurred, noise, atol=1e-6)


def test_blur_is_per_channel():
    x = torch.zeros(1, 2, 16, 16)
    x[0, 0, 8, 8] = 1.0
    y = gaussian_blur(x, 1.5)
    assert y[0, 1].abs().max() == 0
    assert y[0, 0].sum() == pytest.approx(1.0, abs=1e-5)


def test_valid_blur_is_the_interior_of_the_replicated_one():
    x = torch.rand(2, 3, 20, 24)
    radius = len(gaussian_kernel_1d(1.5)) // 2
    valid = gaussian_blur(x, 1.5, valid=True)
    assert valid.shape == (2, 3, 20 - 2 * radius, 24 - 2 * radius)
    assert torch.allclose(valid, gaussian_blur(x, 1.5)[..., radius:-radius, radius:-radius], atol=1e-6)
