"""Writing small synthetic DNG files (a Bayer mosaic with the tags LibRaw needs) for the raw tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

WHITE = 4095
BLACK = 64


def write_dng(path: Path, scene: np.ndarray, taken: str | None = None) -> Path:
    """``scene`` (HxWx3 linear RGB in [0, 1], even H and W) as an RGGB 12-bit DNG, as a camera writes one."""
    import tifffile

    mosaic = np.empty(scene.shape[:2])
    mosaic[0::2, 0::2] = scene[0::2, 0::2, 0]
    mosaic[0::2, 1::2] = scene[0::2, 1::2, 1]
    mosaic[1::2, 0::2] = scene[1::2, 0::2, 1]
    mosaic[1::2, 1::2] = scene[1::2, 1::2, 2]
    data = (np.clip(mosaic, 0, 1) * (WHITE - BLACK) + BLACK).astype(np.uint16)
    identity = [v for x in (1, 0, 0, 0, 1, 0, 0, 0, 1) for v in (x * 10000, 10000)]
    tags = [(271, "s", 0, "defusion", True), (272, "s", 0, "test camera", True),
            (33421, "H", 2, (2, 2), True), (33422, "B", 4, (0, 1, 1, 2), True),  # CFA: RGGB
            (50706, "B", 4, (1, 4, 0, 0), True), (50708, "s", 0, "defusion test camera", True),
            (50714, "H", 1, BLACK, True), (50717, "H", 1, WHITE, True),
            (50721, "2i", 9, identity, True), (50778, "H", 1, 21, True),  # colour matrix, D65
            (50728, "2I", 3, [1, 1, 1, 1, 1, 1], True)]  # as-shot neutral: no white balance
    if taken is not None:
        tags.append((306, "s", 0, taken, True))
    path.parent.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(path, data, photometric=32803, extratags=tags)
    return path


def gradient_scene(h: int = 64, w: int = 96, gain: float = 1.0) -> np.ndarray:
    """Red rising left to right, green top to bottom, blue flat: colours a test can check."""
    yy, xx = np.mgrid[:h, :w]
    return np.clip(gain * np.stack([xx / w, yy / h, np.full((h, w), 0.5)], axis=-1), 0, 1)
