"""A raw 16-bit thermal frame stretched by ``stretch="auto"`` is said to a Python caller, as ``defusion
fuse`` notes it (an audit found it silent under ``python -W always``: its values no longer meant counts),
once per fusion, and the command still says it once, in its own words."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.errors import DefusionNote, DefusionWarning
from defusion.io.writing import write_image


def _caught(call) -> tuple[object, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [w for w in caught if issubclass(w.category, DefusionWarning)]


@pytest.fixture
def pair(rng) -> tuple[np.ndarray, np.ndarray]:
    """A visible 8-bit frame and a thermal camera's 16-bit counts, 7000 to about 9000."""
    visible = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    return visible, (7000 + 8 * visible.mean(axis=2)).astype(np.uint16)


def test_python_is_told_once_which_image_was_stretched_from_which_counts(fuser, pair):
    result, said = _caught(lambda: fuser.fusion(*pair))
    assert result.stretched == (1,)
    assert len(said) == 1 and said[0].category is DefusionNote, [str(w.message) for w in said]
    message = str(said[0].message)
    assert message.startswith("image 2 holds 16-bit values 7") and "stretched to the full range" in message
    assert "stretch='none' keeps the values as they are" in message and "--stretch" not in message
    _, said = _caught(lambda: fuser.with_options(stretch="none").fusion(*pair))
    assert not [w for w in said if "stretched" in str(w.message)]  # asked not to: nothing stretched, nothing said


def test_a_grey_uint16_image_of_8_bit_values_is_warned_of(fuser, pair):
    visible, _ = pair
    eight = visible[..., 1].astype(np.uint16)  # 8-bit values in 16 bits: stretched as a raw frame
    result, said = _caught(lambda: fuser.fuse(visible, eight))
    assert result.dtype == np.uint16
    stretched = [w for w in said if "stretched to the full range" in str(w.message)]
    assert len(stretched) == 1 and stretched[0].category is DefusionWarning
    assert "image 2 holds only values up to 255" in str(stretched[0].message)
    assert ".astype(np.uint8)" in str(stretched[0].message)


def test_the_command_says_it_once_as_its_note_and_no_python_warning(pair, tmp_path, tiny_weights, capsys,
                                                                    fresh_notes, fuser):
    """The same stretch: a warning in Python, one note line (--stretch none) under ``defusion fuse``."""
    _, said = _caught(lambda: fuser.fuse(*pair))
    assert any("image 2 holds 16-bit values" in str(w.message) for w in said)  # the Python caller's
    vis, ir = write_image(tmp_path / "vis8.png", pair[0]), write_image(tmp_path / "ir16.png", pair[1])
    status, said = _caught(lambda: main(["fuse", str(vis), str(ir), "-o", str(tmp_path / "f.png"), "--weights",
                                         str(tiny_weights), "--scale", "1", "--no-progress"]))
    err = capsys.readouterr().err
    assert status == 0, err
    assert not said  # the command's user reads lines, not Python warnings
    assert err.count("holds 16-bit values") == 1 and err.count("stretched") == 1, err
    assert "note: ir16.png holds 16-bit values" in err and "(--stretch none keeps the values as they are)" in err
    assert "stretch='none'" not in err
