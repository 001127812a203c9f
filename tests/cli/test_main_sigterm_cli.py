"""SIGTERM (a scheduler's, ``docker stop``'s, systemd's, ``timeout``'s stop) stops every command as Ctrl-C
does, with Ctrl-C's message, and exit status 143. An audit found `defusion fuse` and `defusion video` dying
mid progress line with nothing said, a video's hidden partial file left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from defusion.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, sigterm_as_interrupt
from defusion.cli.main import main
from defusion.fusion.fuser import Fuser
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: `defusion ARGS` with every fusion slowed down, so that a test can signal it mid-run: the signal path
#: is the real command's.
_SLOW_DEFUSION = """
import sys, time
from defusion.fusion.fuser import Fuser
real = Fuser.fuse
def fuse(self, *images, **kwargs):
    time.sleep(0.3)
    return real(self, *images, **kwargs)
Fuser.fuse = fuse
from defusion.cli.main import main
sys.exit(main(sys.argv[1:]))
"""
#: Seconds to wait for a command's first output before giving up.
_FIRST_OUTPUT_S = 240


@pytest.fixture
def pair_folders(tmp_path, rng) -> tuple[Path, Path]:
    """Two folders of 12 tiny frames (or pairs): a run of them takes seconds, slowed."""
    for name in ("a", "b"):
        for i in range(12):
            write_image(tmp_path / name / f"{i:03d}.png", smooth_image(rng, 24, 32))
    return tmp_path / "a", tmp_path / "b"


def _terminated(args: list[str], started: Callable[[], bool]) -> tuple[int, str]:
    """Run ``defusion ARGS`` (slowed), send SIGTERM once ``started()`` is true; its exit status and stderr."""
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_DEFUSION, *map(str, args)], stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, encoding="utf-8")
    try:
        deadline = time.monotonic() + _FIRST_OUTPUT_S
        while not started() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, f"finished before it was signalled: {proc.stderr.read()}"
        assert started(), "no output in time"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, err


def test_sigterm_stops_fuse_on_folders_as_ctrl_c_does(tmp_path, pair_folders, tiny_weights):
    out = tmp_path / "out"
    status, err = _terminated(["fuse", "--a", pair_folders[0], "--b", pair_folders[1], "-o", out, "--scale", "1",
                               "--weights", tiny_weights, "--no-progress"],
                              lambda: out.is_dir() and any(p.suffix == ".png" for p in out.iterdir()))
    assert status == EXIT_TERMINATED, err
    last = err.rstrip("\n").split("\n")[-1]
    assert last.startswith("defusion: interrupted after ") and last.endswith(
        "run the same command with --skip-existing to fuse the rest"), err
    assert "Traceback" not in err


def test_sigterm_stops_a_video_as_ctrl_c_does_and_leaves_no_partial_file(tmp_path, pair_folders, tiny_weights):
    out = tmp_path / "v" / "fused.mp4"
    partial = out.with_name(".fused.partial.mp4")
    status, err = _terminated(["video", *pair_folders, "-o", out, "--weights", tiny_weights, "--scale", "1",
                               "--no-progress"], partial.exists)
    assert status == EXIT_TERMINATED, err
    # the partial file is opened as its first frame is written: the signal may land before that frame counts
    assert err.startswith("defusion: interrupted; ") and (" discarded: a video is written only once complete; " in err
                                                          or "no frame was fused yet" in err), err
    assert err.count("\n") == 1, err
    assert not partial.exists() and not out.exists()


def test_sigterm_in_process_gives_ctrl_cs_message_and_143_and_restores_the_handler(
        tmp_path, pair_folders, tiny_weights, monkeypatch, capsys, one_torch_thread):
    real, calls = Fuser.fuse, []

    def fuse(self, *images, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGTERM)
        return real(self, *images, **kwargs)

    class Unhandled(Exception):
        """What the SIGTERM raises where the command did not handle it (not the test runner's death)."""

    def unhandled(signum, frame):
        raise Unhandled

    monkeypatch.setattr(Fuser, "fuse", fuse)
    before = signal.signal(signal.SIGTERM, unhandled)
    try:
        out = tmp_path / "frames"
        status = main(["video", *map(str, pair_folders), "-o", str(out), "--weights", str(tiny_weights),
                       "--no-progress"])
        assert signal.getsignal(signal.SIGTERM) is unhandled  # the handler before main's, restored
    finally:
        signal.signal(signal.SIGTERM, before)
    assert status == EXIT_TERMINATED
    assert capsys.readouterr().err == (f"defusion: interrupted; the 2 frames fused are kept in {out} (frame_000000.png "
                                       "to frame_000001.png); run the same command with --skip-existing to fuse "
                                       "the rest\n")


def test_ctrl_c_keeps_its_own_exit_status(tmp_path, pair_folders, tiny_weights, monkeypatch, capsys,
                                          one_torch_thread):
    def fuse(self, *images, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Fuser, "fuse", fuse)
    status = main(["fuse", *(str(p / "000.png") for p in pair_folders), "-o", str(tmp_path / "f.png"),
                   "--weights", str(tiny_weights)])
    assert status == EXIT_INTERRUPTED
    assert capsys.readouterr().err.endswith("defusion: interrupted\n")


def test_sigterm_as_interrupt_says_whether_it_came():
    with sigterm_as_interrupt() as term:
        pass
    assert not term.received
    with sigterm_as_interrupt() as term, pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    assert term.received


def test_a_second_sigterm_does_not_cut_the_first_ones_clean_up_short():
    """A review: a SIGTERM landing while the first one's message is printed raised out of the handler."""
    cleaned = []
    with sigterm_as_interrupt() as term:
        try:
            signal.raise_signal(signal.SIGTERM)
        except KeyboardInterrupt:
            signal.raise_signal(signal.SIGTERM)  # a scheduler's second stop, during the clean-up
            cleaned.append(True)
    assert term.received and cleaned == [True]
