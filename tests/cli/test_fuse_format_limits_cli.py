"""`defusion fuse` refuses, before the model loads, a fused image its output format cannot encode (it
takes the first source's size; each format's longest side: defusion.io.formats.MAX_SIDES): the audit's
16400 x 2 pair to -o lout.webp ran the whole fusion, then failed with OpenCV's assertion."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.cli import fuse
from defusion.cli.errors import UserError
from defusion.cli.main import main
from defusion.io.formats import MAX_SIDES

#: Where the model would load: a run stopped there said everything before it.
STOPPED = "stopped where the model loads"
#: A source one pixel wider than WebP takes, and one than JPEG takes (the folder formats: png, tif, jpg).
PAST_WEBP, PAST_JPEG = (2, MAX_SIDES[".webp"] + 17), (2, MAX_SIDES[".jpg"] + 1)

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")


@pytest.fixture
def stop_at_model(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise UserError(STOPPED)

    monkeypatch.setattr(fuse, "make_fuser", refuse)


def _write(path, shape) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full(shape, 100, np.uint8))


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: error:")]


@pytest.mark.parametrize("suffix, shape, instead", [(".webp", PAST_WEBP, ".png"), (".jpg", PAST_JPEG, ".png")])
def test_an_output_format_too_narrow_is_refused_before_the_model_loads(tmp_path, tiny_weights, stop_at_model,
                                                                       capsys, suffix, shape, instead):
    for name in ("a.png", "b.png"):
        _write(tmp_path / name, shape)
    out = tmp_path / f"fused{suffix}"
    status = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out), "--weights",
                   str(tiny_weights), "--scale", "1"])
    err = capsys.readouterr().err
    assert status == 2 and STOPPED not in err, err
    [line] = _error_lines(err)
    width, limit = shape[1], MAX_SIDES[suffix]
    assert line == (f"defusion: error: -o {out}: the fused image will be {width}x2 (the first source's size), and "
                    f"{suffix[1:]} takes sides up to {limit} px; use -o {out.with_suffix(instead)} (or "
                    f"{'.tif, .jpg or .bmp' if suffix == '.webp' else '.tif or .bmp'})")
    assert not out.exists()
    main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(out.with_suffix(instead)),
          "--weights", str(tiny_weights), "--scale", "1"])
    assert STOPPED in capsys.readouterr().err  # a format that holds it runs on


def test_the_fused_size_is_the_first_sources_whatever_the_others(tmp_path, tiny_weights, stop_at_model, capsys):
    """With --resize the others take the first's size: a narrow first source is no refusal."""
    _write(tmp_path / "a.png", (2, 100))
    _write(tmp_path / "b.png", PAST_WEBP)
    main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.webp"), "--resize",
          "--weights", str(tiny_weights)])
    assert STOPPED in capsys.readouterr().err
    _write(tmp_path / "a.png", PAST_WEBP)
    _write(tmp_path / "b.png", (2, 100))
    assert main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.webp"),
                 "--resize", "--weights", str(tiny_weights)]) == 2
    assert "the fused image will be 16400x2" in capsys.readouterr().err


@pytest.fixture
def pair_folders(tmp_path):
    """--a and --b of three pairs, p2 past JPEG's sides."""
    for stem, shape in (("p1", (8, 16)), ("p2", PAST_JPEG), ("p3", (8, 16))):
        for side in "ab":
            _write(tmp_path / side / f"{stem}.png", shape)
    return tmp_path / "a", tmp_path / "b"


def test_a_folder_run_with_a_pair_its_format_cannot_write_is_refused_before_any_fusion(
        pair_folders, tmp_path, tiny_weights, stop_at_model, capsys):
    a, b = pair_folders
    out = tmp_path / "out"
    status = main(["fuse", "--a", str(a), "--b", str(b), "-o", str(out), "--format", "jpg", "--weights",
                   str(tiny_weights), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and STOPPED not in err, err
    [line] = _error_lines(err)
    assert line == (f"defusion: error: --format jpg takes sides up to {MAX_SIDES['.jpg']} px, and 1 of 3 fused "
                    f"images would be wider (each its first source's size): p2 ({PAST_JPEG[1]}x2); nothing was "
                    "fused: use --format png or --format tif")
    assert not out.exists() or not any(out.iterdir())
    main(["fuse", "--a", str(a), "--b", str(b), "-o", str(out), "--format", "png", "--weights", str(tiny_weights),
          "--no-progress"])
    assert STOPPED in capsys.readouterr().err  # a format that holds every pair runs on


def test_stacks_with_a_group_too_wide_are_refused_too(tmp_path, tiny_weights, stop_at_model, capsys):
    card = tmp_path / "card"
    for i, shape in enumerate(((8, 16), (8, 16), PAST_JPEG, PAST_JPEG), start=1):
        _write(card / f"s{i}.png", shape)
    status = main(["fuse", "--stacks", str(card), "--group", "2", "-o", str(tmp_path / "out"), "--format", "jpg",
                   "--weights", str(tiny_weights), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and STOPPED not in err, err
    assert "1 of 2 fused images would be wider" in err and "s3-s4" in err


def test_a_size_no_header_told_is_refused_once_read_before_its_fusion(tmp_path, tiny_weights, monkeypatch,
                                                                      fuse_calls, capsys):
    """A camera raw file's header does not tell its size: the check waits for the decoded sources, and
    still comes before the network runs."""
    from defusion.cli.fuse import size_notes

    monkeypatch.setattr(size_notes, "header_sizes", lambda paths, known=None: [None] * len(paths))
    for name in ("a.png", "b.png"):
        _write(tmp_path / name, PAST_WEBP)
    status = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.webp"),
                   "--weights", str(tiny_weights), "--scale", "1", "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2 and not fuse_calls and not (tmp_path / "f.webp").exists()
    assert _error_lines(err) == [f"defusion: error: {tmp_path / 'f.webp'}: webp takes sides up to 16383 px; "
                                 f"this image is {PAST_WEBP[1]}x2"], err
