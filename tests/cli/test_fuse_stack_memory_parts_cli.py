"""A focus stack over the memory available (a macro photographer's audit: 40 shots of 24 MP, "may need about
35.5 GB ... 21.4 GB is available: fuse smaller images, use --runtime torch"): every shot is held at once, so
what lowers a stack's peak is fusing it in parts, then their results; the warning says so first, naming
the parts, and only for 3 or more images. Small images here: the memory available is set instead."""

from __future__ import annotations

import pytest

from defusion.cli import fuse, job_size
from defusion.cli.errors import UserError
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

pytestmark = pytest.mark.usefixtures("one_torch_thread", "fresh_notes")

SIDE = (48, 64)
PIXELS = SIDE[0] * SIDE[1]
STOPPED = "stopped where the model loads"
MEMORY = "GB is available"


def _shots(folder, rng, count):
    return [write_image(folder / f"F_{i}.png", smooth_image(rng, *SIDE)) for i in range(count)]


def _stop_at_model(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise UserError(STOPPED)

    monkeypatch.setattr(fuse, "make_fuser", refuse)


def _room_for(monkeypatch, images: int, scale: int = 1) -> None:
    """Memory available for a fusion of ``images`` of SIDE at ``scale`` (--task mff's 1), and not one more."""
    monkeypatch.setattr(fuse.size_notes, "available_memory", lambda: job_size.peak_memory(PIXELS, images, scale) + 1)


def _memory_line(capsys) -> str:
    return next(line for line in capsys.readouterr().err.splitlines() if MEMORY in line)


def test_a_stack_over_memory_is_told_to_fuse_in_parts_first(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    shots = _shots(tmp_path, rng, 4)
    _room_for(monkeypatch, 2)
    _stop_at_model(monkeypatch)
    assert main(["fuse", *map(str, shots), "--task", "mff", "-o", str(tmp_path / "out.tif"),
                 "--weights", str(tiny_weights)]) == 2
    line = _memory_line(capsys)
    assert line.startswith("defusion: warning: this fusion may need about ")
    assert "4 images are held at once" in line
    assert "fuse them in 2 parts of 2 (F_0.png-F_1.png, F_2.png-F_3.png) into PNG or TIFF files, then fuse the " \
           "2 results (the pairs one run fuses: --stack balanced fuses halves, then their results)" in line
    peak = job_size.peak_memory(PIXELS, 2, 1) / 1e9
    assert f"each fusion may peak at about {peak:.1f} GB; else {job_size.PEAK_MEMORY_HINT}" in line
    assert line.endswith(job_size.PEAK_MEMORY_HINT)
    _room_for(monkeypatch, 1)  # not even a pair fits: no parts to name
    assert main(["fuse", *map(str, shots), "--task", "mff", "-o", str(tmp_path / "out.tif"),
                 "--weights", str(tiny_weights)]) == 2
    line = _memory_line(capsys)
    assert line.endswith(f"is available: {job_size.PEAK_MEMORY_HINT}") and "parts" not in line


def test_parts_fused_in_another_order_are_not_said_to_fuse_the_same_pairs(tmp_path, rng, tiny_weights,
                                                                          monkeypatch, capsys):
    """--task mef sorts a bracket by brightness, so parts taken in file order are not its halves."""
    shots = _shots(tmp_path, rng, 4)
    _room_for(monkeypatch, 2, scale=2)  # --task mef's
    _stop_at_model(monkeypatch)
    assert main(["fuse", *map(str, shots), "--task", "mef", "-o", str(tmp_path / "out.tif"),
                 "--weights", str(tiny_weights)]) == 2
    line = _memory_line(capsys)
    assert "fuse them in 2 parts of 2" in line and "the pairs one run fuses" not in line


def test_a_card_names_the_parts_of_its_largest_group(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    card = tmp_path / "card"
    _shots(card, rng, 6)
    _room_for(monkeypatch, 2)
    _stop_at_model(monkeypatch)
    assert main(["fuse", "--stacks", str(card), "--group", "3", "-o", str(tmp_path / "out"), "--task", "mff",
                 "--weights", str(tiny_weights), "--no-progress"]) == 2
    line = _memory_line(capsys)
    assert line.startswith("defusion: warning: the largest group, F_0-F_2, may need about ")
    assert "3 images are held at once" in line and "fuse them in 2 parts of 1 or 2 (F_0.png-F_1.png, F_2.png)" in line


def test_too_many_parts_for_one_level_are_fused_in_rounds():
    names = [f"H_{i:02d}.jpg" for i in range(40)]
    most = 5  # 8 parts of 5 would make a fusion of 8 results
    available = job_size.peak_memory(PIXELS, most, 1) + 1
    said = job_size.stack_advice(names, PIXELS, 1, available, True)
    assert said.endswith("fuse them in parts of at most 5 into PNG or TIFF files, then fuse those results the same "
                         "way")


def _balanced_level(count: int, depth: int) -> list[int]:
    """The sizes of the fusion core's --stack balanced tree's nodes ``depth`` levels down (a lone image
    carried down as it is), by its own split_point."""
    from defusion.fusion.stacking import split_point

    level = [count]
    for _ in range(depth):
        level = [k for n in level for k in ((split_point(n, "balanced"), n - split_point(n, "balanced"))
                                            if n > 1 else (n,))]
    return level


@pytest.mark.parametrize("count", range(3, 41))
def test_parts_said_to_fuse_the_same_pairs_are_the_fusion_cores_halves(count):
    for most in range(2, count):
        found = job_size.stack_parts(count, most)
        if found is None:
            continue
        parts, halves = found
        assert sum(parts) == count and max(parts) <= most and len(parts) <= most
        if halves:
            depth = (len(parts) - 1).bit_length()
            assert parts == _balanced_level(count, depth) and len(parts) == 2 ** depth
