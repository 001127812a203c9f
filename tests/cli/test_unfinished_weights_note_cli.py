"""Weights of a training run that stopped before the end of its schedule (Ctrl-C, SIGTERM, --max-seconds)
get a one-line note from `defusion fuse` and `defusion export`, as the quick-test network's do; finished
runs' and the shipped weights get none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.cli.options import note_quick_test_weights, stopped_short
from defusion.io.images import write_image
from defusion.io.notes import as_lines
from defusion.model.registry import create_model
from defusion.model.weights import read_metadata, save_weights, shipped_weights_path
from tests.conftest import smooth_image
from tests.serving.conftest import run_export

#: What `defusion train` records of a run its time budget ended at step 8 of 500 (`defusion info`:
#: "steps 8 (time budget spent at step 8 of 500)").
SPENT = {"model": "defusion", "steps": "8", "planned_steps": "500", "complete": "false", "stopped": "time budget spent"}


def _unfinished_note(weights, stopped: str = "time budget spent at step 8 of 500") -> str:
    return (f"defusion: note: --weights {weights} are from a training run stopped before the end of its schedule "
            f"({stopped}), not the finished run's: defusion train --data DIR --resume --out RUN (that run's folder) trains on "
            "to its end")


def _weights(path: Path, **metadata: str) -> Path:
    """The tiny network's weights at ``path``, with a training run's ``metadata``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    save_weights(create_model("defusion-tiny"), path, metadata=metadata)
    return path


def _pair(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    a = write_image(tmp_path / "a.png", smooth_image(rng, 24, 32))
    return a, write_image(tmp_path / "b.png", smooth_image(rng, 24, 32, 1))


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "before the end of its schedule" in line]


def test_fusing_with_an_unfinished_runs_weights_says_so_once(tmp_path, rng, capsys, fresh_notes):
    """The audit: `defusion info` said "time budget spent at step 8 of 500"; `defusion fuse --weights` nothing."""
    weights = _weights(tmp_path / "runs" / "short" / "weights.safetensors", **SPENT)
    a, b = _pair(tmp_path, rng)
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--weights", str(weights), "--no-progress",
                 "--scale", "1"]) == 0
    err = capsys.readouterr().err
    assert _notes(err) == [_unfinished_note(weights)], err
    assert "quick-test" not in err and (tmp_path / "f.png").is_file()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.9+ deprecates torch.jit
def test_exporting_an_unfinished_runs_weights_says_so_once(tmp_path, capsys, fresh_notes):
    weights = _weights(tmp_path / "weights.safetensors", **{**SPENT, "stopped": "interrupted"})
    out = tmp_path / "short.pt"
    assert run_export("--format", "torchscript", "-o", out, "--weights", weights, "--no-check") == 0
    err = capsys.readouterr().err
    assert _notes(err) == [_unfinished_note(weights, "interrupted at step 8 of 500")], err
    assert err.index("this takes a while") < err.index("before the end of its schedule") < err.index("wrote ")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_finished_runs_and_the_shipped_weights_get_no_note(tmp_path, capsys, fresh_notes):
    finished = _weights(tmp_path / "done.safetensors", **{**SPENT, "steps": "500", "complete": "true"})
    assert stopped_short(read_metadata(shipped_weights_path())) is None  # no run of this version wrote them
    for weights in (finished, shipped_weights_path(), None):
        note_quick_test_weights(weights)
    assert capsys.readouterr().err == ""
    out = tmp_path / "done.pt"
    assert run_export("--format", "torchscript", "-o", out, "--weights", finished, "--no-check") == 0
    assert not _notes(capsys.readouterr().err)


def test_a_runs_time_budget_weights_get_the_note_with_the_quick_test_ones(tmp_path, capsys, fresh_notes):
    """End to end: what `defusion train --max-seconds` records is what the note reads."""
    from defusion.training.config import TrainConfig
    from defusion.training.trainer import train

    images = tmp_path / "images"
    images.mkdir()
    noise = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray((noise.random((40, 48, 3)) * 255).astype(np.uint8)).save(images / f"{i}.png")
    weights = train(images, tmp_path / "run", TrainConfig(model="defusion-tiny", batch_size=2, crop=32, workers=0,
                                                          max_steps=50, max_seconds=0.0), progress=False)
    capsys.readouterr()
    with as_lines():  # as the commands say it
        note_quick_test_weights(weights)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "quick-test network's" in err[0], err
    assert err[1] == _unfinished_note(weights, "time budget spent at step 1 of 50")
