"""Enfuse where file names hold characters outside Windows' code page (a user name in %TEMP%):
OpenCV's file functions and a program's ANSI command line fail there, so neither is given a path."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

import cv2
import numpy as np
import pytest

from defusion.baselines import enfuse

needs_enfuse = pytest.mark.skipif(shutil.which("enfuse") is None, reason="enfuse executable not on PATH")


@needs_enfuse
@pytest.mark.parametrize("channels", [1, 3])
def test_enfuse_passes_no_path_to_opencv_nor_to_its_command_line(tmp_path, monkeypatch, channels):
    temp = tmp_path / "J\u00fcrgen \u6771\u4eac"  # C:\Users\Jürgen 東京\AppData\Local\Temp, say
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))

    def no_paths(*args, **kwargs):
        raise AssertionError("cv2.imread/imwrite take only ANSI paths on Windows")

    monkeypatch.setattr(cv2, "imread", no_paths)
    monkeypatch.setattr(cv2, "imwrite", no_paths)
    commands, real_run = [], subprocess.run

    def recorded(cmd, **kwargs):
        commands.append(cmd)
        return real_run(cmd, **kwargs)

    monkeypatch.setattr(enfuse.subprocess, "run", recorded)
    rng = np.random.default_rng(0)
    shape = (24, 32) if channels == 1 else (24, 32, 3)
    a, b = rng.random(shape, dtype=np.float32), rng.random(shape, dtype=np.float32)
    fused = enfuse.fuse_enfuse(a, b)
    assert fused.shape == a.shape and fused.dtype == np.float32 and 0 <= fused.min() <= fused.max() <= 1
    assert all(arg.isascii() for arg in commands[0][1:]), commands[0]  # the sources and output named alone
