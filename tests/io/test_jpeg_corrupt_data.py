"""A JPEG whose scan data is corrupt is read with a warning naming it (Pillow decodes it without a word)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.errors import DefusionWarning
from defusion.io.errors import ImageReadError
from defusion.io.images import read_image
from defusion.io.jpeg import corrupt_jpeg_data
from defusion.io.notes import collecting
from tests.conftest import smooth_image

#: Start of Scan: the entropy-coded data follows its header; End of Image closes it (ITU T.81, Table B.1).
SOS, EOI = b"\xff\xda", b"\xff\xd9"
#: Bytes flipped in the middle of the scan data (XOR with this mask, one byte in every STRIDE).
FLIP_MASK, FLIPPED, STRIDE = 0x55, 10, 4


def _jpeg(tmp_path: Path, name: str, rng: np.random.Generator, **save: object) -> Path:
    """A 256x256 photo-like JPEG."""
    path = tmp_path / name
    noisy = smooth_image(rng, 256, 256).astype(np.int16) + rng.integers(-12, 12, (256, 256, 3))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, quality=90, **save)
    return path


def _flipped(path: Path, name: str) -> Path:
    """``path`` with some bytes flipped in the middle of its scan data."""
    data = bytearray(path.read_bytes())
    start, end = data.index(SOS), data.rindex(EOI)
    middle = (start + end) // 2
    for i in range(middle, middle + FLIPPED * STRIDE, STRIDE):
        data[i] ^= FLIP_MASK
    out = path.with_name(name)
    out.write_bytes(bytes(data))
    return out


def _warned(path: Path) -> tuple[np.ndarray, list[str]]:
    """The image read and the DefusionWarnings said."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(path)
    return image, [str(w.message) for w in caught if w.category is DefusionWarning]


@pytest.mark.parametrize("save", [{}, {"progressive": True}], ids=["baseline", "progressive"])
def test_corrupt_scan_data_is_said_naming_the_file(tmp_path, rng, save):
    photo = _flipped(_jpeg(tmp_path, "intact.jpg", rng, **save), "photo.jpg")
    image, said = _warned(photo)
    assert image.shape == (256, 256, 3)  # read as before: the garbled picture, now with a word
    assert len(said) == 1
    assert said[0].startswith(f"{photo}: its JPEG data is corrupt (libjpeg: Corrupt JPEG data")
    assert said[0].endswith("): the picture may be garbled; use an intact copy of the file")
    assert "\n" not in said[0]


def test_only_corrupt_files_are_said(tmp_path, rng):
    intact = [_jpeg(tmp_path, "baseline.jpg", rng), _jpeg(tmp_path, "progressive.jpg", rng, progressive=True),
              _jpeg(tmp_path, "restarts.jpg", rng, restart_marker_blocks=4)]
    grey = tmp_path / "grey.jpg"
    Image.fromarray(smooth_image(rng, 64, 64, 1)[..., 0]).save(grey)
    for path in [*intact, grey]:
        assert _warned(path)[1] == [], path
    assert len(_warned(_flipped(intact[2], "restarts-flipped.jpg"))[1]) == 1


def test_truncated_file_stays_an_error_and_nothing_reaches_stderr(tmp_path, rng, capfd):
    photo = _jpeg(tmp_path, "photo.jpg", rng)
    data = photo.read_bytes()
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(data[: (data.rindex(SOS) + len(data)) // 2])
    with pytest.raises(ImageReadError, match=r"truncated\.jpg: cannot decode \(image file is truncated"):
        read_image(truncated)
    assert _warned(_flipped(photo, "flipped.jpg"))[1]  # the warning, not libjpeg's own line
    assert "Corrupt JPEG data" not in capfd.readouterr().err


def test_the_command_says_it_as_a_warning_line(tmp_path, rng):
    photo = _flipped(_jpeg(tmp_path, "intact.jpg", rng), "photo.jpg")
    with collecting() as said:
        read_image(photo)
    assert len(said) == 1 and said[0].startswith(f"warning: {photo}: its JPEG data is corrupt (libjpeg: ")


def test_other_formats_are_not_checked_and_mpo_is(tmp_path, rng, monkeypatch):
    import defusion.io.images as images

    photo = _flipped(_jpeg(tmp_path, "intact.jpg", rng), "photo.jpg")
    png = tmp_path / "photo.png"
    Image.open(photo).save(png)
    asked: list[str] = []
    monkeypatch.setattr(images, "corrupt_jpeg_data", lambda path: asked.append(Path(path).name))
    read_image(png)
    assert asked == []
    shots = [Image.fromarray(smooth_image(rng, 64, 64)) for _ in range(2)]
    mpo = tmp_path / "phone.mpo"
    shots[0].save(mpo, "MPO", save_all=True, append_images=shots[1:])
    read_image(mpo)
    assert asked == ["phone.mpo"]


def test_an_intact_mpo_and_a_cmyk_jpeg_are_not_taken_for_corrupt(tmp_path, rng):
    shots = [Image.fromarray(smooth_image(rng, 64, 64)) for _ in range(2)]
    mpo, cmyk = tmp_path / "phone.mpo", tmp_path / "print.jpg"
    shots[0].save(mpo, "MPO", save_all=True, append_images=shots[1:])
    shots[0].convert("CMYK").save(cmyk)
    assert corrupt_jpeg_data(mpo) is None and corrupt_jpeg_data(cmyk) is None
    assert corrupt_jpeg_data(cmyk.read_bytes()) is None


def test_without_simplejpeg_nothing_is_checked_or_said(tmp_path, rng, monkeypatch):
    photo = _flipped(_jpeg(tmp_path, "intact.jpg", rng), "photo.jpg")
    monkeypatch.setitem(sys.modules, "simplejpeg", None)  # an install without it: import fails
    assert corrupt_jpeg_data(photo) is None
    assert _warned(photo)[1] == []
