"""Fixtures for the video tests: one CPU thread, the tiny model at scale 1, what fuse_videos notes; and a
helper running `defusion video` in-process."""

from __future__ import annotations

import argparse

import pytest

from defusion.cli import video as video_cli
from defusion.cli.errors import run_guarded
from defusion.fusion.fuser import Fuser
from defusion.fusion.video import fusing
from defusion.io.notes import as_lines


def run_video_cli(capsys, *argv) -> tuple[int, str]:
    """`defusion video ARGV` in this process, as the command line runs it: (exit status, stderr)."""
    parser = argparse.ArgumentParser()
    video_cli.add_arguments(parser)
    args = parser.parse_args([str(a) for a in argv])
    with as_lines():  # what the library says, said as the command says it (as under main())
        status = run_guarded(lambda: video_cli.run(args), video_cli.EXPECTED_ERRORS)
    return status, capsys.readouterr().err


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""


@pytest.fixture
def notes(monkeypatch) -> list[str]:
    """What fuse_videos notes of its live inputs (their pairing, their rate, the frames skipped)."""
    said: list[str] = []
    monkeypatch.setattr(fusing, "say_note", said.append)
    return said


@pytest.fixture
def fuser(tiny_weights, one_torch_thread) -> Fuser:
    """The tiny model at scale 1: a fusion that takes a moment."""
    return Fuser.from_pretrained(tiny_weights, device="cpu", scale=1)
