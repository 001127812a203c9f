"""`defusion fuse --deghost` on an infrared + visible pair (a web-UI user's audit): deghosting compares
the images' content, which an infrared and a visible image do not share, so it replaced 77.9% of TNO
pair 01's visible image with only a note said; now a warning, in the web page's words."""

from __future__ import annotations

import pytest

from defusion.cli.main import main
from defusion.fusion.deghost import CONTENT_NOT_SHARED
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: The line the command says, as the web page says it after its own name for the option.
WARNING = f"defusion: warning: --deghost {CONTENT_NOT_SHARED}"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _pair(tmp_path, rng) -> list:
    """A colour "visible" image and an unrelated grey "infrared" one (no content in common)."""
    return [write_image(tmp_path / "vis.png", smooth_image(rng, 48, 64)),
            write_image(tmp_path / "ir.png", smooth_image(rng, 48, 64, channels=1))]


@pytest.mark.parametrize("task, warned", [("ivf", True), ("mef", False), (None, False)])
def test_deghost_on_an_infrared_visible_pair_is_a_warning(tmp_path, rng, tiny_weights, capsys, fresh_notes, task,
                                                          warned):
    task_args = ["--task", task] if task else []
    assert main(["fuse", *map(str, _pair(tmp_path, rng)), *task_args, "--deghost", "-o", str(tmp_path / "f.png"),
                 "--weights", str(tiny_weights), "--no-progress", "--scale", "1"]) == 0
    err = capsys.readouterr().err
    assert (WARNING in err.splitlines()) == warned, err
    assert err.count(CONTENT_NOT_SHARED) == warned  # once


def test_without_deghost_an_infrared_visible_pair_is_not_warned(tmp_path, rng, tiny_weights, capsys):
    assert main(["fuse", *map(str, _pair(tmp_path, rng)), "--task", "ivf", "-o", str(tmp_path / "f.png"),
                 "--weights", str(tiny_weights), "--no-progress", "--scale", "1"]) == 0
    assert CONTENT_NOT_SHARED not in capsys.readouterr().err
