"""A false-colour (colour-mapped) thermal image given as a source: told, and kept from tinting the photo."""
import warnings

import cv2
import numpy as np
import pytest

from defusion.errors import DefusionWarning
from defusion.fusion import color


def _photo(rng) -> np.ndarray:
    """A colour photo stand-in: patches of many colours at many brightnesses, grey ones among them."""
    cells = rng.random((6, 8, 3), dtype=np.float32)
    cells[0] = cells[0].mean(axis=1, keepdims=True)  # a row of neutral greys
    return cv2.resize(cells, (128, 96), interpolation=cv2.INTER_NEAREST)


def _palette(rng, name: str = "INFERNO", quality: int | None = None) -> np.ndarray:
    grey = cv2.GaussianBlur((rng.random((96, 128)) * 255).astype(np.uint8), (0, 0), 4)
    bgr = cv2.applyColorMap(cv2.normalize(grey, None, 0, 255, cv2.NORM_MINMAX), getattr(cv2, f"COLORMAP_{name}"))
    if quality is not None:  # a camera's JPEG
        bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    return bgr[..., ::-1].astype(np.float32) / 255


@pytest.mark.parametrize("name", ["INFERNO", "JET", "HOT", "TURBO"])
def test_colour_mapped_thermal_images_are_recognised_and_photos_are_not(rng, name):
    assert color.palette_like(_palette(rng, name, quality=85)) == name.lower()
    assert color.palette_like(_photo(rng)) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # two photos: nothing said
        assert color.plan_mode([_photo(rng), _photo(rng)]) == "luma"
    assert color.palette_like(np.full((8, 8, 3), 0.5, np.float32)) is None  # grey: no colours to judge


def test_a_palette_infrared_does_not_tint_the_photo_and_is_warned_of(rng):
    photo, inferno = _photo(rng), _palette(rng, quality=90)
    with pytest.warns(DefusionWarning, match=r"image 2: its colours look like a thermal camera's palette \(inferno\)"):
        assert color.plan_mode([photo, inferno]) == "luma"
    blended = color.blend_chroma([photo, inferno])
    assert np.allclose(blended[..., 1:], color.rgb_to_ycbcr(photo)[..., 1:], atol=1e-5)  # the photo's chroma alone
    fused = color.with_chroma(color.luminance(photo), blended)
    assert np.abs(fused - photo).max() < 1e-3  # neutral patches stay neutral: no purple


def test_a_palette_image_that_is_the_only_colour_keeps_its_colours(rng):
    grey, jet = np.full((96, 128), 0.5, np.float32), _palette(rng, "JET")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no photo to tint (a PET in jet beside an MRI): as before, nothing said
        assert color.plan_mode([jet, grey]) == "luma"
    assert np.allclose(color.blend_chroma([jet, grey]), color.blend_chroma([jet]))
    assert color.palette_like(jet) == "jet"


def test_under_a_palette_the_colour_infrared_is_warned_of_once_not_twice(rng, tiny_weights):
    """With --palette the fusion's own warning (a palette colours a colour image) says it: the palette-source
    warning beside it said the same image twice."""
    from defusion.fusion.color import PALETTE_OF_COLOUR
    from defusion.fusion.fuser import Fuser

    photo, inferno = _photo(rng), _palette(rng, quality=90)
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="inferno", infrared=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fuser.fuse(photo, inferno)
    said = [str(w.message) for w in caught if issubclass(w.category, DefusionWarning)]
    assert any(PALETTE_OF_COLOUR in line for line in said)
    assert not any("thermal camera's palette" in line for line in said), said
