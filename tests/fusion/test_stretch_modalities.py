"""The medical audit: 12-bit images of two modalities shared one stretch, and a lesion's range was misstated."""

from __future__ import annotations

import numpy as np

from defusion.fusion.fuser import FuseOptions
from defusion.fusion.stretch import bands_nested, describe_stretch, measure_stretch, stretch_sources
from tests.conftest import smooth_image


def _mri_ct(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """An MRI in 0..900 and a CT in 0..4095 of one head (the audit's mri_900.png and ct12.png)."""
    head = smooth_image(rng, 48, 64, 1).astype(np.float64) / 255
    return (50 + 850 * head).astype(np.uint16), (400 + 3695 * head ** 2).astype(np.uint16)


def test_two_modalities_whose_bands_overlap_in_part_are_stretched_each_on_its_own(rng):
    """Before: one shared mapping, the MRI squeezed into a fifth of the range."""
    mri, ct = _mri_ct(rng)
    fixed = measure_stretch([mri, ct], FuseOptions().stretch_shared)
    assert fixed is not None and len(fixed.groups()) == 2
    floats, stretched = stretch_sources([mri, ct], [mri / 65535.0, ct / 65535.0], shared=None)
    assert stretched == [0, 1] and all(f.min() == 0.0 and f.max() == 1.0 for f in floats)
    said = describe_stretch(["mri.png", "ct.png"], [mri, ct])
    assert len(said) == 2 and all("on its own (the bands overlap only in part" in line for line in said), said


def test_one_sensors_frames_still_share_one_mapping(rng):
    mri, _ = _mri_ct(rng)
    blurred = (mri.astype(np.int64) // 2 + 250).astype(np.uint16)  # a focus stack's softer slice: inside the band
    assert len(measure_stretch([mri, blurred]).groups()) == 1
    bracket = [mri, (mri.astype(np.int64) * 4).astype(np.uint16)]  # a raw bracket: the mef task shares it
    assert len(measure_stretch(bracket, FuseOptions.for_task("mef").stretch_shared).groups()) == 1
    assert bands_nested([(9000, 10500), (9000, 9500)]) and not bands_nested([(49, 865), (416, 4095)])


def test_the_note_says_a_frames_whole_range_and_what_the_stretch_clips(rng):
    """Before: 'holds 16-bit values 96-2500' of an MRI whose lesion reaches 4000, and no word of the clipping."""
    brain = (96 + 1661 * smooth_image(rng, 64, 64, 1).astype(np.float64) / 255).astype(np.uint16)
    brain[30, 30:33] = 4000  # a small bright lesion: 0.07% of the pixels, past the 99.9th percentile
    [line] = describe_stretch(["mri.png"], [brain])
    assert line.startswith(f"mri.png holds 16-bit values {brain.min()}-4000 "), line
    assert "(its 0.1-99.9th percentiles): " in line and "of its values, " in line and "-4000, clip to white" in line
    plain = brain.copy()
    plain[30, 30:33] = 1000  # nothing far past the band: the note as it was
    [line] = describe_stretch(["mri.png"], [plain])
    assert "clip" not in line and line.endswith("stretched to the full range before fusing"), line


def test_a_black_misfire_frame_in_a_raw_focus_stack_still_shares_the_stacks_mapping():
    """A review: the misfire's noise band (969-1030) stuck out of the stack's (1000-9000) by a few counts,
    so each frame was stretched on its own, the noise to full contrast, winning the focus choice."""
    rng = np.random.default_rng(0)
    slices = [np.clip(1000 + 8000 * rng.random((40, 50)), 0, 65535).astype(np.uint16) for _ in range(2)]
    black = np.clip(1000 + rng.normal(0, 8, (40, 50)), 0, 65535).astype(np.uint16)
    fixed = measure_stretch([*slices, black])
    assert fixed is not None and len(fixed.groups()) == 1


def test_one_stuck_pixel_is_no_clip_note():
    frame = np.tile(np.linspace(7000, 9000, 256), (256, 1)).astype(np.uint16)
    frame[10, 10] = 16383  # a stuck pixel
    (line,) = describe_stretch(["ir.png"], [frame])
    assert "clip" not in line and "16383" not in line, line
