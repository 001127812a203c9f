"""``--infrared N`` past the images is refused in the command line's terms, counted from 1 (a review of the
Python API round found ``infrared=2 (0-based ...)`` said to ``defusion video`` and to a --stacks group):
``defusion video`` before opening its inputs, ``fuse --stacks --group N`` before fusing a group, and a
group smaller than N (an --group run's remainder) by the fusion core in the same terms."""

from __future__ import annotations

import numpy as np

from defusion.cli.main import main
from defusion.io.writing import write_image


def test_video_refuses_an_infrared_past_its_two_inputs_before_opening_them(tmp_path, capsys):
    out = tmp_path / "out"
    # the inputs are not there: the refusal comes first, before a stream or a camera is waited for
    status = main(["video", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"), "-o", f"{out}/", "--palette", "inferno",
                   "--infrared", "3"])
    err = capsys.readouterr().err
    assert status == 2
    assert err == ("defusion: error: --infrared 3 was asked for, but defusion video fuses 2 inputs (A and B): give "
                   "--infrared 1 where A is the infrared one, 2 where B is\n")
    assert not out.exists()


def _shots(folder, count, rng) -> None:
    folder.mkdir()
    for i in range(count):
        write_image(folder / f"s{i + 1}.png", rng.integers(0, 256, (24, 32), dtype=np.uint8))


def test_stacks_refuse_an_infrared_past_each_group_up_front(tmp_path, rng, tiny_weights, capsys):
    _shots(tmp_path / "st", 2, rng)
    status = main(["fuse", "--stacks", str(tmp_path / "st"), "-o", str(tmp_path / "out"), "--palette", "inferno",
                   "--infrared", "3", "--group", "2", "--weights", str(tiny_weights), "--no-progress"])
    err = capsys.readouterr().err
    assert status == 2
    assert err == ("defusion: error: --infrared 3 was asked for, but --group 2 fuses runs of 2 shots: give --infrared "
                   "1 to 2 (the infrared image's place in each group)\n")


def test_a_group_smaller_than_the_infrared_asked_is_skipped_in_the_command_lines_terms(tmp_path, rng, tiny_weights,
                                                                                       capsys):
    _shots(tmp_path / "st", 5, rng)  # --group 3: s1-s3, then s4-s5, two shots
    status = main(["fuse", "--stacks", str(tmp_path / "st"), "-o", str(tmp_path / "out"), "--palette", "inferno",
                   "--infrared", "3", "--group", "3", "--weights", str(tiny_weights), "--scale", "1",
                   "--no-progress"])
    err = capsys.readouterr().err
    assert status == 1, err
    assert ("skipped s4-s5: --infrared 3 was asked for, but 2 images were given: give --infrared 1 to 2"
            in err), err
    assert "0-based" not in err and "infrared=" not in err
