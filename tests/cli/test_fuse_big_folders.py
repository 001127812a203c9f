"""`defusion fuse` folder modes (--a/--b, --stacks) on big inputs: before the model loads, one note where the
largest fusion takes many network passes and one warning where its peak memory is over what is available,
from the headers alone, each read once (single fusions too). Small images here: the thresholds are lowered."""

from __future__ import annotations

from collections import Counter

import pytest

from defusion.cli import fuse
from defusion.cli.errors import UserError
from defusion.cli.main import main
from defusion.fusion.options import FuseOptions
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: What the folder note and the memory warning say, and the tiles that make tiny images take many passes.
PASSES = "network passes at --scale"
IN_ALL = "network passes in all"
MEMORY = "GB is available"
STOPPED = "stopped where the model loads"
TILES = ("--scale", "2", "--tile", "72", "--overlap", "8")
#: The small images (height, width) and the large one, which takes more passes than them.
SMALL, LARGE = (48, 64), (96, 128)


pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")


@pytest.fixture
def pair_folders(tmp_path, rng):
    """--a and --b folders of three pairs, p2 the large one."""
    for stem, (h, w) in (("p1", SMALL), ("p2", LARGE), ("p3", SMALL)):
        for side in "ab":
            write_image(tmp_path / side / f"{stem}.png", smooth_image(rng, h, w))
    return tmp_path / "a", tmp_path / "b"


@pytest.fixture
def card(tmp_path, rng):
    """A --stacks folder of three groups of two shots (--group 2), s3-s4 the large one."""
    folder = tmp_path / "card"
    for i, (h, w) in enumerate((SMALL, SMALL, LARGE, LARGE, SMALL, SMALL), start=1):
        write_image(folder / f"s{i}.png", smooth_image(rng, h, w))
    return folder


def _fuse_pairs(folders, tmp_path, weights, *extra) -> int:
    a, b = folders
    return main(["fuse", "--a", str(a), "--b", str(b), "-o", str(tmp_path / "out"), "--weights", str(weights),
                 "--no-progress", *extra])


def _fuse_card(card, tmp_path, weights, *extra) -> int:
    return main(["fuse", "--stacks", str(card), "--group", "2", "-o", str(tmp_path / "out"), "--weights",
                 str(weights), "--no-progress", *extra])


def _stop_at_model(monkeypatch):
    """Stop the run where the model would load: what is said by then is said before it."""
    def refuse(*_args, **_kwargs):
        raise UserError(STOPPED)

    monkeypatch.setattr(fuse, "make_fuser", refuse)


def _passes(size: tuple[int, int], sources: int) -> int:
    """The passes of a fusion of ``sources`` images of ``size`` at :data:`TILES`."""
    return fuse.network_passes(FuseOptions.for_task(None, scale=2, tile=72, overlap=8), *size, sources)


def _lines(err: str, said: str) -> list[str]:
    return [line for line in err.splitlines() if said in line]


# 1. the note on many passes, before the model loads

def test_pairs_say_their_passes_and_the_largest_before_the_model_loads(pair_folders, tmp_path, tiny_weights,
                                                                       monkeypatch, capsys):
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights, *TILES) == 2
    err = capsys.readouterr().err
    [line] = _lines(err, IN_ALL)
    total = 2 * _passes(SMALL, 2) + _passes(LARGE, 2)
    assert line.startswith(f"defusion: note: 3 pairs to fuse, {total} {IN_ALL}; the largest, p2: 128x96 (")
    assert f"takes {_passes(LARGE, 2)} {PASSES} 2; --scale 1 takes" in line  # a single fusion's words
    assert err.index(IN_ALL) < err.index(STOPPED)


def test_a_card_says_its_passes_and_the_largest_group(card, tmp_path, tiny_weights, monkeypatch, capsys):
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_card(card, tmp_path, tiny_weights, *TILES) == 2
    err = capsys.readouterr().err
    [line] = _lines(err, IN_ALL)
    total = 2 * _passes(SMALL, 2) + _passes(LARGE, 2)
    assert line.startswith(f"defusion: note: 3 groups to fuse, {total} {IN_ALL}; the largest, s3-s4: 128x96 (")
    assert err.index(IN_ALL) < err.index(STOPPED)


def test_the_largest_is_by_pixels_times_sources(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """Three small shots hold more pixels than two a little larger: that group is the largest."""
    card = tmp_path / "card"
    for i, (h, w) in enumerate((SMALL, SMALL, SMALL, (56, 72), (56, 72)), start=1):
        write_image(card / f"s{i}.png", smooth_image(rng, h, w))
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert main(["fuse", "--stacks", str(card), "--group", "3", "-o", str(tmp_path / "out"), "--weights",
                 str(tiny_weights), *TILES]) == 2
    assert "the largest, s1-s3: 3 images of 64x48" in capsys.readouterr().err


def test_small_folder_runs_say_nothing(pair_folders, card, tmp_path, tiny_weights, monkeypatch, capsys):
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: 10 ** 15)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights) == 2
    assert _fuse_card(card, tmp_path, tiny_weights) == 2
    err = capsys.readouterr().err
    assert PASSES not in err and IN_ALL not in err and MEMORY not in err


def test_a_whole_folder_run_says_it_once(pair_folders, tmp_path, tiny_weights, monkeypatch, capsys):
    """Said once, before the run: not again for each pair (the single fusion's note is not said too)."""
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: 1_000_000)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights, *TILES) == 0
    err = capsys.readouterr().err
    assert len(_lines(err, PASSES)) == 1 and len(_lines(err, MEMORY)) == 1 and "fused 3 of 3 pairs" in err


def test_headers_that_do_not_tell_are_left_out_and_counted(pair_folders, tmp_path, tiny_weights, monkeypatch,
                                                           capsys):
    import defusion.io.probes as probes

    real = probes.header_size
    monkeypatch.setattr(probes, "header_size", lambda path: None if path.stem == "p2" else real(path))
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights, *TILES) == 2
    [line] = _lines(capsys.readouterr().err, IN_ALL)
    assert f"3 pairs to fuse, {2 * _passes(SMALL, 2)} {IN_ALL} besides those of 1 pair whose headers do not " \
           "tell their size; the largest, p1: " in line


def test_skip_existing_leaves_out_those_already_fused(pair_folders, tmp_path, rng, tiny_weights, monkeypatch,
                                                     capsys):
    write_image(tmp_path / "out" / "p2.png", smooth_image(rng, *LARGE))
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights, *TILES, "--skip-existing") == 2
    [line] = _lines(capsys.readouterr().err, IN_ALL)
    assert f"2 pairs to fuse, {2 * _passes(SMALL, 2)} {IN_ALL}; the largest, p1: " in line


# 2. the memory warning, before the model loads

@pytest.mark.parametrize("mode", ["pairs", "stacks"])
def test_memory_over_what_is_available_is_warned_once(mode, pair_folders, card, tmp_path, tiny_weights,
                                                      monkeypatch, capsys):
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: 1_000_000)
    _stop_at_model(monkeypatch)
    run = _fuse_pairs(pair_folders, tmp_path, tiny_weights) if mode == "pairs" else \
        _fuse_card(card, tmp_path, tiny_weights)
    assert run == 2
    err = capsys.readouterr().err
    [line] = _lines(err, MEMORY)
    largest = "the largest pair, p2," if mode == "pairs" else "the largest group, s3-s4,"
    assert line.startswith(f"defusion: warning: {largest} may need about ") and line.endswith(fuse.PEAK_MEMORY_HINT)
    assert err.index(MEMORY) < err.index(STOPPED)


def test_the_warning_weighs_the_largest_fusion(pair_folders, tmp_path, tiny_weights, monkeypatch, capsys):
    """Memory between the small pairs' peak and the large one's: warned, naming the large one."""
    options = FuseOptions.for_task(None)
    small, large = (fuse.peak_memory(h * w, 2, options.scale) for h, w in (SMALL, LARGE))
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: (small + large) // 2)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights) == 2
    assert "the largest pair, p2, may need about" in capsys.readouterr().err


# 3. each header read once

def _count_header_reads(monkeypatch) -> Counter:
    """Count the header reads of each file, through io.probes and through io.shots (the shots' settings)."""
    import defusion.io.probes as probes
    import defusion.io.shots as shots

    reads, real = Counter(), probes.header_size

    def counting(source):
        reads[str(source)] += 1
        return real(source)

    monkeypatch.setattr(probes, "header_size", counting)
    monkeypatch.setattr(shots, "header_size", counting)
    return reads


@pytest.mark.parametrize("task", [[], ["--task", "mef"]])  # the shots' settings read, and not read
def test_a_card_reads_each_header_once(task, card, tmp_path, tiny_weights, monkeypatch, capsys):
    reads = _count_header_reads(monkeypatch)
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_card(card, tmp_path, tiny_weights, *TILES, *task) == 2
    assert IN_ALL in capsys.readouterr().err and reads and max(reads.values()) == 1, reads


def test_pairs_read_each_header_once(pair_folders, tmp_path, tiny_weights, monkeypatch, capsys):
    reads = _count_header_reads(monkeypatch)
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert _fuse_pairs(pair_folders, tmp_path, tiny_weights, *TILES) == 2
    assert IN_ALL in capsys.readouterr().err and reads and max(reads.values()) == 1, reads


@pytest.mark.parametrize("extra", [[], ["--resize"]])  # the size check reads every header, or none
def test_a_single_fusion_reads_each_header_once(extra, tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """The size note takes the first source's size from the size check (it read it again, once)."""
    pair = [write_image(tmp_path / f"{n}.png", smooth_image(rng, *SMALL)) for n in "ab"]
    reads = _count_header_reads(monkeypatch)
    monkeypatch.setattr(fuse.size_notes, "MANY_PASSES", 2)
    _stop_at_model(monkeypatch)
    assert main(["fuse", *map(str, pair), "-o", str(tmp_path / "f.png"), "--weights", str(tiny_weights),
                 "--task", "mef", *TILES, *extra]) == 2
    assert PASSES in capsys.readouterr().err
    assert reads[str(pair[0])] == 1 and max(reads.values()) == 1, reads
