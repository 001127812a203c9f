"""scripts/gpu/: the kit a session with a lent GPU runs. The GPU is never here, so the whole
start -> poll -> collect cycle runs on the CPU with the tiny network, and the planning logic
is checked on its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from PIL import Image

from tests.conftest import REPO

KIT = REPO / "scripts" / "gpu"
sys.path.insert(0, str(KIT))
from plan import parse_probe, plan  # noqa: E402

PROBE = """| variant | batch | s/step | samples/s | TFLOP/s | % of bf16 peak | peak memory |
|---|---|---|---|---|---|---|
| `bf16` | 8 | 0.0200 | 400.0 | 36.4 | 3.7% | 900 MB GPU |
| `bf16` | 32 | 0.0400 | 800.0 | 72.8 | 7.4% | 3000 MB GPU |
| `bf16-cl` | 32 | 0.0320 | 1000.0 | 91.0 | 9.2% | 3000 MB GPU |
| `bf16-cl` | 64 | out of memory | | | | |

input pipeline: 900 samples/s with 14 workers (256x256 crops, batches of 64)
"""


def test_probe_table_is_read_and_oom_rows_skipped():
    rates, pipeline = parse_probe(PROBE)
    assert rates == {("bf16", 8): 400.0, ("bf16", 32): 800.0, ("bf16-cl", 32): 1000.0}
    assert pipeline == 900.0


def test_plan_takes_the_fastest_variant_capped_by_the_input_pipeline_and_fits_the_schedule():
    base = {"batch_size": 32, "epochs": 50, "epoch_samples": 50000, "lr": 0.001}
    cfg = plan(base, *parse_probe(PROBE), budget_s=1000)
    assert cfg["channels_last"] and cfg["amp"] and cfg["max_seconds"] == 1000 and cfg["lr"] == 0.001
    # 900 samples/s (the pipeline caps the GPU's 1000) x 1000 s x 0.9 / 50 epochs
    assert cfg["epoch_samples"] == 16200
    # a budget that holds the whole schedule keeps the paper's epochs
    assert plan(base, *parse_probe(PROBE), budget_s=10_000)["epoch_samples"] == 50000
    with pytest.raises(SystemExit, match="batch size 16"):
        plan({**base, "batch_size": 16}, *parse_probe(PROBE), budget_s=1000)


def _kit_env(tmp_path, tiny_weights, plan_extra: str = "", **extra: str) -> dict:
    """Environment for the kit on this CPU: four small images, the tiny network, short probes."""
    data = tmp_path / "images"
    data.mkdir()
    for i in range(4):
        Image.fromarray((np.random.rand(40, 48, 3) * 255).astype(np.uint8)).save(data / f"{i}.jpg")
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHON": sys.executable, "DATA": str(data),
            "RUN": str(tmp_path / "run"), "OUT": str(tmp_path / "out"), "INIT": str(tiny_weights),
            "PROBE_ARGS": "--device cpu --model defusion-tiny --crop 32 --batch 2 --variants fp32 bf16 "
                          "--steps 2 --warmup 1 --workers 0",
            "PLAN_SET": "model=defusion-tiny crop=32 batch_size=2 workers=0 log_every=1 epochs=2" + plan_extra,
            **extra}


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("setsid") is None, reason="needs bash and setsid")
@pytest.mark.parametrize("budget, collect_wait", [("4", "300"), ("600", "3")], ids=["budget-ends-it", "collect-stops-it"])
def test_start_poll_collect_on_a_cpu(tmp_path, tiny_weights, budget, collect_wait):
    env = _kit_env(tmp_path, tiny_weights, COLLECT_WAIT=collect_wait)

    def kit(*args: str) -> str:
        proc = subprocess.run(["bash", str(KIT / "train.sh"), *args], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300, encoding="utf-8")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    assert "training started" in kit("start", budget)
    planned = yaml.safe_load((tmp_path / "out" / "plan.yaml").read_text(encoding="utf-8"))
    assert planned["max_seconds"] == int(budget) and planned["model"] == "defusion-tiny"
    kit("poll", "2")
    assert (tmp_path / "out" / "metrics.csv").is_file()
    collected = kit("collect")
    assert ("stopping the run" in collected) == (collect_wait == "3")
    weights = tmp_path / "out" / "defusion-gpu.safetensors"
    assert weights.is_file() and "fp16 weights" in collected
    from safetensors import safe_open

    from defusion.model.weights import load_weights, read_metadata
    with safe_open(str(weights), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys()} <= {__import__("torch").float16, __import__("torch").int64}
    assert int(read_metadata(weights)["steps"]) > 0
    load_weights(weights)  # a loadable inference file


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_once_probes_plans_trains_and_writes_fp16_weights_in_one_call(tmp_path, tiny_weights):
    env = _kit_env(tmp_path, tiny_weights, plan_extra=" max_steps=3")

    def once(total: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(KIT / "train.sh"), "once", total], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=300, encoding="utf-8")

    done = once("600")
    assert done.returncode == 0, done.stdout + done.stderr
    planned = yaml.safe_load((tmp_path / "out" / "plan.yaml").read_text(encoding="utf-8"))
    # the budget is what the call has left after the probe, less the margin kept for the weights
    assert 0 < planned["max_seconds"] <= 600 - 75 and f"training for {planned['max_seconds']:.0f}s" in done.stdout
    from defusion.model.weights import load_weights, read_metadata
    weights = tmp_path / "out" / "defusion-gpu.safetensors"
    assert int(read_metadata(weights)["steps"]) == 3 and "fp16 weights" in done.stdout
    load_weights(weights)
    assert {"metrics.csv", "train.log", "train_speed.md"} <= {p.name for p in (tmp_path / "out").iterdir()}
    # a call too short to train after its probe says so instead of starting a run it cannot finish
    short = once("10")
    assert short.returncode == 1 and "no time left to train" in short.stdout


def test_plan_turns_compile_on_when_the_compiled_variant_is_fastest():
    probe = PROBE + "| `bf16-compile` | 32 | 0.0250 | 1280.0 | 116.0 | 11.7% | 2800 MB GPU |\n"
    cfg = plan({"batch_size": 32, "epochs": 50, "epoch_samples": 50000}, *parse_probe(probe), budget_s=1000)
    assert cfg["compile"] and cfg["amp"] and not cfg["channels_last"]
    assert plan({"batch_size": 32, "epochs": 50}, *parse_probe(PROBE), budget_s=1000)["compile"] is False


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_once_trains_several_configs_side_by_side(tmp_path, tiny_weights):
    env = _kit_env(tmp_path, tiny_weights, plan_extra=" max_steps=2")
    configs = []
    for name, lr in (("paper", 0.001), ("half-lr", 0.0005)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump({"model": "defusion-tiny", "batch_size": 2, "epochs": 2, "lr": lr}),
                        encoding="utf-8")
        configs.append(str(path))
    done = subprocess.run(["bash", str(KIT / "train.sh"), "once", "600", *configs], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, encoding="utf-8")
    assert done.returncode == 0, done.stdout + done.stderr
    out = tmp_path / "out"
    speed = (out / "train_speed.md").read_text(encoding="utf-8")
    from defusion.model.weights import load_weights, read_metadata
    for name, lr in (("paper", 0.001), ("half-lr", 0.0005)):
        assert {p.name for p in (out / name).iterdir()} == {"defusion-gpu.safetensors", "metrics.csv", "train.log"}
        assert int(read_metadata(out / name / "defusion-gpu.safetensors")["steps"]) == 2
        load_weights(out / name / "defusion-gpu.safetensors")
        assert f"plan for {name}:" in speed
    # each plan is at half the probed speed, with half the data workers, and keeps its own lr
    plans = [yaml.safe_load(block.split("```")[0]) for block in speed.split("```yaml")[1:]]
    assert [p["lr"] for p in plans] == [0.001, 0.0005] and all(p["max_seconds"] <= 600 - 75 for p in plans)
    # at most 8 files come back from a lent machine
    assert sum(1 for p in out.rglob("*") if p.is_file()) <= 8


def test_plan_at_a_share_of_the_speed_shortens_the_epochs_in_proportion():
    base = {"batch_size": 32, "epochs": 50, "epoch_samples": 50000}
    assert plan(base, *parse_probe(PROBE), budget_s=1000, share=0.5)["epoch_samples"] == 8100


def test_plan_keeps_the_compiling_time_out_of_a_compiled_runs_schedule():
    probe = PROBE + "| `bf16-compile` | 32 | 0.0250 | 1280.0 | 116.0 | 11.7% | 2800 MB GPU |\n"
    base = {"batch_size": 32, "epochs": 50, "epoch_samples": 50000}
    cfg = plan(base, *parse_probe(probe), budget_s=1000, compile_s=200)
    # the pipeline's 900 samples/s x the 800 s left after compiling x 0.9 / 50 epochs; the wall-time
    # budget itself is unchanged (the trainer's compiling counts against it)
    assert cfg["compile"] and cfg["epoch_samples"] == 12960 and cfg["max_seconds"] == 1000
    # an eager variant does not compile, so nothing is kept out
    assert plan(base, *parse_probe(PROBE), budget_s=1000, compile_s=200)["epoch_samples"] == 16200


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_once_probes_torch_compile_when_asked(tmp_path, tiny_weights):
    env = _kit_env(tmp_path, tiny_weights, plan_extra=" max_steps=2", COMPILE_PROBE="1")
    done = subprocess.run(["bash", str(KIT / "train.sh"), "once", "600"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, encoding="utf-8")
    assert done.returncode == 0, done.stdout + done.stderr
    speed = (tmp_path / "out" / "train_speed.md").read_text(encoding="utf-8")
    assert "| `bf16-compile` | 2 |" in speed and "compile probe:" in speed
    assert int(__import__("defusion.model.weights", fromlist=["x"]).read_metadata(
        tmp_path / "out" / "defusion-gpu.safetensors")["steps"]) == 2
