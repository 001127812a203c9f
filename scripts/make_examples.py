"""Synthesize the example pairs shipped in defusion/examples from scikit-image's data.

Multi-focus: two copies of one photo, each defocused (Gaussian blur) on a different half
with a soft boundary. Multi-exposure: one photo rendered under- and over-exposed (linear
light scaled by 1/4 and 4, clipped, re-encoded with sRGB gamma). Run from the repo root:
``python scripts/make_examples.py`` (needs scikit-image).
"""

from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter
from skimage import data

from defusion.io.writing import write_image

OUT = Path(__file__).resolve().parents[1] / "src" / "defusion" / "examples"
BLUR_SIGMA = 4.0
EXPOSURE_STOPS = 2.0


def multi_focus(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = image.astype(np.float32)
    blurred = np.stack([gaussian_filter(x[..., c], BLUR_SIGMA) for c in range(3)], axis=2)
    w = x.shape[1]
    ramp = np.clip((np.arange(w) - 0.45 * w) / (0.1 * w), 0, 1)[None, :, None]  # 0 left, 1 right
    near = x * (1 - ramp) + blurred * ramp  # left in focus
    far = blurred * (1 - ramp) + x * ramp  # right in focus
    return near.round().astype(np.uint8), far.round().astype(np.uint8)


def multi_exposure(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    linear = (image.astype(np.float32) / 255.0) ** 2.2
    gain = 2.0 ** EXPOSURE_STOPS

    def render(scale: float) -> np.ndarray:
        return (np.clip(linear * scale, 0, 1) ** (1 / 2.2) * 255).round().astype(np.uint8)

    return render(1 / gain), render(gain)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    a, b = multi_focus(data.coffee())
    write_image(OUT / "mff_near.png", a)
    write_image(OUT / "mff_far.png", b)
    under, over = multi_exposure(data.chelsea())
    write_image(OUT / "mef_under.png", under)
    write_image(OUT / "mef_over.png", over)
    print(f"wrote examples to {OUT}")


if __name__ == "__main__":
    main()
