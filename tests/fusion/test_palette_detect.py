"""palette_like: a photo in one colour of light is no palette; a thermal camera's own maps are; one answer per grid."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from defusion.fusion import color

EXAMPLES = Path(color.__file__).parents[1] / "examples"


def _scene(rng, shape=(96, 128)) -> np.ndarray:
    """A smooth infrared-like scene (float in [0, 1]) spanning its whole range."""
    grey = cv2.GaussianBlur(rng.random(shape).astype(np.float32), (0, 0), 4)
    return cv2.normalize(grey, None, 0.0, 1.0, cv2.NORM_MINMAX)


def _draw(scene: np.ndarray, colours: np.ndarray, low: float = 0.0, high: float = 1.0,
          quality: int | None = None) -> np.ndarray:
    """``scene`` drawn in the 256 ``colours`` of a map, stretched over ``low`` to ``high`` of it."""
    rgb = colours[np.round((low + scene * (high - low)) * 255).astype(int)]
    if quality is not None:  # a camera's JPEG
        bgr = (rgb[..., ::-1] * 255 + 0.5).astype(np.uint8)
        bgr = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
        rgb = bgr[..., ::-1].astype(np.float32) / 255
    return rgb


def _anchored(anchors) -> np.ndarray:
    """A map's 256 colours through its anchors (place, (R, G, B) 0-255), piecewise-linear."""
    places, colours = zip(*anchors)
    entries = np.linspace(0.0, 1.0, 256)
    return np.stack([np.interp(entries, places, c) for c in zip(*colours)], axis=1).astype(np.float32) / 255


# the makers' anchor colours, written out here (not read from color.py)
IRONBOW = ((0.0, (0, 0, 0)), (0.15, (30, 0, 120)), (0.32, (130, 0, 155)), (0.5, (210, 30, 90)),
           (0.65, (240, 100, 10)), (0.82, (255, 190, 30)), (1.0, (255, 255, 255)))
RAINBOW_HC = ((0.0, (0, 0, 0)), (0.1, (90, 0, 130)), (0.22, (0, 0, 255)), (0.36, (0, 220, 255)),
              (0.5, (0, 210, 40)), (0.64, (255, 255, 0)), (0.76, (255, 130, 0)), (0.88, (230, 0, 0)),
              (1.0, (255, 255, 255)))


@pytest.mark.parametrize("name, anchors", [("ironbow", IRONBOW), ("rainbow-hc", RAINBOW_HC)])
@pytest.mark.parametrize("quality", [None, 80])
def test_a_thermal_cameras_own_map_is_recognised(rng, name, anchors, quality):
    assert color.palette_like(_draw(_scene(rng), _anchored(anchors), quality=quality)) == name


@pytest.mark.parametrize("low", [0.3, 0.5])
def test_a_palette_over_a_narrow_stretch_of_its_map_is_recognised(rng, low):
    """A scene spanning 30% of ironbow (purple to red, or red to yellow)."""
    assert color.palette_like(_draw(_scene(rng), _anchored(IRONBOW), low, low + 0.3)) == "ironbow"


@pytest.mark.parametrize("name, tint, light", [
    ("mff_far", (1.0, 0.08, 0.04), True),    # a red darkroom light on the scene (once: hot)
    ("mff_near", (1.0, 0.35, 0.0), True),    # a deep orange sunset's light (once: turbo)
    ("mef_over", (1.0, 0.0, 0.0), False),    # a red monochrome print: Y times red (once: hot)
])
def test_a_photo_in_one_colour_of_light_is_no_palette(name, tint, light):
    """A real photo lit by one colour, or toned in it, keeps one hue: its colour is the photo's, kept."""
    bgr = cv2.imread(str(EXAMPLES / f"{name}.png"), cv2.IMREAD_COLOR)
    photo = bgr[..., ::-1].astype(np.float32) / 255
    tinted = photo * np.array(tint, np.float32) if light else color.luminance(photo)[..., None] * np.array(tint, np.float32)
    assert color.palette_like(tinted / tinted.max()) is None


def test_one_grid_of_pixels_gets_one_answer_and_is_fitted_once(rng, monkeypatch):
    """plan_mode and blend_chroma ask about the same source: the maps are fitted to it once; changed
    pixels are asked about afresh."""
    jet = _draw(_scene(rng), _map("jet"))
    color._palette_of.cache_clear()
    fits = []
    maps = color._map_colours()
    monkeypatch.setattr(color, "_map_colours", lambda: fits.append(1) or maps)
    assert color.palette_like(jet) == "jet"
    assert color.palette_like(jet.copy()) == "jet"
    assert len(fits) == 1
    grey = np.repeat(_scene(rng)[..., None], 3, axis=2)
    jet[...] = grey  # the same array, now grey
    assert color.palette_like(jet) is None


def _map(name: str) -> np.ndarray:
    steps = np.arange(256, dtype=np.uint8)[:, None]
    return cv2.applyColorMap(steps, getattr(cv2, f"COLORMAP_{name.upper()}"))[:, 0, ::-1].astype(np.float32) / 255


@pytest.mark.parametrize("name", ["jet", "rainbow-hc"])
def test_the_upper_half_of_a_rainbow_map_is_named_by_its_own_map_not_hot(rng, name):
    """Above its middle a rainbow map runs yellow to red, as hot's upper half does, but its colours lie
    nearer its own: the map named is the closest of those that pass, not the first (review of
    2026-12-07: jet's and rainbow-HC's upper halves were named "hot")."""
    colours = color._map_colours()[name]
    assert color.palette_like(_draw(_scene(rng), colours, 0.5, 1.0)) == name
