"""`defusion fuse`'s progress and last line, as a newcomer's audit found them:

- a 3-shot bracket's bar said "pairs: 1/2 pairs (50%)", never its end, before "wrote f.png"; now one bar
  of network passes, "fusing: 2/2 passes", at its total before that line;
- --stacks in a log alternated "pairs: 1/2 pairs" and "fusing: 1/2 groups" lines; now the groups alone
  (a terminal nests each group's bar, named, under the run's, and clears it);
- ``--components parts/`` wrote three images unsaid ("wrote f.tif"); ``-o newdir/sub/f.png`` said it made
  "newdir" though it made newdir/sub.
"""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.io import progress
from defusion.io.images import write_image
from tests.conftest import smooth_image

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")

#: Small sources: one network pass a pair at --tile 0 (the tests' sources, but the tiled one's).
HEIGHT, WIDTH = 48, 64
#: A tiled fusion's sources, tiles and overlap: several passes at --scale 1, each fast for the tiny network.
TILED_HEIGHT, TILED_WIDTH, TILE, OVERLAP = 96, 128, 64, 16


@pytest.fixture
def slow_clock(monkeypatch):
    """Each reading of the progress lines' clock is 10 s after the last: every bar's first step is slow
    (progress.FIRST_LINE_SECONDS), so each bar there is says a line."""
    ticks = itertools.count()
    monkeypatch.setattr(progress, "time", SimpleNamespace(monotonic=lambda: 10.0 * next(ticks)))


def _logged(tmp_path: Path, monkeypatch, *args) -> tuple[int, list[str]]:
    """`defusion fuse ARGS` with stderr a file, as `2> log` makes it: the exit status and the log's lines."""
    log = tmp_path / "log.txt"
    with open(log, "w", encoding="utf-8") as stream, monkeypatch.context() as m:
        m.setattr(sys, "stderr", stream)
        status = main(["fuse", *map(str, args)])
    return status, log.read_text(encoding="utf-8").splitlines()


def _shots(folder: Path, rng, count: int, prefix: str = "ev", size: tuple[int, int] = (HEIGHT, WIDTH)) -> list[Path]:
    return [write_image(folder / f"{prefix}{i}.png", smooth_image(rng, *size)) for i in range(count)]


# 1. one bar of passes that ends before "wrote"

def test_a_bracket_logs_its_passes_to_their_total_before_wrote(tmp_path, rng, tiny_weights, monkeypatch, slow_clock):
    shots = _shots(tmp_path, rng, 3)
    status, lines = _logged(tmp_path, monkeypatch, *shots, "-o", tmp_path / "f.png", "--task", "mef",
                            "--weights", tiny_weights, "--tile", "0")
    assert status == 0, lines
    bar = [line for line in lines if line.startswith("fusing: ")]
    assert bar and bar[-1].startswith("fusing: 2/2 passes (100%), "), lines
    assert lines.index(bar[-1]) == len(lines) - 2 and lines[-1] == f"wrote {tmp_path / 'f.png'}", lines
    assert not any("pair" in line for line in lines), lines


def test_a_tiled_bracket_counts_tiles_times_pairs_as_passes(tmp_path, rng, tiny_weights, monkeypatch, slow_clock):
    from defusion import FuseOptions, Fuser, create_model

    shots = _shots(tmp_path, rng, 3, size=(TILED_HEIGHT, TILED_WIDTH))
    status, lines = _logged(tmp_path, monkeypatch, *shots, "-o", tmp_path / "f.png", "--task", "mef",
                            "--weights", tiny_weights, "--tile", TILE, "--overlap", OVERLAP, "--scale", "1")
    fuser = Fuser(create_model("defusion-tiny"), options=FuseOptions(scale=1, tile=TILE, overlap=OVERLAP))
    passes = fuser.tiles_for(TILED_HEIGHT, TILED_WIDTH) * 2
    assert status == 0 and passes > 2, lines
    assert lines[-2].startswith(f"fusing: {passes}/{passes} passes (100%), "), lines


def test_a_stack_with_a_flat_shot_left_out_still_ends_its_bar(tmp_path, rng, tiny_weights, monkeypatch, slow_clock):
    """--task mff leaves a flat (misfire) shot out: the passes it would have taken never run, and the bar
    (counted before the fusion) ends at the passes that did."""
    shots = _shots(tmp_path, rng, 2)
    flat = write_image(tmp_path / "flat.png", np.full((HEIGHT, WIDTH, 3), 128, np.uint8))
    status, lines = _logged(tmp_path, monkeypatch, *shots, flat, "-o", tmp_path / "f.png", "--task", "mff",
                            "--weights", tiny_weights, "--tile", "0")
    assert status == 0, lines
    assert any("left out" in line for line in lines), lines
    assert lines[-2].startswith("fusing: 1/1 pass (100%), ") and lines[-1].startswith("wrote "), lines


def test_a_stacks_log_has_the_groups_lines_alone(tmp_path, rng, tiny_weights, monkeypatch, slow_clock):
    card = tmp_path / "card"
    _shots(card, rng, 6, prefix="IMG_")
    status, lines = _logged(tmp_path, monkeypatch, "--stacks", card, "-o", tmp_path / "fused", "--task", "mef",
                            "--group", "3", "--weights", tiny_weights, "--tile", "0")
    assert status == 0, lines
    counts = [line for line in lines if "/2 " in line and "%" in line]
    assert counts and all(line.startswith("fusing: ") and " groups (" in line for line in counts), lines
    assert counts[-1].startswith("fusing: 2/2 groups (100%)"), lines
    assert not any("pass" in line or "pairs" in line for line in lines), lines


def test_a_terminal_nests_each_groups_named_bar_and_clears_it(tmp_path, rng, tiny_weights, monkeypatch):
    made = []
    real = progress.progress_bar

    def recorded(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(progress, "is_terminal", lambda _stream: True)
    monkeypatch.setattr(progress, "progress_bar", recorded)
    card = tmp_path / "card"
    _shots(card, rng, 6, prefix="IMG_")
    assert main(["fuse", "--stacks", str(card), "-o", str(tmp_path / "fused"), "--task", "mef", "--group", "3",
                 "--weights", str(tiny_weights), "--tile", "0"]) == 0
    assert [(bar["desc"], bar["unit"], bar["total"], bar["leave"], bar["position"]) for bar in made] == [
        ("IMG_0-IMG_2", "pass", 2, False, 1), ("IMG_3-IMG_5", "pass", 2, False, 1)]


def test_a_lone_fusion_s_bar_is_left_at_its_end_on_a_terminal(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    monkeypatch.setattr(progress, "is_terminal", lambda _stream: True)
    shots = _shots(tmp_path, rng, 3)
    assert main(["fuse", *map(str, shots), "-o", str(tmp_path / "f.png"), "--task", "mef", "--weights",
                 str(tiny_weights), "--tile", "0"]) == 0
    err = capsys.readouterr().err
    last_bar = err.rsplit("\r", 1)[-1]  # what stays drawn once the bar closes, and the lines after it
    assert last_bar.startswith("fusing: 100%") and "| 2/2 [" in last_bar, err
    assert last_bar.splitlines()[-1] == f"wrote {tmp_path / 'f.png'}", err


# 2. the last line says what was written, and the folders made as they are

def test_components_are_said_in_the_last_line(tmp_path, rng, tiny_weights, capsys):
    a, b = _shots(tmp_path, rng, 2)
    parts = tmp_path / "parts"
    parts.mkdir()
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.tif"), "--components", str(parts),
                 "--weights", str(tiny_weights), "--no-progress"]) == 0
    assert capsys.readouterr().err.endswith(f"wrote {tmp_path / 'f.tif'} and 3 components in {parts}{os.sep}\n")
    assert sorted(p.name for p in parts.iterdir()) == ["common.tif", "unique_a.tif", "unique_b.tif"]


def test_components_with_a_decision_map_and_a_source_map_are_all_said(tmp_path, rng, tiny_weights, capsys):
    a, b = _shots(tmp_path, rng, 2)
    parts, depth = tmp_path / "parts", tmp_path / "maps" / "depth.png"
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--components", str(parts), "--task", "mff",
                 "--source-map", str(depth), "--weights", str(tiny_weights), "--no-progress"]) == 0
    assert capsys.readouterr().err.endswith(
        f"wrote {tmp_path / 'f.png'}, {depth} and 3 components with the decision map in {parts}{os.sep} "
        f"(made the folders {depth.parent} and {parts}, which did not exist)\n")
    assert len(list(parts.iterdir())) == 4 and depth.is_file()


def test_the_folder_made_is_named_whole(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    a, b = (p.name for p in _shots(tmp_path, rng, 2))
    out = Path("newdir", "sub", "f.png")
    assert main(["fuse", a, b, "-o", str(out), "--weights", str(tiny_weights), "--no-progress"]) == 0
    assert capsys.readouterr().err.endswith(f"wrote {out} (made the folder {out.parent}, which did not exist)\n")


def test_a_folder_run_names_the_output_folder_it_made_whole(tmp_path, rng, tiny_weights, capsys):
    card = tmp_path / "card"
    _shots(card, rng, 4, prefix="IMG_")
    out = tmp_path / "fused" / "day1"
    assert main(["fuse", "--stacks", str(card), "--group", "2", "-o", str(out), "--weights", str(tiny_weights),
                 "--no-progress"]) == 0
    assert capsys.readouterr().err.endswith(f"fused 2 of 2 groups into {out} (made the folder {out}, which did "
                                            "not exist)\n")
