"""End-to-end `defusion train`: outputs, bad images, kill-and-resume, DDP with gloo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from defusion.cli.main import main
from defusion.training.checkpoint import CHECKPOINT_NAME
from tests.conftest import free_port

TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]


@pytest.fixture
def image_folder(tmp_path) -> Path:
    root = tmp_path / "images"
    (root / "nested").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray((rng.random((40 + i, 50, 3)) * 255).astype(np.uint8)).save(root / "nested" / f"{i}.png")
    (root / "truncated.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    return root




def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def test_train_writes_weights_logs_and_counts_bad_images(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "4", *TINY]) == 0
    assert (out / "weights.safetensors").is_file()
    assert (out / "checkpoints" / CHECKPOINT_NAME).is_file()
    assert list((out / "tb").iterdir()), "TensorBoard event file"
    log = (out / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert log[0].startswith("step,epoch,lr,total")
    from defusion.model.weights import weights_metadata
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["steps"] == "4" and meta["samples_seen"] == "8"
    assert int(meta["skipped_samples"]) >= 1  # the truncated JPEG was seen and skipped
    # Refuses to overwrite a run without --resume: one line, exit 2.
    capsys.readouterr()
    assert main(["train", "--data", str(image_folder), "--out", str(out), *TINY]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "Traceback" not in err


def test_gradient_weight_logs_its_term_and_a_resume_keeps_the_logs_columns(image_folder, tmp_path):
    import csv

    (tmp_path / "g.yaml").write_text("gradient_weight: 0.5\nlog_every: 1\n", encoding="utf-8")
    out = tmp_path / "grad"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "2", "--config",
                 str(tmp_path / "g.yaml"), *TINY]) == 0
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "4", "--resume",
                 *TINY]) == 0
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert "fused_gradient" in rows[0] and all(len(r) == len(rows[0]) for r in rows)
    column = rows[0].index("fused_gradient")
    assert [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4] and all(float(r[column]) > 0 for r in rows[1:])
    # A resume whose --config adds the term adds its column; the earlier rows are empty there.
    (tmp_path / "log1.yaml").write_text("log_every: 1\n", encoding="utf-8")
    plain = tmp_path / "plain"
    assert main(["train", "--data", str(image_folder), "--out", str(plain), "--max-steps", "2", "--config",
                 str(tmp_path / "log1.yaml"), *TINY]) == 0
    assert main(["train", "--data", str(image_folder), "--out", str(plain), "--max-steps", "4", "--resume",
                 "--config", str(tmp_path / "g.yaml"), *TINY]) == 0
    with open(plain / "metrics.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert "fused_gradient" in rows[0] and all(len(r) == len(rows[0]) for r in rows)
    assert [int(r[0]) for r in rows[1:]] == [1, 2, 3, 4]
    column = rows[0].index("fused_gradient")
    assert [r[column] == "" for r in rows[1:]] == [True, True, False, False]


def test_a_bad_option_is_one_line_and_creates_nothing(image_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), *TINY, "--batch-size", "0"]) == 2
    err = capsys.readouterr().err
    assert "batch_size must be at least 1" in err and "Traceback" not in err
    assert not out.exists()


def test_epoch_samples_sets_the_epoch_length(image_folder, tmp_path):
    from defusion.model.weights import weights_metadata
    out = tmp_path / "run"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--epoch-samples", "4",
                 "--epochs", "3", *TINY]) == 0
    assert weights_metadata(out / "weights.safetensors")["steps"] == "6"  # 3 epochs of 4 samples / 2 per step
    config = tmp_path / "long-epochs.yaml"  # the same through YAML; 7 images cycled in epochs of 10
    config.write_text("epoch_samples: 10\nlog_every: 1\n", encoding="utf-8")
    out = tmp_path / "run2"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--config", str(config),
                 "--epochs", "2", *TINY]) == 0
    rows = [line.split(",") for line in (out / "metrics.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert [row[1] for row in rows] == ["0"] * 5 + ["1"] * 5


def test_max_seconds_ends_the_run_cleanly_with_weights(image_folder, tmp_path):
    from defusion.model.weights import weights_metadata
    out = tmp_path / "run"
    # A spent budget is noticed at the step it runs out (once only at logging steps: 10 steps late).
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "40",
                 "--max-seconds", "0", *TINY]) == 0
    assert weights_metadata(out / "weights.safetensors")["steps"] == "1"
    assert _ckpt_step(out) == 1
    # The budget is per invocation: a resume with a new one continues to the run's end.
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--resume", "--max-seconds", "600",
                 *TINY]) == 0
    assert weights_metadata(out / "weights.safetensors")["steps"] == "40"


def _train_cmd(data: Path, out: Path, steps: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "defusion.train", "--data", str(data), "--out", str(out),
            "--max-steps", str(steps), "--checkpoint-every", "2", *TINY, *extra]


def _ckpt_step(out: Path) -> int:
    from safetensors import safe_open
    path = out / "checkpoints" / CHECKPOINT_NAME
    if not path.exists():
        return 0
    try:
        with safe_open(str(path), "pt") as f:
            return int(f.metadata()["step"])
    except Exception:  # being replaced right now
        return 0


def test_kill_and_resume_matches_an_uninterrupted_run(image_folder, tmp_path):
    steps = 14
    full = tmp_path / "full"
    subprocess.run(_train_cmd(image_folder, full, steps), check=True, env=_env(), capture_output=True)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_cmd(image_folder, killed, steps, "--epochs", "50"), env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _ckpt_step(killed) < 4 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    at_kill = _ckpt_step(killed)
    assert 0 < at_kill < steps, "the run should have been killed mid-way"
    assert not (killed / "weights.safetensors").exists()

    subprocess.run(_train_cmd(image_folder, killed, steps, "--resume"), check=True, env=_env(),
                   capture_output=True)
    a = load_file(str(full / "weights.safetensors"))
    b = load_file(str(killed / "weights.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), f"{k} differs after resume from step {at_kill}"


MFM_YAML = "ssim_weight: 0.25\nmfm_weight: 0.01\nmfm: {patch: 8, width: 8, blocks: 1}\n"


@pytest.mark.parametrize("max_steps, extra, steps", [("2", (), 2), ("40", ("--max-seconds", "0"), 1),
                                                     ("2", ("--config", "mfm.yaml"), 2)],
                         ids=["steps", "time-budget", "defusion++-mfm"])
def test_ddp_two_processes_gloo(image_folder, tmp_path, max_steps, extra, steps):
    (tmp_path / "mfm.yaml").write_text(MFM_YAML, encoding="utf-8")  # DeNet and the MFM decoder behind one DDP module
    extra = tuple(str(tmp_path / a) if a.endswith(".yaml") else a for a in extra)
    out = tmp_path / "ddp"
    # a free port for each run: a fixed one can still be held by the previous run's sockets
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           "-m", "defusion.train", "--data", str(image_folder), "--out", str(out),
           "--max-steps", max_steps, *extra, *TINY]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, encoding="utf-8")
    assert result.returncode == 0, result.stderr[:3000] + "\n...\n" + result.stderr[-2000:]
    from defusion.model.weights import weights_metadata
    meta = weights_metadata(out / "weights.safetensors")
    # steps x batch x world size; a spent time budget stops both ranks at the first logging step
    assert meta["samples_seen"] == str(steps * 2 * 2)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "metrics.csv", "tb",
                                                     "weights.safetensors"]


def test_ddp_names_an_unreadable_file_once_whichever_rank_reads_it(image_folder, tmp_path):
    """Each rank (and each epoch's workers) once named it again; rank 0 now names what any rank finds."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(free_port()),
           "-m", "defusion.train", "--data", str(image_folder), "--out", str(tmp_path / "ddp"), "--max-steps", "8",
           *TINY[:-3], "--workers", "1", "--no-progress"]  # 1 step an epoch: 8 epochs of fresh workers
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=300, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr.count("truncated.jpg") == 1, result.stderr[-3000:]


@pytest.mark.parametrize("workers, to_group", [("0", False), ("1", True)])
def test_sigterm_checkpoints_and_a_resume_with_no_steps_left_writes_weights(image_folder, tmp_path, workers,
                                                                            to_group):
    """SIGTERM to the trainer, or to its whole process group with a data worker in it (as
    schedulers and `timeout` send it), saves a checkpoint and exits cleanly."""
    out = tmp_path / "term"
    proc = subprocess.Popen(_train_cmd(image_folder, out, 10_000, "--checkpoint-every", "1000", "--workers", workers),
                            env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=to_group, encoding="utf-8")
    deadline = time.time() + 120
    while not (out / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    if to_group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    # SIGTERM is said as such, with 128 + SIGTERM (a shell's status for it), not Ctrl-C's 130
    assert proc.returncode == 143 and "defusion: terminated" in err and "Traceback" not in err, err[-2000:]
    step = _ckpt_step(out)
    assert step > 0, "SIGTERM should have saved a checkpoint"
    subprocess.run(_train_cmd(image_folder, out, step, "--resume"), check=True, env=_env(), capture_output=True)
    from defusion.model.weights import weights_metadata
    meta = weights_metadata(out / "weights.safetensors")
    assert meta["steps"] == str(step) and meta["final_loss"] != "n/a"


_INTERRUPT_IN_LOADER_SHUTDOWN = """
import sys
import torch.utils.data.dataloader as dl
original = dl._MultiProcessingDataLoaderIter._mark_worker_as_unavailable
def interrupted(self, worker_id, shutdown=False):
    if shutdown:  # the SIGTERM handler's KeyboardInterrupt, landing inside the end-of-epoch shutdown
        raise KeyboardInterrupt
    return original(self, worker_id, shutdown)
dl._MultiProcessingDataLoaderIter._mark_worker_as_unavailable = interrupted
from defusion.cli.main import main
sys.exit(main(["train", *sys.argv[1:]]))
"""


def test_an_interrupt_inside_the_loaders_worker_shutdown_still_exits(image_folder, tmp_path):
    """The worker then never hears it should stop, and it ignores SIGTERM: the trainer must kill it,
    or the interpreter's exit waits on it forever (seen once in CI)."""
    out = tmp_path / "stuck"
    cmd = [sys.executable, "-c", _INTERRUPT_IN_LOADER_SHUTDOWN, *_train_cmd(image_folder, out, 100, "--workers", "1")[3:]]
    result = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=60, encoding="utf-8")
    assert result.returncode == 130 and "interrupted" in result.stderr and "Traceback" not in result.stderr
    assert _ckpt_step(out) > 0


def test_init_from_weights_starts_from_them(image_folder, tmp_path, tiny_weights, capsys):
    out = tmp_path / "init"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "1",
                 "--init", str(tiny_weights), *TINY]) == 0
    a, b = load_file(str(tiny_weights)), load_file(str(out / "weights.safetensors"))
    # One Adam step moves every weight by about lr at most: the run started from the file.
    assert max((a[k] - b[k]).abs().max().item() for k in a) < 0.01
    capsys.readouterr()
    assert main(["train", "--data", str(image_folder), "--out", str(tmp_path / "x"), "--max-steps", "1",
                 "--init", str(tiny_weights), "--model", "defusion", *TINY[2:]]) == 2
    assert "are a 'defusion-tiny' network, not a 'defusion' one: pass --model defusion-tiny" in capsys.readouterr().err


def test_reinit_relearns_the_named_parts_of_the_init_weights(image_folder, tmp_path, tiny_weights, capsys):
    (tmp_path / "c.yaml").write_text("reinit: [unique_head]\noutside_weight: 0.015\nlr: 1.0e-9\n", encoding="utf-8")
    out = tmp_path / "relearn"
    assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "1", "--init",
                 str(tiny_weights), "--config", str(tmp_path / "c.yaml"), *TINY]) == 0
    a, b = load_file(str(tiny_weights)), load_file(str(out / "weights.safetensors"))
    moved = {k for k in a if (a[k] - b[k]).abs().max().item() > 1e-4}  # lr 1e-9: only a reset moves a weight
    assert "unique_head.weight" in moved and moved <= {"unique_head.weight", "unique_head.bias"}
    capsys.readouterr()
    assert main(["train", "--data", str(image_folder), "--out", str(tmp_path / "x"), "--max-steps", "1",
                 "--config", str(tmp_path / "c.yaml"), *TINY]) == 2
    assert "pass --init" in capsys.readouterr().err


def test_compile_flag_sets_the_option_and_leaves_it_alone_otherwise(tmp_path):
    import argparse

    from defusion.cli.train import add_arguments, resolve_config
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--data", str(tmp_path), "--out", str(tmp_path / "run")]
    assert resolve_config(parser.parse_args(base + ["--compile"])).compile is True
    assert resolve_config(parser.parse_args(base)).compile is False
    config = tmp_path / "c.yaml"
    config.write_text("compile: true\n", encoding="utf-8")
    assert resolve_config(parser.parse_args(base + ["--config", str(config)])).compile is True


@pytest.mark.slow
def test_compiled_training_matches_eager(image_folder, tmp_path):
    """torch.compile changes the kernels, not the maths: same weights after a few steps (slow:
    compiling the forward and backward takes tens of seconds on a CPU)."""
    from defusion.model.weights import load_weights
    fp32 = tmp_path / "fp32.yaml"  # bf16 rounding would differ between the kernels
    fp32.write_text("amp: false\n", encoding="utf-8")
    weights = []
    for name, extra in (("eager", []), ("compiled", ["--compile"])):
        out = tmp_path / name
        assert main(["train", "--data", str(image_folder), "--out", str(out), "--max-steps", "3",
                     "--config", str(fp32), *TINY, *extra]) == 0
        weights.append(load_weights(out / "weights.safetensors").state_dict())
    for key, value in weights[0].items():
        torch.testing.assert_close(weights[1][key], value, rtol=1e-3, atol=1e-4, msg=key)


def test_defusion_plusplus_run_checkpoints_its_mfm_decoder_and_ships_only_denet(image_folder, tmp_path, capsys):
    (tmp_path / "pp.yaml").write_text("common_weight: 0.2\nunique_weight: 0.1\nssim_weight: 0.25\n"
                                      "mfm_weight: 0.01\nmfm: {patch: 8, width: 8, blocks: 1}\nlog_every: 1\n",
                                      encoding="utf-8")
    out = tmp_path / "pp"
    args = ["train", "--data", str(image_folder), "--out", str(out), *TINY]
    assert main([*args, "--max-steps", "2", "--config", str(tmp_path / "pp.yaml")]) == 0
    ckpt = load_file(out / "checkpoints" / CHECKPOINT_NAME)
    assert any(k.startswith("part.mfm_decoder.") for k in ckpt)
    first = {k: v for k, v in ckpt.items() if k.startswith("part.")}
    assert main([*args, "--max-steps", "4", "--resume"]) == 0  # the decoder comes back and trains on
    resumed = load_file(out / "checkpoints" / CHECKPOINT_NAME)
    assert any(not torch.equal(first[k], resumed[k]) for k in first)
    header = (out / "metrics.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[-2:] == ["fused_ssim", "mfm"]
    weights = load_file(out / "weights.safetensors")
    assert not any("mfm" in k or k.startswith("part.") for k in weights)  # training-only: never shipped
    # A paper run resumed with an MFM config is refused in one line, not with a traceback.
    plain = tmp_path / "plain"
    assert main(["train", "--data", str(image_folder), "--out", str(plain), *TINY, "--max-steps", "2"]) == 0
    capsys.readouterr()
    assert main(["train", "--data", str(image_folder), "--out", str(plain), *TINY, "--max-steps", "4", "--resume",
                 "--config", str(tmp_path / "pp.yaml")]) == 2
    err = capsys.readouterr().err
    assert "mfm_decoder" in err and "Traceback" not in err
