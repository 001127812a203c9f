"""`defusion fuse` on the security audit's crafted inputs: an EPS named .png, a rig file nested 60,000
deep, a fusion that runs out of memory. Each is one line on stderr, never a traceback; exit status 2 for the
crafted files, 1 for running out of memory (the run failed: a script tells it from bad input)."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import EpsImagePlugin

from defusion.cli.errors import run_guarded
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: The audit's 64-byte EPS, which Pillow rendered by running Ghostscript on it.
EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\nshowpage\n%%EOF\n"


@pytest.fixture
def pair(tmp_path, rng):
    return (write_image(tmp_path / "a.png", smooth_image(rng, 24, 32)),
            write_image(tmp_path / "b.png", smooth_image(rng, 24, 32)))


def _fuse(capsys, *args) -> tuple[int, list[str]]:
    """Exit status and stderr's lines of ``defusion fuse ARGS``."""
    status = main(["fuse", *map(str, args), "--no-progress"])
    return status, capsys.readouterr().err.splitlines()


def test_an_eps_named_png_is_one_line_and_ghostscript_never_starts(tmp_path, capsys, monkeypatch, tiny_weights):
    """Where gs existed but failed, this printed a 38-line CalledProcessError traceback and exit status 1."""
    started: list = []

    def no_process(args, *_, **__):
        started.append(args)
        raise subprocess.CalledProcessError(1, args)  # what a failing gs gave

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs")
    for name in ("evil.png", "evil2.png"):
        (tmp_path / name).write_bytes(EPS)
    status, err = _fuse(capsys, tmp_path / "evil.png", tmp_path / "evil2.png", "-o", tmp_path / "o.png",
                        "--weights", tiny_weights)
    assert status == 2 and started == []
    assert err == [f"defusion: error: {tmp_path / 'evil.png'}: not an image defusion reads (it holds EPS data?); "
                   "defusion reads PNG, JPEG, TIFF, BMP, WebP, GIF, PNM, TGA, HEIC/HEIF and camera raw files"]


def test_a_rig_file_nested_too_deeply_is_one_line(pair, tmp_path, capsys, tiny_weights):
    """60 KB of '[' gave a RecursionError traceback from json.loads, exit status 1."""
    rig = tmp_path / "deep.json"
    rig.write_text("[" * 60_000, encoding="utf-8")
    status, err = _fuse(capsys, *pair, "--rig", rig, "-o", tmp_path / "o.png", "--weights", tiny_weights)
    assert status == 2
    assert err == [f"defusion: error: {rig} is not a defusion rig file (JSON nested too deeply; make one with "
                   "defusion calibrate)"]


def _exhausted(*_, **__):
    """What a 99 MP pair under a memory cap met in the fusion: numpy's _ArrayMemoryError (a MemoryError)."""
    np.empty(1 << 60, np.uint8)  # an exbibyte: no machine has it
    raise AssertionError("an exbibyte was allocated")


def test_running_out_of_memory_is_one_line_with_what_to_do(pair, tmp_path, capsys, monkeypatch, tiny_weights):
    """A MemoryError in the fusion (a 96 KB PNG of 99 MP, under the default bound, with `ulimit -v`)
    printed numpy's traceback, exit status 1."""
    from defusion.fusion.fuser import Fuser

    monkeypatch.setattr(Fuser, "fuse", _exhausted)
    monkeypatch.setattr(Fuser, "fusion", _exhausted)
    status, err = _fuse(capsys, *pair, "-o", tmp_path / "o.png", "--weights", tiny_weights)
    assert status == 1 and len(err) == 1, err  # EXIT_FAILED, not 2 (bad input): scripts tell them apart
    assert err[0].startswith("defusion: error: out of memory (Unable to allocate 1.00 EiB")
    assert err[0].endswith("; lower --max-pixels to refuse inputs this large, fuse in tiles (--tile 512), or use "
                           "--scale 1 (the network on the sources as they are); a stack of many images: fuse it "
                           "in parts, then their results (defusion fuse says how before the work)")
    assert not (tmp_path / "o.png").exists()


def test_pytorchs_own_out_of_memory_is_one_line_and_other_errors_keep_their_traceback(capsys):
    """PyTorch's CPU allocator raises a RuntimeError over several lines; any other RuntimeError is a bug."""
    def torch_oom():
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate "
                           "memory: you tried to allocate 4437573632 bytes.\nError code 12")

    assert run_guarded(torch_oom, memory_hint="use less") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "can't allocate memory" in err and err.endswith("; use less\n")

    def bug():
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_guarded(bug)


def test_a_commands_failure_errors_exit_1_and_its_expected_errors_2(capsys):
    """A run that failed on good input (a training worker died) is told from bad input by its status."""
    from defusion.cli import train as train_cli
    from defusion.cli.errors import EXIT_FAILED, EXIT_USAGE, run_guarded
    from defusion.training.errors import DataWorkerError, DivergedError, JobFailedError

    def failing(exc):
        def fn():
            raise exc
        return fn

    for exc, status in ((DataWorkerError("a data loader worker died after step 3"), EXIT_FAILED),
                        (JobFailedError("the DDP job failed after step 2"), EXIT_FAILED),
                        (DivergedError("the loss diverged"), EXIT_USAGE)):
        assert run_guarded(failing(exc), train_cli.EXPECTED_ERRORS, failures=train_cli.FAILURE_ERRORS) == status
        err = capsys.readouterr().err.strip().splitlines()
        assert err == [f"defusion: error: {exc}"]
