"""``defusion fuse --stacks`` on shots further apart than --gap (a focus rail settles 3 s between shots,
--gap's default is 2): the error, and the note where other groups are fused, name the --gap that groups
them (and --group N only where its runs are those groups), and the shots left alone take one line past
a few, not one each (a macro photographer's audit: five "group of one shot" lines, then "try --group N")."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path

from defusion.cli.errors import EXIT_USAGE
from defusion.cli.fuse.arguments import DEFAULT_GAP
from defusion.cli.fuse.folder_jobs import LONE_NAMED, stack_groups
from defusion.cli.main import main
from tests.io.test_shots import write_shot

T = datetime(2026, 6, 1, 12)
#: A focus rail's shots: 1/160 s each, 3 s apart (its settle time), over --gap's default.
RAIL_EXPOSURE = (1, 160)
RAIL_STEP_S = 3.0


def _card(folder: Path, seconds: list[float], prefix: str = "R") -> Path:
    for i, s in enumerate(seconds):
        write_shot(folder / f"{prefix}_{i:02d}.jpg", T + timedelta(seconds=s), RAIL_EXPOSURE, value=20 + 10 * i)
    return folder


def _rail(count: int, start: float = 0.0) -> list[float]:
    return [start + RAIL_STEP_S * i for i in range(count)]


def _error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: error: ")]


def _groups(card: Path, capsys) -> tuple[list[list[str]], str]:
    args = argparse.Namespace(stacks=card, group="auto", gap=DEFAULT_GAP)
    groups = stack_groups(args)
    return [[p.name for p in g] for g in groups], capsys.readouterr().err


def test_a_rail_stack_names_the_gap_that_groups_it_and_says_its_lone_shots_once(tmp_path, capsys):
    card = _card(tmp_path / "rail", _rail(5))
    assert main(["fuse", "--stacks", str(card), "-o", str(tmp_path / "out"), "--task", "mff"]) == EXIT_USAGE
    err = capsys.readouterr().err
    lone = [line for line in err.splitlines() if "group of one" in line]
    assert lone == ["defusion: warning: 5 shots are each a group of one (R_00.jpg, R_01.jpg, R_02.jpg and 2 more): "
                    "nothing to fuse them with; skipped"]
    [error] = _error_lines(err)
    assert "its shots are 3.0 s apart" in error
    assert error.endswith("try --gap 3, which makes 1 group of 5 shots (or --group 5: runs of 5 in name order)")
    assert "--group N" not in error
    assert [len(g) for g in stack_groups(argparse.Namespace(stacks=card, group="auto", gap=3.0))] == [5]


def test_stacks_of_different_lengths_get_the_gap_and_no_group_n(tmp_path, capsys):
    card = _card(tmp_path / "rail", _rail(4) + _rail(6, start=60))
    assert main(["fuse", "--stacks", str(card), "-o", str(tmp_path / "out"), "--task", "mff"]) == EXIT_USAGE
    [error] = _error_lines(capsys.readouterr().err)
    assert error.endswith("try --gap 3, which makes 2 groups of 4 or 6 shots") and "--group" not in error


def test_a_rail_whose_pauses_vary_gets_a_gap_over_the_longest(tmp_path, capsys):
    """2.6, 3.4 and 3.0 s: --gap 3 would leave a shot alone again; the gap named spans them all."""
    card = _card(tmp_path / "rail", [0, 2.6, 6.0, 9.0])
    assert main(["fuse", "--stacks", str(card), "-o", str(tmp_path / "out"), "--task", "mff"]) == EXIT_USAGE
    [error] = _error_lines(capsys.readouterr().err)
    assert "its shots are 2.6-3.4 s apart" in error and "try --gap 4, which makes 1 group of 4 shots" in error


def test_lone_shots_beside_fused_groups_get_a_note_naming_the_gap(tmp_path, capsys):
    """A bracket fused as it is (0.3 s apart), then a rail's stack whose shots are each left alone."""
    card = _card(tmp_path / "card", [0, 0.3, 0.6] + _rail(4, start=20))
    groups, err = _groups(card, capsys)
    assert groups == [["R_00.jpg", "R_01.jpg", "R_02.jpg"]]
    assert err.count("group of one") == 1  # 4 lone shots: one line
    note = next(line for line in err.splitlines() if line.startswith("defusion: note: the 4 shots left alone"))
    assert "are 3.0 s from the next" in note and note.endswith("try --gap 3, which makes 2 groups of 3 or 4 shots")
    # two brackets and a single frame 39 s on: no --gap groups it without joining the brackets, so none is named
    card = _card(tmp_path / "other", [0, 0.3, 0.6, 20, 20.4, 20.8, 60])
    groups, err = _groups(card, capsys)
    assert [len(g) for g in groups] == [3, 3]
    assert "R_06.jpg is a group of one shot: nothing to fuse it with; skipped" in err
    assert "--gap" not in err


def test_lone_shots_are_said_a_line_each_up_to_a_few_then_in_one(tmp_path, capsys):
    for count in (LONE_NAMED, LONE_NAMED + 1):
        card = _card(tmp_path / f"card{count}", [0, 0.3] + [100.0 * (i + 1) for i in range(count)])
        _, err = _groups(card, capsys)
        lines = [line for line in err.splitlines() if "group of one" in line]
        assert len(lines) == (count if count <= LONE_NAMED else 1), lines
