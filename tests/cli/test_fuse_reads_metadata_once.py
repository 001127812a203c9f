"""`defusion fuse` reads each source's colour profile and EXIF once per fusion: the colour matching
(match_profiles) and the fused image's metadata (metadata_for) share one read, which once ran twice per
source (a PNG's twice decoded its 12 MP whole), and the fused image carries what it did before."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.io.metadata import read_metadata
from tests.conftest import smooth_image
from tests.io.test_icc_mixed_profiles import P3

MAKE = 0x010F


@pytest.fixture
def reads(monkeypatch) -> Counter:
    """How many times each file (by name) had its metadata read, read_profile's reads included."""
    from defusion.io import metadata

    counted: Counter = Counter()
    real = metadata.read_metadata

    def spy(source: str | Path | bytes) -> metadata.ImageMetadata:
        if not isinstance(source, bytes):
            counted[Path(source).name] += 1
        return real(source)

    monkeypatch.setattr(metadata, "read_metadata", spy)
    return counted


def _photo(path: Path, rng: np.random.Generator, make: str, icc: bytes | None = None) -> Path:
    """A colour PNG with a camera's EXIF (and ``icc``), as Pillow writes one."""
    exif = Image.Exif()
    exif[MAKE] = make
    Image.fromarray(smooth_image(rng, 40, 56)).save(path, exif=exif, **({"icc_profile": icc} if icc else {}))
    return path


def _fuse(*args: object) -> int:
    return main(["fuse", *map(str, args), "--no-progress"])


def _make(path: Path) -> str | None:
    exif = read_metadata(path).exif
    if exif is None:
        return None
    tags = Image.Exif()
    tags.load(exif)
    return tags.get(MAKE)


def test_a_pair_is_read_once_and_carries_the_first_profile_and_exif(tmp_path, rng, tiny_weights, reads, capsys):
    a = _photo(tmp_path / "a.png", rng, "Canon", icc=P3)
    b = _photo(tmp_path / "b.png", rng, "Nikon")  # untagged: sRGB, converted to a's Display P3
    out = tmp_path / "fused.png"
    assert _fuse(a, b, "-o", out, "--weights", tiny_weights) == 0
    assert reads == {"a.png": 1, "b.png": 1}
    assert "b.png (sRGB" in capsys.readouterr().err  # the conversion is still said
    reads.clear()
    assert read_metadata(out).icc_profile == P3 and _make(out) == "Canon"


def test_without_metadata_each_source_is_read_once_and_nothing_carried(tmp_path, rng, tiny_weights, reads):
    a = _photo(tmp_path / "a.png", rng, "Canon", icc=P3)
    b = _photo(tmp_path / "b.png", rng, "Nikon")
    out = tmp_path / "fused.png"
    assert _fuse(a, b, "-o", out, "--weights", tiny_weights, "--no-metadata") == 0
    assert reads == {"a.png": 1, "b.png": 1}
    reads.clear()
    assert read_metadata(out).icc_profile is None and _make(out) is None


def test_a_folder_run_reads_each_source_once(tmp_path, rng, tiny_weights, reads):
    folders = {side: tmp_path / side for side in ("ir", "vis")}
    for side, folder in folders.items():
        folder.mkdir()
        for stem in ("01", "02"):
            _photo(folder / f"{stem}.png", rng, f"{side}-{stem}")
    assert _fuse("--a", folders["ir"], "--b", folders["vis"], "-o", tmp_path / "out", "--weights", tiny_weights) == 0
    assert reads == {"01.png": 2, "02.png": 2}  # one name in each folder: one read each
    reads.clear()
    assert sorted(_make(path) for path in (tmp_path / "out").glob("*.png")) == ["ir-01", "ir-02"]


def test_a_raw_sources_exif_is_read_once_after_the_fusion(tmp_path, tiny_weights, reads):
    """A camera raw file has no profile to match: its EXIF is read once, where the fused image's
    metadata is chosen (and a note said there where it has none), as before."""
    pytest.importorskip("rawpy")
    pytest.importorskip("tifffile")
    from tests.io.raw_files import gradient_scene, write_dng

    paths = [write_dng(tmp_path / f"IMG_{i}.DNG", gradient_scene(gain=gain)) for i, gain in enumerate((0.5, 1.0))]
    out = tmp_path / "fused.jpg"
    assert _fuse(*paths, "-o", out, "--weights", tiny_weights, "--task", "mef") == 0
    assert reads == {"IMG_0.DNG": 1, "IMG_1.DNG": 1}
    reads.clear()
    assert _make(out) == "defusion"  # the DNG's camera (tests.io.raw_files)
