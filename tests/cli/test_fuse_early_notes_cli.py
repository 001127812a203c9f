"""`defusion fuse` on big photos, as a newcomer audit found it: a 24 MP bracket took 204 network passes
(over an hour) with no word before them, a 96 MP pair ran towards 20 GB unwarned, and a missing input
took seconds (PyTorch's import) to be told. Small images here: the thresholds are lowered instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from defusion.cli import fuse, job_size
from defusion.cli.errors import UserError
from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.io.notes import as_lines
from tests.conftest import smooth_image

#: Where a note on many passes starts (its size) and what it says at --scale 2.
PASSES = "network passes at --scale"
SCALE_ONE = "--scale 1 takes"


pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")


@pytest.fixture
def pair(tmp_path, rng):
    return [write_image(tmp_path / f"{n}.png", smooth_image(rng, 48, 64)) for n in "ab"]


def _fuse(pair, tmp_path, weights, *extra) -> int:
    return main(["fuse", *map(str, pair), "-o", str(tmp_path / "out.png"), "--weights", str(weights), *extra])


def _stop_at_model(monkeypatch):
    """Stop the run where the model would load: what is said by then is said before it."""
    def refuse(*_args, **_kwargs):
        raise UserError("stopped where the model loads")

    monkeypatch.setattr(fuse, "make_fuser", refuse)


# 1. a fusion of many passes says so before the first one (and before the model loads)

def test_many_passes_are_told_before_the_model_loads(pair, tmp_path, tiny_weights, monkeypatch, capsys):
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse(pair, tmp_path, tiny_weights, "--scale", "2", "--tile", "72", "--overlap", "8") == 2
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if PASSES in line)
    assert line.startswith("defusion: note: 64x48 (") and SCALE_ONE in line and "own resolution" in line
    assert err.index(PASSES) < err.index("stopped where the model loads")


def test_the_note_counts_the_passes_the_fusion_takes(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """The passes said are the progress bar's total, and --scale 1's are what that run takes."""
    pair = [write_image(tmp_path / f"{n}.png", smooth_image(rng, 96, 128)) for n in "ab"]  # tiled at --scale 1 too
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    totals = []
    real = fuse.fusing.tile_progress

    def counting(fuser, images, args, *rest):
        totals.append(fuser.tiles_for(*images[0].shape[:2]) * (len(images) - 1))
        return real(fuser, images, args, *rest)

    monkeypatch.setattr(fuse.fusing, "tile_progress", counting)
    tiles = ("--tile", "72", "--overlap", "8", "--no-progress")
    assert _fuse(pair, tmp_path, tiny_weights, "--scale", "2", *tiles) == 0
    err = capsys.readouterr().err
    assert f"takes {totals[0]} {PASSES} 2" in err
    said_at_one = int(err.split(SCALE_ONE)[1].split()[0])
    assert _fuse(pair, tmp_path, tiny_weights, "--scale", "1", *tiles) == 0
    assert said_at_one == totals[1] < totals[0]
    at_one = capsys.readouterr().err
    assert f"takes {totals[1]} {PASSES} 1" in at_one and SCALE_ONE not in at_one  # no hint at --scale 1
    assert err.count(PASSES) == 1


def test_few_passes_are_not_told(pair, tmp_path, tiny_weights, capsys):
    assert _fuse(pair, tmp_path, tiny_weights, "--no-progress") == 0
    assert PASSES not in capsys.readouterr().err


def test_a_header_that_does_not_tell_is_told_after_reading(pair, tmp_path, tiny_weights, monkeypatch, capsys):
    """A camera raw file's size is LibRaw's to say: the note comes once it is read, before the fusion."""
    import defusion.io.probes as probes

    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    monkeypatch.setattr(probes, "header_size", lambda _source: None)
    assert _fuse(pair, tmp_path, tiny_weights, "--scale", "2", "--tile", "72", "--overlap", "8", "--no-progress") == 0
    assert capsys.readouterr().err.count(PASSES) == 1


def test_the_bar_shows_from_zero_before_the_first_pass(pair, tmp_path, tiny_weights, monkeypatch, capsys):
    """The bar is drawn at 0 of its total as it is made (no tqdm delay), not at the first pass's end (on a
    terminal: a log gets lines, :mod:`defusion.io.progress`)."""
    from defusion.fusion.fuser import Fuser
    from defusion.io import progress

    monkeypatch.setattr(progress, "is_terminal", lambda _stream: True)
    seen = []
    real = Fuser._project

    def first_pass(self, *args, **kwargs):
        if not seen:
            seen.append(capsys.readouterr().err)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Fuser, "_project", first_pass)
    assert _fuse(pair, tmp_path, tiny_weights, "--scale", "2", "--tile", "72", "--overlap", "8") == 0
    assert "fusing:   0%" in seen[0] and "| 0/" in seen[0]


# 2. memory

def test_memory_over_what_is_available_is_warned_before_the_work(pair, tmp_path, tiny_weights, monkeypatch,
                                                                 capsys):
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: 1_000_000)
    _stop_at_model(monkeypatch)
    assert _fuse(pair, tmp_path, tiny_weights) == 2
    err = capsys.readouterr().err
    line = next(line for line in err.splitlines() if "GB is available" in line)
    assert line.startswith("defusion: warning: this fusion may need about ") and line.endswith(fuse.PEAK_MEMORY_HINT)
    assert err.index("GB is available") < err.index("stopped where the model loads")


@pytest.mark.parametrize("available", [None, 10 ** 15])
def test_enough_or_unknown_memory_is_not_warned(pair, tmp_path, tiny_weights, monkeypatch, capsys, available):
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: available)
    assert _fuse(pair, tmp_path, tiny_weights, "--no-progress") == 0  # a warning only: the fusion runs
    assert "GB is available" not in capsys.readouterr().err


def test_available_memory_reads_meminfo(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:         1000 kB\nMemAvailable:   17000000 kB\n",
                       encoding="utf-8")
    monkeypatch.setattr(job_size, "MEMINFO", meminfo)
    monkeypatch.setattr(job_size, "PROC_CGROUP", tmp_path / "no-cgroup")  # this test's machine: no container limit
    assert job_size.available_memory() == 17_000_000 * 1024
    meminfo.write_text("MemTotal:       24000000 kB\n", encoding="utf-8")  # a kernel before 3.14
    assert job_size.available_memory() is None
    monkeypatch.setattr(job_size, "MEMINFO", tmp_path / "none")  # not Linux
    assert job_size.available_memory() is None


def test_peak_memory_grows_with_pixels_and_sources():
    small, big = job_size.peak_memory(2_000_000, 2, 2), job_size.peak_memory(96_000_000, 2, 2)
    assert job_size.PEAK_MEMORY_FIT[2][0] < small < big < job_size.peak_memory(96_000_000, 3, 2)
    assert job_size.peak_memory(96_000_000, 2, 4) == big  # scales past those measured: the largest one's figure
    assert 1.27e9 <= job_size.peak_memory(6_000_000, 2, 1) < 1.5e9  # a 6 MP pair peaked at 1.27 GB (mff; the fit of 2026-12-07 keeps 12 MP, 1.90 GB, under it too)
    assert 1.17e9 <= job_size.peak_memory(6_000_000, 2, 2) < 1.3e9  # and at 1.17 GB (mef): fitted on the safe side


def test_a_96_mp_pair_is_warned_where_4_gb_are_available(monkeypatch, capsys):
    """The audit's case: 12000x8000 under the default --max-pixels (about 5.6 GB at --task mef since the
    images' buffers were slimmed, 22 GB before), on a machine with 4 GB available."""
    from defusion.fusion.options import FuseOptions

    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: 4_000_000_000)
    with as_lines():  # as defusion fuse says it
        fuse.size_notes.say_size(FuseOptions.for_task("mef"), 8000, 12000, 2)
    err = capsys.readouterr().err
    assert "12000x8000 (96.0 MP) takes" in err and "GB of memory at its peak, and 4.0 GB is available" in err


# 4. a missing input is told before the fusion core is imported

def _run_in_fresh_python(*args: str) -> tuple[int, str, bool]:
    """`defusion ARGS` in a new interpreter: (exit status, stderr, whether torch was imported)."""
    code = ("import sys\nfrom defusion.cli.main import main\nstatus = main(sys.argv[1:])\n"
            "print(json.dumps(['torch' in sys.modules, 'onnxruntime' in sys.modules]))\nsys.exit(status)")
    proc = subprocess.run([sys.executable, "-c", "import json\n" + code, *args], capture_output=True, text=True,
                          timeout=120, encoding="utf-8")
    return proc.returncode, proc.stderr, any(json.loads(proc.stdout))


def test_a_missing_input_is_told_without_importing_torch(tmp_path):
    status, err, heavy = _run_in_fresh_python("fuse", str(tmp_path / "nope.png"), str(tmp_path / "n2.png"),
                                              "-o", str(tmp_path / "x.png"))
    assert status == 2 and not heavy
    assert err == f"defusion: error: {tmp_path / 'nope.png'}: no such file\n"


def test_the_second_missing_input_is_told_too(pair, tmp_path, capsys):
    assert main(["fuse", str(pair[0]), str(tmp_path / "n2.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == f"defusion: error: {tmp_path / 'n2.png'}: no such file\n"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_an_input_that_is_not_a_file_is_told(pair, tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.png")
    assert main(["fuse", str(pair[0]), str(tmp_path / "pipe.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == f"defusion: error: {tmp_path / 'pipe.png'}: is not a file\n"


def test_an_unreadable_input_is_told(pair, tmp_path, monkeypatch, capsys):
    """As a user without read permission sees it (root, running the tests, reads any file)."""
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if str(path) == str(pair[1]) else real(path, mode))
    assert main(["fuse", *map(str, pair), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err == f"defusion: error: {pair[1]}: cannot be read (permission denied)\n"
