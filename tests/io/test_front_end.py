"""io.front_end decides, per front end, what raises the pixel bound: bench and train have --max-pixels too."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.io.front_end import FRONT_ENDS, pixel_bound_setter, reading_for
from defusion.io.images import read_image, write_image
from defusion.io.pixel_bound import PYTHON_LIMIT_HINT, RAISE_LIMIT_HINT, ImageTooLargeError, limit_hint


@pytest.mark.parametrize("front_end, hint", [("python", PYTHON_LIMIT_HINT), ("ui", PYTHON_LIMIT_HINT),
                                             ("cli", RAISE_LIMIT_HINT), ("bench", RAISE_LIMIT_HINT),
                                             ("training", RAISE_LIMIT_HINT)])
def test_every_front_end_names_what_raises_the_pixel_bound(front_end, hint):
    """bench's scoring and train's data said no hint while neither command had --max-pixels."""
    with reading_for(front_end):
        assert limit_hint() == hint == f"raise it with {pixel_bound_setter()}"
    assert set(FRONT_ENDS) == {"python", "ui", "cli", "bench", "training"}  # each one above


@pytest.mark.parametrize("front_end", ["bench", "training"])
def test_an_image_over_the_bound_read_for_bench_or_training_names_max_pixels(tmp_path, front_end):
    write_image(tmp_path / "a.png", np.zeros((40, 40), np.uint8))
    with reading_for(front_end), pytest.raises(ImageTooLargeError) as caught:
        read_image(tmp_path / "a.png", max_pixels=1000)
    assert str(caught.value).endswith("40x40 is 1,600 pixels, over the limit of 1,000 pixels "
                                      "(raise it with --max-pixels)")


def test_an_unknown_front_end_is_refused():
    with pytest.raises(ValueError, match="unknown front end 'web'"):
        with reading_for("web"):  # type: ignore[arg-type]
            pass
