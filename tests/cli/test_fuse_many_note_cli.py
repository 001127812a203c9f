"""`defusion fuse` with more than two images and no --task says which task fits, where no EXIF told what
the images are (PNGs, exported frames): the general defaults fuse a bracket or stack brighter and softer."""

from __future__ import annotations

import pytest

from defusion.cli.fuse import MANY_WITHOUT_TASK
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SAID = MANY_WITHOUT_TASK.format(count=3)


pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")


def _frames(folder, rng, count: int) -> list:
    scene = smooth_image(rng, 24, 32)
    return [write_image(folder / f"f{i}.png", (scene * (0.5 + i / 4)).clip(0, 255).astype("uint8"))
            for i in range(count)]


@pytest.mark.parametrize("extra, noted", [((), True), (("--task", "mef"), False), (("--task", "mff"), False),
                                          (("--pixels", "network"), False)])
def test_three_pngs_without_a_task_are_told_one(tmp_path, rng, tiny_weights, capsys, extra, noted):
    frames = _frames(tmp_path, rng, 3)
    assert main(["fuse", *map(str, frames), "-o", str(tmp_path / "out.png"), "--weights", str(tiny_weights),
                 "--no-progress", "--scale", "1", *extra]) == 0
    err = capsys.readouterr().err
    assert (SAID in err) is noted and err.count("general defaults") <= 1


def test_a_pair_is_not_told(tmp_path, rng, tiny_weights, capsys):
    frames = _frames(tmp_path, rng, 2)
    assert main(["fuse", *map(str, frames), "-o", str(tmp_path / "out.png"), "--weights", str(tiny_weights),
                 "--no-progress", "--scale", "1"]) == 0
    assert "general defaults" not in capsys.readouterr().err


def test_a_stacks_run_names_every_folder_it_made(tmp_path, rng, tiny_weights, capsys):
    """--source-map takes a folder with --stacks too (one depth map per group); a mistyped one must not
    pass unseen, as -o's does not."""
    card = tmp_path / "card"
    card.mkdir()
    _frames(card, rng, 4)
    out, maps = tmp_path / "fused", tmp_path / "maps"
    assert main(["fuse", "--stacks", str(card), "--group", "2", "--task", "mff", "-o", str(out),
                 "--source-map", str(maps), "--weights", str(tiny_weights), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"(made the folders {out} and {maps}, which did not exist)" in err
    assert sorted(p.name for p in maps.iterdir()) == ["f0-f1.png", "f2-f3.png"]
