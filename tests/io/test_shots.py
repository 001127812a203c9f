"""Splitting a folder of shots into brackets: capture times from EXIF, pauses, runs of N."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from defusion.io.shots import (Shot, ShotsError, group_by_count, group_by_time, group_name, list_shots, read_shot,
                                untimed)


def write_shot(path: Path, taken: datetime | None, exposure: tuple[int, int] | None = None,
               value: int = 128) -> Path:
    """A small JPEG with EXIF DateTimeOriginal (+ sub-seconds) and ExposureTime, as a camera writes them."""
    exif = Image.Exif()
    if taken is not None:
        details = exif.get_ifd(0x8769)
        details[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
        details[0x9291] = f"{taken.microsecond // 10000:02d}"
        if exposure is not None:
            details[0x829A] = IFDRational(*exposure)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((24, 32, 3), value, np.uint8)).save(path, exif=exif)
    return path


def test_read_shot_takes_capture_time_sub_seconds_and_exposure(tmp_path):
    taken = datetime(2026, 12, 5, 10, 0, 1, 250000)
    shot = read_shot(write_shot(tmp_path / "a.jpg", taken, (1, 4)))
    assert shot.taken == taken and shot.exposure_s == pytest.approx(0.25)
    bare = read_shot(write_shot(tmp_path / "b.jpg", None))
    assert bare.taken is None and bare.exposure_s == 0
    (tmp_path / "c.jpg").write_bytes(b"not an image")
    assert read_shot(tmp_path / "c.jpg").taken is None


def test_pauses_split_brackets_and_long_exposures_do_not(tmp_path):
    t = datetime(2026, 12, 5, 22)
    shots = [Shot(Path("n1.jpg"), t, 4.0), Shot(Path("n2.jpg"), t + timedelta(seconds=4.3), 1.0),
             Shot(Path("n3.jpg"), t + timedelta(seconds=5.6), 0.25),  # a night bracket: 4 s, 1 s, 1/4 s
             Shot(Path("d1.jpg"), t + timedelta(seconds=30), 0.01), Shot(Path("d2.jpg"), t + timedelta(seconds=30.2))]
    assert [[p.name for p in g] for g in group_by_time(shots)] == [["n1.jpg", "n2.jpg", "n3.jpg"],
                                                                   ["d1.jpg", "d2.jpg"]]
    assert len(group_by_time(shots, gap_s=0.1)) == 5  # every shot apart: the gap is the user's to set
    shuffled = [shots[3], shots[0], shots[4], shots[2], shots[1]]
    assert group_by_time(shuffled) == group_by_time(shots)  # capture order, whatever the listing order


def test_shots_without_a_time_are_left_out_and_named(tmp_path):
    """One shot without EXIF once stopped the whole card."""
    t = datetime(2026, 1, 1)
    shots = [Shot(Path("a.jpg"), t), Shot(Path("b.png"), None), Shot(Path("c.jpg"), t),
             Shot(Path("d.jpg"), None, readable=False)]
    assert group_by_time(shots) == [[Path("a.jpg"), Path("c.jpg")]]
    assert untimed(shots) == ["b.png: no EXIF capture time", "d.jpg: not an image (or a broken one)"]
    with pytest.raises(ShotsError, match=r"no EXIF capture time in b\.png, d\.jpg.*--group N"):
        group_by_time([shots[1], shots[3]])
    (tmp_path / "text.jpg").write_text("not an image")
    assert read_shot(tmp_path / "text.jpg").readable is False


def test_list_shots_in_natural_order_and_groups_by_count(tmp_path):
    for name in ("IMG_10.jpg", "IMG_2.jpg", "IMG_1.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    shots = list_shots(tmp_path)
    assert [p.name for p in shots] == ["IMG_1.jpg", "IMG_2.jpg", "IMG_10.jpg"]
    assert [len(g) for g in group_by_count(shots, 2)] == [2, 1]
    assert group_name(shots) == "IMG_1-IMG_10"
    with pytest.raises(ShotsError, match="at least 2"):
        group_by_count(shots, 1)
    with pytest.raises(ShotsError, match="no images"):
        list_shots(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else None)
    with pytest.raises(ShotsError, match="not a folder"):
        list_shots(tmp_path / "missing")
