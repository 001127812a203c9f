"""read_image, called from Python, says when it stretches a float image by its range (a radiometric frame
in degrees), in ``defusion fuse``'s words, as a DefusionNote: it did so silently, while the CLI and the web UI
say it. Their own reads are not noted by the reader (each says it once, in its own words:
tests/cli/test_fuse_float_note_cli.py)."""

from __future__ import annotations

import warnings
from unittest import mock

import numpy as np
import pytest
import tifffile

from defusion.errors import DefusionNote
from defusion.io.images import read_image

#: A thermal frame's span in degrees, and the note a Python caller gets for it (after the file's path).
LOW, HIGH = 31.25, 1616.0
SAID = ("holds float values 31.25 to 1616 (not 0 to 1: a radiometric thermal frame in degrees, say): stretched from "
        "its minimum to its maximum onto the full range when read (read_image(..., floats=\"values\") gives the "
        "float32 values as stored)")


@pytest.fixture(autouse=True)
def _fresh(fresh_notes):
    """Each line is said once per process: as if none had been yet."""


def _float_tiff(path, low: float = LOW, high: float = HIGH):
    tifffile.imwrite(path, np.linspace(low, high, 24, dtype=np.float32).reshape(4, 6))
    return path


def _float_notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "float value" in line]


def _noted(caught: list[warnings.WarningMessage]) -> str:
    """The DefusionNotes a Python caller was given, one a line."""
    return "".join(f"{w.message}\n" for w in caught if issubclass(w.category, DefusionNote))


def test_a_float_image_read_from_python_is_noted_once_as_stretched(tmp_path):
    path = _float_tiff(tmp_path / "f4000.tif")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per calling line
        for _ in range(2):  # read again: said once
            image = read_image(path)
    assert image.dtype == np.uint16 and (image.min(), image.max()) == (0, 65535)
    assert _float_notes(_noted(caught)) == [f"{path} {SAID}"]


def test_a_flat_float_image_is_noted_as_read_black(tmp_path):
    with pytest.warns(DefusionNote) as caught:
        read_image(_float_tiff(tmp_path / "flat.tif", 30.0, 30.0))
    assert _float_notes(_noted(caught)) == [
        f"{tmp_path / 'flat.tif'} holds one float value, 30, everywhere (not 0 to 1): read as black "
        "(read_image(..., floats=\"values\") gives the float32 values as stored)"]


def test_floats_kept_as_they_are_are_not_noted(tmp_path, recwarn):
    read_image(_float_tiff(tmp_path / "unit.tif", 0.1, 0.9))  # in [0, 1]: read as they are
    values = read_image(_float_tiff(tmp_path / "degrees.tif"), floats="values")
    assert values.dtype == np.float32 and float(values.max()) == HIGH
    read_image(_float_tiff(tmp_path / "scored.tif", 0.0, 255.0), floats="levels")
    assert _float_notes(_noted(recwarn.list)) == []


def test_an_upload_decoded_for_the_web_ui_is_not_noted_by_the_reader(tmp_path):
    """The web UI says the stretch itself (ui.fusion_notes.float_note) beside what decoding said
    (ui.page.messages.said_on_page): once."""
    from defusion.serving.decode import decode_image
    from defusion.ui.page.messages import said_on_page

    shown = []
    with mock.patch("defusion.ui.page.messages.st") as st:
        st.info.side_effect = st.warning.side_effect = shown.append
        with said_on_page():
            image = decode_image(_float_tiff(tmp_path / "ir.tif").read_bytes(), "ir.tif")
    assert image.dtype == np.uint16 and _float_notes("\n".join(shown)) == []


def test_a_python_caller_of_the_upload_decoder_is_told(tmp_path):
    """Outside a front end (a Python caller of decode_image), the stretch is noted, naming the upload."""
    from defusion.io.notes import collecting
    from defusion.serving.decode import decode_image

    with collecting() as said:
        decode_image(_float_tiff(tmp_path / "ir.tif").read_bytes(), "ir.tif")
    assert len(_float_notes("\n".join(said))) == 1 and "ir.tif holds float values" in said[0]


def test_under_the_command_line_the_reader_leaves_the_note_to_it(tmp_path, capsys, recwarn):
    from defusion.io.front_end import reading_for

    with reading_for("cli"):
        read_image(_float_tiff(tmp_path / "ir.tif"))
    assert _float_notes(capsys.readouterr().err) == [] and _float_notes(_noted(recwarn.list)) == []
