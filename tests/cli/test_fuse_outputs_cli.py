"""`defusion fuse` outputs that cannot be written are said before any fusing, in one line; a folder
mode stops at the first full-disk error; Ctrl-C's message starts on a line of its own."""

from __future__ import annotations

import errno
import os
import sys

import pytest

from defusion.cli.errors import run_guarded
from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.cli.main import main
from defusion.fusion.fuser import Fuser
from defusion.io.images import read_image, write_image
from tests.cli.conftest import infrared_visible_folders, one_error_line, run_fuse
from tests.conftest import smooth_image
from tests.io.test_write_outputs import fail_writes_in


@pytest.fixture
def folders(tmp_path, rng):
    return infrared_visible_folders(tmp_path, rng)




@pytest.mark.parametrize("mode", ["pair", "folders", "stacks"])
def test_an_unwritable_output_is_said_before_fusing(mode, tmp_path, folders, tiny_weights, fuse_calls, monkeypatch,
                                                    capsys):
    da, db = folders
    ro = tmp_path / "ro"
    out = ro / "f.png" if mode == "pair" else ro
    sources = {"pair": [da / "01.png", db / "01.png"], "folders": ["--a", da, "--b", db],
               "stacks": ["--stacks", db, "--group", "3"]}[mode]
    fail_writes_in(monkeypatch, ro, errno.EROFS)
    assert run_fuse(*sources, "-o", out, "--weights", tiny_weights) == 2
    assert one_error_line(capsys) == f"defusion: error: -o {out}: cannot write in {ro} (Read-only file system)"
    assert not fuse_calls and not ro.exists()  # nothing fused, and the folder made to try is gone again


def test_a_file_where_a_folder_must_be_and_a_name_too_long_are_one_line(tmp_path, folders, tiny_weights, capsys):
    da, db = folders
    (tmp_path / "odd_a.png").write_bytes(b"")
    bad = tmp_path / "odd_a.png" / "f.png"
    assert run_fuse(da / "01.png", db / "01.png", "-o", bad, "--weights", tiny_weights) == 2
    assert one_error_line(capsys) == f"defusion: error: -o {bad}: {tmp_path / 'odd_a.png'} is a file, not a folder"
    long = tmp_path / "out" / ("é" * 130 + ".png")
    assert run_fuse(da / "01.png", db / "01.png", "-o", long, "--weights", tiny_weights) == 2
    err = one_error_line(capsys)
    assert "is 264 bytes long; this file system takes names of at most 255" in err and "[Errno" not in err


def test_an_output_name_of_255_bytes_is_written(tmp_path, folders, tiny_weights):
    da, db = folders
    out = tmp_path / "out" / ("a" * 251 + ".png")
    assert run_fuse(da / "01.png", db / "01.png", "-o", out, "--weights", tiny_weights) == 0
    assert read_image(out).shape == (24, 32, 3) and os.listdir(out.parent) == [out.name]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_folder_mode_stops_at_a_full_disk_keeps_what_is_written_and_says_how_to_go_on(code, tmp_path, folders,
                                                                                       tiny_weights, fuse_calls,
                                                                                       monkeypatch, capsys):
    da, db = folders
    out = tmp_path / "out"
    # the disk fills after the first fused image (the check before fusing passes)
    fail_writes_in(monkeypatch, out, code, when=lambda path: path.suffix == ".tmp" and (out / "01.png").exists())
    args = ["--a", da, "--b", db, "-o", out, "--weights", tiny_weights]
    assert run_fuse(*args) == 2
    err = one_error_line(capsys)
    assert err == (f"defusion: error: {out / '02.png'}: cannot write ({os.strerror(code)}); stopped after 1 of 3 "
                   f"pairs (those fused are kept in {out}): once it can be written, run the same command with "
                   "--skip-existing to fuse the rest")
    # not fused on: 03 would fail the same way
    assert len(fuse_calls) == 2 and sorted(os.listdir(out)) == [SETTINGS_FILE, "01.png"]
    monkeypatch.undo()
    assert run_fuse(*args, "--skip-existing") == 0
    assert sorted(os.listdir(out)) == [SETTINGS_FILE, "01.png", "02.png", "03.png"]


def test_skip_existing_help_names_stacks_too(capsys):
    with pytest.raises(SystemExit):
        main(["fuse", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--skip-existing with --a/--b or --stacks:" in help_text


def test_an_interrupt_is_said_on_a_line_of_its_own_after_a_progress_bar(capsys):
    from tqdm import tqdm

    def interrupted() -> None:
        bar = tqdm(total=9, desc="tiles", unit="tile", file=sys.stderr)
        bar.update(3)
        raise KeyboardInterrupt

    assert run_guarded(interrupted) == 130
    before, _, _ = capsys.readouterr().err.rpartition("defusion: interrupted\n")
    assert "3/9" in before and before.endswith(("\n", "\r"))


def test_a_fuse_interrupted_mid_tiles_says_so_on_a_line_of_its_own(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    from defusion.io import progress

    monkeypatch.setattr(progress, "is_terminal", lambda _stream: True)  # tqdm's bar, as a terminal shows it
    a = write_image(tmp_path / "a.png", smooth_image(rng, 64, 96))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 64, 96))

    def interrupted(self, *images, on_tile=None):
        on_tile()
        raise KeyboardInterrupt

    monkeypatch.setattr(Fuser, "fuse", interrupted)
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--weights",
                 str(tiny_weights), "--tile", "64", "--overlap", "16"]) == 130  # with its progress bar
    before, _, _ = capsys.readouterr().err.rpartition("defusion: interrupted\n")
    assert "pass/s" in before and before.endswith(("\n", "\r")) and not (tmp_path / "f.png").exists()
