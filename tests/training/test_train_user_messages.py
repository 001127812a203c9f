"""What a training user was told, from an audit of tiny runs: the training folder on record and a resume on
another said, the real reason a folder trains nothing, SIGTERM said as such, plain messages, a start line,
and weights of an interrupted run marked partial."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.model.weights import weights_metadata
from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_state
from defusion.training.config import TrainConfig, read_options
from defusion.training.errors import Terminated
from defusion.training.trainer import files_digest, train

TINY = dict(model="defusion-tiny", batch_size=2, crop=32, workers=0, log_every=2)
CLI_TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]


def test_the_training_folder_is_recorded_and_a_resume_on_another_says_so(images, tmp_path, capsys):
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=2), progress=False)
    digest = files_digest(images, sorted(images.iterdir()))
    record = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert (record["data"], record["data_digest"], record["images"]) == (str(images.resolve()), digest, 6)
    meta = weights_metadata(out / "weights.safetensors")
    assert (meta["data"], meta["data_digest"], meta["images"]) == (str(images.resolve()), digest, "6")
    assert checkpoint_state(out / "checkpoints" / CHECKPOINT_NAME).data == str(images.resolve())
    TrainConfig.from_dict(record)  # config.json still reads back as a config (--config runs/x/config.json)

    moved = shutil.copytree(images, tmp_path / "moved")
    capsys.readouterr()
    train(moved, out, TrainConfig(**TINY, max_steps=3), resume=True, progress=False)
    err = capsys.readouterr().err
    assert f"was trained on {images.resolve()}; resuming it at step 2 on {moved.resolve()}, holding the same " \
           "6 files" in err
    (moved / "0.png").rename(moved / "renamed.png")  # the same count, another file list
    train(moved, out, TrainConfig(**TINY, max_steps=4), resume=True, progress=False)
    err = capsys.readouterr().err
    assert f"the files under {moved} differ from those the run in {out} was trained on" in err
    changed = json.loads((out / "config.json").read_text(encoding="utf-8"))["settings_changed"]
    assert changed[0] == {"step": 2, "data": [str(images.resolve()), str(moved.resolve())]}
    assert changed[1]["step"] == 3 and list(changed[1]) == ["step", "data_digest"]
    assert main(["info", "--weights", str(out / "weights.safetensors")]) == 0
    assert f"  data           {moved.resolve()}\n" in capsys.readouterr().out


def test_a_folder_of_images_all_too_small_for_the_crop_says_so(images, tmp_path):
    """It said "no image ... could be read ...: not images, or broken"."""
    with pytest.raises(ValueError, match=r"all 6 images under .* are smaller than the 256x256 crop \(the largest, "
                                         r"48x40, .*lower --crop \(to 160 or less\)"):
        train(images, tmp_path / "run", TrainConfig(**{**TINY, "crop": 256}, max_steps=4), progress=False)


def test_an_epoch_too_short_for_a_batch_of_files_none_readable_says_none_could_be_read(tmp_path, capsys):
    """It said "an epoch of 1 sample is fewer than one batch of 2; use a smaller --batch-size"."""
    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.png").write_text("not an image", encoding="utf-8")
    assert main(["train", "--data", str(folder), "--out", str(tmp_path / "run"), "--max-steps", "2", *CLI_TINY]) == 2
    err = capsys.readouterr().err
    assert f"defusion: error: no image under {folder} could be read (1 file, named above with why)" in err
    assert "batch" not in err
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(folder / "b.png")  # one readable: then it is the batch
    (folder / "c.png").write_text("not an image", encoding="utf-8")
    assert main(["train", "--data", str(folder), "--out", str(tmp_path / "run"), "--max-steps", "2",
                 *CLI_TINY[:2], "--batch-size", "4", *CLI_TINY[4:]]) == 2
    assert "an epoch of 3 samples is fewer than one batch of 4" in capsys.readouterr().err


def test_sigterm_is_said_as_terminated_with_status_143(images, tmp_path, fail_in_step, capsys):
    out = tmp_path / "run"
    fail_in_step(3, Terminated)  # what the trainer's SIGTERM handler raises
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "20", *CLI_TINY]) == 143
    err = capsys.readouterr().err
    assert err.rstrip().endswith("defusion: terminated") and "interrupted" not in err
    meta = weights_metadata(out / "weights.safetensors")
    assert (meta["complete"], meta["stopped"], meta["steps"], meta["planned_steps"]) == ("false", "terminated", "2",
                                                                                         "20")


def test_the_sigterm_handler_raises_terminated():
    import signal

    from defusion.training.interrupts import interrupt

    with pytest.raises(Terminated):
        interrupt(signal.SIGTERM, None)


@pytest.mark.parametrize("rank", ["0", "1"])
@pytest.mark.parametrize("stop, status, said", [(Terminated, 143, "defusion: terminated"),
                                                (KeyboardInterrupt, 130, "defusion: interrupted")])
def test_only_rank_0_says_an_interrupt(images, tmp_path, monkeypatch, capsys, rank, stop, status, said):
    """Under torchrun every process gets the signal; each said "defusion: interrupted"."""
    import defusion.training.trainer as trainer

    def stopped(*args, **kwargs):
        raise stop

    monkeypatch.setattr(trainer, "train", stopped)
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--data", str(images), "--out", str(tmp_path / "run"), *CLI_TINY]) == status
    assert capsys.readouterr().err.strip() == (said if rank == "0" else "")


def test_an_interrupted_runs_weights_are_marked_partial_and_info_says_so(images, tmp_path, fail_in_step, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "5", *CLI_TINY]) == 0
    assert "defusion: training defusion-tiny on 6 images for 5 steps (1.67 epochs of 3 steps, batch 2) on cpu; " \
           f"writing to {out}\n" in capsys.readouterr().err
    meta = weights_metadata(out / "weights.safetensors")
    assert (meta["complete"], meta["planned_steps"], "stopped" in meta) == ("true", "5", False)

    fail_in_step(2, KeyboardInterrupt)  # Ctrl-C during the resume's second step
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "9", "--resume",
                 "--no-progress"]) == 130
    assert "defusion: resuming defusion-tiny at step 5 of 9, on 6 images (3 epochs of 3 steps, batch 2) on cpu; " \
           f"writing to {out}\n" in capsys.readouterr().err
    meta = weights_metadata(out / "weights.safetensors")
    assert (meta["complete"], meta["stopped"], meta["steps"]) == ("false", "interrupted", "6")
    assert main(["info", "--weights", str(out / "weights.safetensors")]) == 0
    assert "  steps          6 (interrupted at step 6 of 9)\n" in capsys.readouterr().out


def test_init_weights_of_another_network_name_it_and_the_model_to_pass(images, tmp_path, tiny_weights):
    with pytest.raises(ValueError, match=r"are a 'defusion-tiny' network, not a 'defusion' one: pass --model "
                                         r"defusion-tiny$"):
        train(images, tmp_path / "run", TrainConfig(**{**TINY, "model": "defusion"}, max_steps=1), progress=False,
              init_weights=tiny_weights)


def test_resuming_with_mfm_added_says_it_in_plain_words(images, tmp_path):
    """It said "holds training parts none, this run trains ['mfm_decoder']"."""
    out = tmp_path / "run"
    train(images, out, TrainConfig(**TINY, max_steps=1), progress=False)
    mfm = TrainConfig.from_dict({**TINY, "max_steps": 2, "mfm_weight": 0.01,
                                 "mfm": {"patch": 8, "width": 8, "blocks": 1}})
    with pytest.raises(ValueError, match="holds no extra training parts; this run also trains mfm_decoder; resume"):
        train(images, out, mfm, resume=True, progress=False)


def test_bad_yaml_says_the_line_and_column(tmp_path):
    (tmp_path / "c.yaml").write_text("lr: 1e-3\ncrop: 32\n  batch_size: 2\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"c.yaml is not valid YAML at line 3, column 13: mapping values are not "
                                         r"allowed here$"):
        read_options(tmp_path / "c.yaml")


def test_a_misspelt_model_in_a_config_gets_the_name_meant(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("model: defusion-tny\n", encoding="utf-8")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--config",
                 str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert "model 'defusion-tny' is not a registered model (did you mean defusion-tiny?)" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "run").exists()


def test_the_data_note_says_a_changed_file_count_as_such():
    """From a review: with --epoch-samples a resume on more files went ahead saying "the same count"."""
    from pathlib import Path

    from defusion.training.resume import data_note

    digest = {"data_digest": ["aa", "bb"]}
    assert "(12 files, was 10)" in data_note(Path("runs/x"), "imgs", 10, digest, 12, 10)
    assert "(the same count, 10)" in data_note(Path("runs/x"), "imgs", 10, digest, 10, 10)
    moved = data_note(Path("runs/x"), "b", 6, {"data": ["/a", "/b"], **digest}, 12, 10)
    assert "trained on /a; resuming it at step 6 on /b, whose file list differs (12 files, was 10)" in moved
