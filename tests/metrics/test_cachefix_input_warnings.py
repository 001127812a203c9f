"""What the metrics say of an input they may misread, and to whom: ``defusion metrics`` says one
``defusion: warning:`` line naming the file, in a command's words (save it as 8-bit, clip it to 0..1); a
Python caller gets a ``DefusionWarning`` with Python's (``np.clip``). An integer image past 255 is told
to pass floats in [0, 1], not uint16, which the metrics score as the 8-bit image it rounds to.

From a review: ``defusion metrics f18.tif a.png b.png`` printed ``.../bin/defusion:8: DefusionWarning:
fused: ... pass it as uint8 ...`` and ``sys.exit(main())``; an int32 12-bit image was told
``x.astype(np.uint16)``, which scores as levels 0..16 (EN 4.05 for 7.78).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import tifffile

from defusion.cli.main import main
from defusion.errors import DefusionWarning
from defusion.io.images import write_image
from defusion.metrics import MetricInputError, compute_metrics

RNG = np.random.default_rng(7)
A = RNG.integers(0, 256, (48, 48), dtype=np.uint8)
B = RNG.integers(0, 256, (48, 48), dtype=np.uint8)
MEAN = ((A.astype(np.float32) + B) / 510).astype(np.float32)


@pytest.mark.parametrize("factor, fix", [(1.3, "save it clipped to 0..1 where that is meant, or as 8-bit where its "
                                                "values are levels on 0..255"),
                                         (1.8, "where it is a [0, 1] image, save it clipped to 0..1; where it is "
                                               "levels on 0..255, save it as 8-bit to say so")], ids=["clipped", "dim"])
def test_defusion_metrics_says_one_warning_line_naming_the_file(tmp_path, capsys, factor, fix):
    fused, a, b = tmp_path / "f.tif", tmp_path / "a.png", tmp_path / "b.png"
    tifffile.imwrite(fused, MEAN * factor)
    write_image(a, A)
    write_image(b, B)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["metrics", str(fused), str(a), str(b), "--metrics", "EN"]) == 0
    assert not [w for w in caught if issubclass(w.category, DefusionWarning)]
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"defusion: warning: {fused}: float values span "), err
    assert lines[0].endswith(fix)
    assert "sys.exit" not in err and "DefusionWarning" not in err
    with warnings.catch_warnings(record=True) as caught:  # the same pixels from Python: a warning in its words
        warnings.simplefilter("always")
        compute_metrics(MEAN * factor, A, B, names=["EN"])
    said = [w for w in caught if issubclass(w.category, DefusionWarning)]
    assert len(said) == 1 and said[0].filename == __file__  # at the caller's own line
    assert str(said[0].message).startswith("fused: float values span ") and "np.clip(x, 0, 1)" in str(said[0].message)


def test_an_integer_image_past_255_is_told_floats_in_0_1_which_keep_its_levels():
    twelve_bit = (A.astype(np.int32) * 4095) // 255
    with pytest.raises(MetricInputError, match=re.escape(
            "got fused of dtype int32 with values outside 0..255: pass floats in [0, 1], x / 4095 for 12-bit data "
            "(/ (2**bits - 1), or / its maximum): the metrics score uint16 as the 8-bit image it rounds to, which "
            "keeps 17 levels of its 0..4095")):
        compute_metrics(twelve_bit, A, B, names=["EN"])
    as_advised = compute_metrics(twelve_bit / 4095, A, B, names=["EN"])["EN"]
    as_uint16 = compute_metrics(twelve_bit.astype(np.uint16), A, B, names=["EN"])["EN"]
    assert as_advised > 7 > 4.5 > as_uint16  # the earlier advice lost nearly all of its levels
