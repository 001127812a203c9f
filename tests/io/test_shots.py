"""Splitting a folder of shots into brackets: capture times from EXIF, pauses, runs of N."""

from __future__ import annotations

import re
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from defusion.errors import DefusionNote, DefusionWarning
from defusion.io.shots import (Shot, ShotsError, group_by_count, group_by_time, group_name, list_shots, read_shot,
                                untimed)


def _said(caught: list[warnings.WarningMessage]) -> str:
    """What a Python caller was told (defusion's warnings), one ``kind: message`` a line, ``note`` for a
    DefusionNote, ``warning`` for a DefusionWarning: what the command says after ``defusion: ``."""
    return "".join(f"{'note' if issubclass(w.category, DefusionNote) else 'warning'}: {w.message}\n"
                   for w in caught if issubclass(w.category, DefusionWarning))


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
    (tmp_path / "text.jpg").write_text("not an image", encoding="utf-8")
    assert read_shot(tmp_path / "text.jpg").readable is False


def test_list_shots_in_natural_order_and_groups_by_count(tmp_path):
    for name in ("IMG_10.jpg", "IMG_2.jpg", "IMG_1.jpg"):
        write_shot(tmp_path / name, None)
    (tmp_path / "notes.txt").write_text("not a shot", encoding="utf-8")
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


#: The start of a macOS AppleDouble file, the ``._IMG_0001.jpg`` macOS writes beside each file it copies.
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(64)


def test_hidden_and_unreadable_files_are_left_out_before_grouping_by_count(tmp_path):
    """A macOS ._ file and a zero-byte shot once counted as shots: every later run of N shifted by one."""
    card = tmp_path / "card"
    shots = [write_shot(card / f"IMG_000{i}.jpg", None, value=40 * i) for i in range(1, 5)]
    (card / "._IMG_0001.jpg").write_bytes(APPLEDOUBLE)
    (card / "IMG_0002a.jpg").write_bytes(b"")  # a copy that never finished
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per calling line
        for _ in range(2):
            listed = list_shots(card)
    assert listed == shots
    assert group_by_count(listed, 2) == [shots[:2], shots[2:]]
    err = _said(caught)
    assert "note: 1 hidden file in" in err and "._IMG_0001.jpg" in err
    assert "warning: IMG_0002a.jpg: not an image (or a broken one); left out" in err
    assert err.count("IMG_0002a.jpg") == 1  # said once, however often the folder is listed

    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "whole.jpg")
    data = (tmp_path / "whole.jpg").read_bytes()
    (card / "IMG_0005.jpg").write_bytes(data[: len(data) // 2])  # its header opens: reading it says "truncated"
    assert list_shots(card)[-1].name == "IMG_0005.jpg"

    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "._IMG_0001.jpg").write_bytes(APPLEDOUBLE)
    (junk / "IMG_0001.png").write_bytes(b"")
    with pytest.raises(ShotsError, match="no images in .* but the 2 left out above"):
        list_shots(junk)


def test_stacks_by_count_fuse_the_right_brackets_beside_macos_and_empty_files(tmp_path, tiny_weights, capsys):
    """The user's card: 'fused 1 of 2 groups', shots of different brackets fused together."""
    from defusion.cli.main import main

    card = tmp_path / "card"
    for i in range(1, 7):
        write_shot(card / f"IMG_{i:04d}.jpg", None, value=60 + 30 * (i % 3))
    (card / "._IMG_0001.jpg").write_bytes(APPLEDOUBLE)
    (card / "IMG_0000.jpg").write_bytes(b"")
    out = tmp_path / "out"
    assert main(["fuse", "--stacks", str(card), "--group", "3", "-o", str(out), "--weights", str(tiny_weights),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.glob("*.png")) == ["IMG_0001-IMG_0003.png", "IMG_0004-IMG_0006.png"]
    assert "6 shots in 2 groups" in err and "do not split" not in err
    assert "IMG_0000.jpg: not an image (or a broken one); left out" in err and "._IMG_0001.jpg" in err


def test_a_folder_without_images_names_its_subfolders_that_hold_some(tmp_path):
    """A whole SD card given: 'no images in sdcard', with nothing on where they are."""
    from defusion.io.shots import image_subfolders

    card = tmp_path / "sdcard"
    for folder, count in (("DCIM/100CANON", 3), ("DCIM/101CANON", 1)):
        for i in range(count):
            write_shot(card / folder / f"IMG_{i}.JPG", None)
    (card / "MISC").mkdir()
    (card / ".Trashes" / "x").mkdir(parents=True)
    write_shot(card / ".Trashes" / "x" / "IMG_9.JPG", None)  # hidden: not pointed at
    assert [(str(p.relative_to(card)), n) for p, n in image_subfolders(card)] == [("DCIM/100CANON", 3),
                                                                               ("DCIM/101CANON", 1)]
    with pytest.raises(ShotsError, match=r"DCIM/100CANON \(3\), DCIM/101CANON \(1\) hold images .* such as "
                                         + re.escape(str(card / "DCIM" / "100CANON"))):
        list_shots(card)


def test_exposure_brackets_and_orientation_from_exif(tmp_path):
    from defusion.io.shots import exif_orientation, is_exposure_bracket

    bracket = [write_shot(tmp_path / f"b{i}.jpg", datetime(2026, 1, 1), exposure) for i, exposure in
               enumerate([(1, 1000), (1, 250), (1, 60)])]
    metered = [write_shot(tmp_path / f"m{i}.jpg", datetime(2026, 1, 1), exposure) for i, exposure in
               enumerate([(1, 125), (1, 100)])]  # a focus stack metered shot by shot: a third of a stop
    bare = [write_shot(tmp_path / f"n{i}.jpg", None) for i in range(2)]
    assert is_exposure_bracket(bracket) and not is_exposure_bracket(metered) and not is_exposure_bracket(bare)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(tmp_path / "turned.jpg", exif=exif)
    assert exif_orientation(tmp_path / "turned.jpg") == 6 and exif_orientation(bare[0]) == 1


def _camera_shot(path: Path, model: str | None, exposure: tuple[int, int], size: tuple[int, int] = (32, 24),
                 make: str = "") -> Path:
    """A JPEG of ``size`` (WxH) whose EXIF names its camera (Make, Model) and exposure time."""
    exif = Image.Exif()
    if model is not None:
        exif[0x010F], exif[0x0110] = make, model
    exif.get_ifd(0x8769)[0x829A] = IFDRational(*exposure)
    Image.new("RGB", size, (128, 128, 128)).save(path, exif=exif)
    return path


def test_two_cameras_or_two_sizes_are_no_exposure_bracket(tmp_path):
    """Review: an infrared camera's frame and a phone's photograph, each exposed for its own sensor,
    were taken for an exposure bracket (--task mef was suggested for a --palette pair)."""
    from defusion.io.shots import camera_model, is_exposure_bracket

    phone = _camera_shot(tmp_path / "vis.jpg", "Phone", (1, 1000))
    flir = _camera_shot(tmp_path / "ir.jpg", "FLIR", (1, 30))
    assert camera_model(phone) == ("", "Phone") and not is_exposure_bracket([phone, flir])
    canon = [_camera_shot(tmp_path / f"c{i}.jpg", "EOS R6", t, make="Canon")
             for i, t in enumerate([(1, 1000), (1, 60)])]
    assert is_exposure_bracket(canon)  # one camera's bracket still is one
    unnamed = _camera_shot(tmp_path / "u.jpg", None, (1, 1000))
    assert camera_model(unnamed) is None and is_exposure_bracket([unnamed, canon[1]])  # no camera said: times decide
    small = _camera_shot(tmp_path / "small.jpg", "EOS R6", (1, 1000), size=(16, 12), make="Canon")
    assert not is_exposure_bracket([small, canon[1]])  # a bracket's shots are one size


def test_one_exposure_of_one_camera_and_one_size_is_a_focus_stack(tmp_path):
    from defusion.io.shots import is_one_exposure

    stack = [_camera_shot(tmp_path / f"s{i}.jpg", "EOS R6", t, make="Canon") for i, t in enumerate([(1, 125)] * 3)]
    metered = _camera_shot(tmp_path / "m.jpg", "EOS R6", (1, 100), make="Canon")  # under BRACKET_STOPS apart
    assert is_one_exposure(stack) and is_one_exposure([*stack, metered])
    bracket = _camera_shot(tmp_path / "b.jpg", "EOS R6", (1, 30), make="Canon")
    other = _camera_shot(tmp_path / "o.jpg", "Phone", (1, 125))
    small = _camera_shot(tmp_path / "small.jpg", "EOS R6", (1, 125), size=(16, 12), make="Canon")
    bare = write_shot(tmp_path / "bare.jpg", None)  # no exposure time: no evidence
    for group in ([stack[0], bracket], [stack[0], other], [stack[0], small], [stack[0], bare]):
        assert not is_one_exposure(group), [p.name for p in group]


def test_a_zero_over_zero_exposure_bias_is_no_bias(tmp_path):
    """Review: Pillow reads a 0/0 bias as NaN, and two NaNs differ, so one camera's identical shots
    read as an exposure bracket (a focus stack was told to add --task mef)."""
    from defusion.io.shots import is_exposure_bracket, is_one_exposure

    shots = [_camera_shot(tmp_path / f"s{i}.jpg", "EOS R6", (1, 125), make="Canon") for i in range(2)]
    for shot in shots:
        with Image.open(shot) as image:
            exif = image.getexif()
            pixels = image.copy()
        exif.get_ifd(0x8769)[0x9204] = IFDRational(0, 0)  # ExposureBiasValue 0/0
        pixels.save(shot, exif=exif)
    assert not is_exposure_bracket(shots) and is_one_exposure(shots)


def test_raw_files_sizes_are_compared_for_a_stack_and_a_bracket(tmp_path, monkeypatch):
    """Review: the focus-stack check read sizes with header_size, which knows none for a raw file."""
    from defusion.io import shots

    sizes = {"a.dng": (6000, 4000), "b.dng": (6000, 4000), "crop.dng": (3000, 2000)}
    monkeypatch.setattr(shots, "raw_size", lambda path: sizes[Path(path).name])
    monkeypatch.setattr(shots, "raw_capture", lambda path: (None, 1 / 125 if Path(path).name != "b.dng" else 1 / 30))
    a, b, crop = (tmp_path / name for name in sizes)
    assert shots.is_one_exposure([a, a]) and not shots.is_one_exposure([a, crop])
    assert shots.is_exposure_bracket([a, b]) and not shots.is_exposure_bracket([b, crop])


def test_shot_settings_read_each_header_once(tmp_path, monkeypatch):
    from defusion.io import shots

    group = [_camera_shot(tmp_path / f"s{i}.jpg", "EOS R6", (1, 125), make="Canon") for i in range(3)]
    reads: list[Path] = []
    exif_tags = shots._exif_tags
    monkeypatch.setattr(shots, "_exif_tags", lambda path: reads.append(path) or exif_tags(path))
    settings = shots.group_settings(group)
    assert settings[0] == shots.ShotSettings(("Canon", "EOS R6"), (32, 24), pytest.approx(1 / 125), None)
    assert shots.shows_one_exposure(settings) and not shots.shows_exposure_bracket(settings)
    assert reads == group


def test_read_shot_takes_date_time_original_from_a_tiffs_first_directory(tmp_path):
    """defusion's fused TIFFs hold DateTimeOriginal beside DateTime, not in an EXIF sub-directory."""
    import tifffile

    path = tmp_path / "fused.tif"
    tifffile.imwrite(path, np.zeros((4, 6, 3), np.uint8), extratags=[(306, "s", 0, "2026:05:01 13:00:00", True),
                                                                      (36867, "s", 0, "2026:05:01 12:00:00", True)])
    assert read_shot(path).taken == datetime(2026, 5, 1, 12)


def test_an_uploads_settings_are_read_from_its_bytes_as_a_files_are(tmp_path):
    """A web page's uploads are bytes, with no path: their EXIF is judged as a file's is."""
    from defusion.io.shots import shot_settings, shows_exposure_bracket, upload_settings

    canon = [_camera_shot(tmp_path / f"c{i}.jpg", "EOS R6", t, make="Canon")
             for i, t in enumerate([(1, 1000), (1, 60)])]
    uploaded = [upload_settings(path.read_bytes(), path.name) for path in canon]
    assert uploaded == [shot_settings(path) for path in canon] and shows_exposure_bracket(uploaded)
    assert uploaded[0].camera == ("Canon", "EOS R6") and uploaded[0].size == (32, 24)
    assert upload_settings(canon[0].read_bytes(), "c0.dng") == (None, None, None, None)  # raw: LibRaw reads files


def test_the_exif_advice_names_the_files_and_takes_each_places_action():
    from defusion.io.shots import bracket_advice, exif_shows, focus_stack_advice, sources_on_bracket_warning

    shown = exif_shows(["a.jpg", "b.jpg"], "an exposure bracket")
    assert bracket_advice(shown, "pick X").startswith(
        "the EXIF of a.jpg, b.jpg shows an exposure bracket (exposure times or biases differ): pick X, whose")
    assert "most likely a focus stack; pick Y, whose defaults" in focus_stack_advice(shown, "pick Y")
    assert ", but Z takes each pixel from one source" in sources_on_bracket_warning(shown, "Z", "pick X")


def test_a_name_sorts_before_its_numbered_copies_as_a_file_manager_orders_them():
    """A web-UI audit: focus.png, focus2.png, focus3.png were fused as focus2, focus3, focus (the
    suffix's dot sorted after the digits), and a browser's IMG_1234 (1).jpg came before IMG_1234.jpg."""
    from defusion.io.shots import natural_key

    names = ["focus3.png", "IMG_1234 (1).jpg", "focus.png", "IMG_1234.jpg", "focus2.png", "stack-1.tif", "stack.tif"]
    assert [p.name for p in sorted(map(Path, names), key=natural_key)] == [
        "focus.png", "focus2.png", "focus3.png", "IMG_1234.jpg", "IMG_1234 (1).jpg", "stack.tif", "stack-1.tif"]
