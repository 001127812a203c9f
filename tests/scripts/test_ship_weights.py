"""scripts/ship_weights.py: a run's weights become an fp16 file carrying every run's totals."""

from __future__ import annotations

import subprocess
import sys

import torch

from defusion.model.weights import load_weights, read_metadata, save_weights
from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "ship_weights.py"


def test_counters_add_up_history_grows_and_tensors_are_fp16(tmp_path, lively_weights):
    base, run, out = tmp_path / "base.safetensors", tmp_path / "run.safetensors", tmp_path / "ship.safetensors"
    model = load_weights(lively_weights)
    save_weights(model, base, metadata={"steps": "100", "samples_seen": "800", "train_seconds": "60",
                                        "history": "run 1: 100 steps", "hardware": "old CPU"}, half=True)
    save_weights(model, run, metadata={"steps": "20", "samples_seen": "160", "train_seconds": "9",
                                       "final_loss": "0.05"})
    subprocess.run([sys.executable, str(SCRIPT), str(run), str(out), "--base", str(base),
                    "--history", "run 2: 20 steps", "--hardware", "new CPU"], check=True, capture_output=True)
    meta = read_metadata(out)
    assert (meta["steps"], meta["samples_seen"], meta["train_seconds"]) == ("120", "960", "69")
    assert meta["history"] == "run 1: 100 steps; run 2: 20 steps"
    assert meta["final_loss"] == "0.05" and meta["hardware"] == "new CPU"
    from safetensors.torch import load_file
    assert {t.dtype for t in load_file(str(out)).values() if t.is_floating_point()} == {torch.float16}
    shipped, original = load_weights(out).state_dict(), model.state_dict()
    for name, tensor in original.items():  # the same weights, to fp16 rounding
        torch.testing.assert_close(shipped[name], tensor, rtol=1e-3, atol=1e-3)


def _ship(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8")


def test_a_run_that_did_not_start_from_the_base_is_refused_or_shipped_as_its_own_chain(tmp_path, lively_weights):
    """The audit: a tiny run shipped on the full shipped weights was labelled a full DeNet (it then
    failed to load), and a run from random init took on the shipped chain's history and counters."""
    model = load_weights(lively_weights)
    base, out = tmp_path / "base.safetensors", tmp_path / "ship.safetensors"
    save_weights(model, base, metadata={"steps": "100", "history": "run 1: 100 steps", "training_data": "COCO",
                                        "hardware": "old CPU"})
    random_run, other_run = tmp_path / "random.safetensors", tmp_path / "other.safetensors"
    save_weights(model, random_run, metadata={"steps": "20", "init": "random", "model": "defusion-tiny"})
    save_weights(model, other_run, metadata={"steps": "20", "init": "elsewhere.safetensors"})
    refused = _ship(random_run, out, "--base", base, "--history", "run 2")
    assert refused.returncode != 0 and "trained from random weights" in refused.stderr and "--new-chain" in refused.stderr
    refused = _ship(other_run, out, "--base", base, "--history", "run 2")
    assert refused.returncode != 0 and "trained from elsewhere.safetensors" in refused.stderr
    assert "Traceback" not in refused.stderr and not out.exists()
    # Another network than the base (the default base is the shipped, full-size DeNet): refused too.
    refused = _ship(random_run, out, "--history", "run 2")
    assert refused.returncode != 0 and "'defusion-tiny' network" in refused.stderr and not out.exists()

    shipped = _ship(random_run, out, "--base", base, "--history", "run 1: 20 steps", "--new-chain")
    assert shipped.returncode == 0, shipped.stderr
    meta = read_metadata(out)
    assert meta["steps"] == "20" and meta["history"] == "run 1: 20 steps"
    assert "training_data" not in meta and "hardware" not in meta
    assert load_weights(out).cfg == model.cfg


def test_a_run_from_the_base_continues_its_chain_and_old_counter_names_add_up(tmp_path, lively_weights):
    model = load_weights(lively_weights)
    base, run, out = tmp_path / "base.safetensors", tmp_path / "run.safetensors", tmp_path / "ship.safetensors"
    save_weights(model, base, metadata={"steps": "100", "skipped_images": "7", "history": "run 1"})
    save_weights(model, run, metadata={"steps": "20", "skipped_samples": "3", "init": "base.safetensors"})
    assert _ship(run, out, "--base", base, "--history", "run 2").returncode == 0
    meta = read_metadata(out)
    assert meta["steps"] == "120" and meta["skipped_samples"] == "10" and "skipped_images" not in meta
    assert meta["history"] == "run 1; run 2"


def test_a_run_is_matched_to_its_base_by_digest_whatever_the_files_name(tmp_path, lively_weights):
    import shutil

    from defusion.model.weights import weights_digest

    model = load_weights(lively_weights)
    base, copy, run = tmp_path / "base.safetensors", tmp_path / "renamed.safetensors", tmp_path / "run.safetensors"
    save_weights(model, base, metadata={"steps": "100", "history": "run 1"})
    shutil.copy(base, copy)
    save_weights(model, run, metadata={"steps": "20", "init": "base.safetensors", "init_digest": weights_digest(base)})
    assert _ship(run, tmp_path / "a.safetensors", "--base", copy, "--history", "run 2").returncode == 0
    save_weights(model, copy, metadata={"steps": "99"})  # same name as before, other weights
    refused = _ship(run, tmp_path / "b.safetensors", "--base", copy, "--history", "run 2")
    assert refused.returncode != 0 and "trained from other weights (base.safetensors" in refused.stderr


def test_a_run_continued_from_the_fp32_run_weights_ships_on_the_candidate_made_from_them(tmp_path, lively_weights):
    """docs/training.md's way to continue: --init runs/runN/weights.safetensors (fp32), then ship with
    --base the fp16 candidate made from runN: the run's init_digest is runN's file's, which the
    candidate records as its source_digest."""
    from defusion.model.weights import weights_digest

    model = load_weights(lively_weights)
    base, run1, candidate = tmp_path / "base.safetensors", tmp_path / "run1.safetensors", tmp_path / "cand1.safetensors"
    save_weights(model, base, metadata={"steps": "100", "history": "run 1: 100 steps"}, half=True)
    save_weights(model, run1, metadata={"steps": "20", "init": "base.safetensors", "init_digest": weights_digest(base)})
    assert _ship(run1, candidate, "--base", base, "--history", "run 2: 20 steps").returncode == 0
    assert read_metadata(candidate)["source_digest"] == weights_digest(run1) != weights_digest(candidate)

    run2, shipped = tmp_path / "run2.safetensors", tmp_path / "cand2.safetensors"
    save_weights(model, run2, metadata={"steps": "5", "init": "weights.safetensors", "init_digest": weights_digest(run1)})
    done = _ship(run2, shipped, "--base", candidate, "--history", "run 3: 5 steps")
    assert done.returncode == 0, done.stderr
    meta = read_metadata(shipped)
    assert meta["steps"] == "125" and meta["history"] == "run 1: 100 steps; run 2: 20 steps; run 3: 5 steps"
    assert meta["source_digest"] == weights_digest(run2)

    # A run from other weights is refused, and told to pass the shipped candidate, not the run file.
    other = tmp_path / "other.safetensors"
    save_weights(model, other, metadata={"steps": "5", "init": "x.safetensors", "init_digest": "0123456789abcdef"})
    refused = _ship(other, tmp_path / "no.safetensors", "--base", candidate, "--history", "run 3")
    assert refused.returncode != 0 and "the file ship_weights made from that run" in refused.stderr
    assert "not the run file itself" in refused.stderr and not (tmp_path / "no.safetensors").exists()
