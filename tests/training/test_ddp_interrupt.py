"""Ctrl-C under torchrun on the CPU (gloo): rank 0 saves the checkpoint once, every worker exits 130 as a
single process does, and none prints a traceback. torchrun's own exit (1, with its SignalException
traceback) is the launcher's, torch's code: not asserted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

#: Seconds of training before the Ctrl-C: a few steps of the tiny network on 2 cores.
_TRAIN_S = 3.0
#: Seconds the whole job may take before the test gives up on it.
_LIMIT_S = 120


@pytest.mark.slow
def test_ctrl_c_under_torchrun_saves_once_and_every_worker_exits_130(images, tmp_path):
    worker = tmp_path / "worker.py"
    worker.write_text(textwrap.dedent("""
        import os, signal, sys
        signal.signal(signal.SIGINT, signal.default_int_handler)  # started from a test: SIGINT may be ignored
        from defusion.cli.main import main
        status = main(["train", *sys.argv[1:]])
        with open(os.path.join(os.environ["STATUS_DIR"], "rank" + os.environ["RANK"]), "w") as f:
            f.write(str(status))
        sys.exit(status)
    """), encoding="utf-8")
    out, logs = tmp_path / "run", tmp_path / "logs"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--log-dir", str(logs),
           "--redirects", "3", str(worker), "--data", str(images), "--out", str(out), "--model", "defusion-tiny",
           "--crop", "32", "--batch-size", "2", "--workers", "0", "--no-progress", "--epochs", "100000"]
    env = {**os.environ, "STATUS_DIR": str(tmp_path)}
    job = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.time() + _LIMIT_S
        while not (out / "metrics.csv").exists() and time.time() < deadline:  # rank 0 is training
            time.sleep(0.2)
        time.sleep(_TRAIN_S)
        os.killpg(job.pid, signal.SIGINT)  # a terminal's Ctrl-C: the launcher and both workers
        job.wait(timeout=_LIMIT_S)
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    errs = {path.parent.name: path.read_text(encoding="utf-8") for path in logs.rglob("stderr.log")}
    assert sorted(errs) == ["0", "1"], errs
    assert [(tmp_path / f"rank{r}").read_text(encoding="utf-8") for r in (0, 1)] == ["130", "130"], errs
    assert errs["0"].count("checkpoint saved") == 1 and errs["0"].rstrip().endswith("defusion: interrupted")
    assert "checkpoint saved" not in errs["1"] and "interrupted" not in errs["1"]
    assert not any("Traceback" in err for err in errs.values()), errs
    assert (out / "checkpoints" / "last.safetensors").is_file() and (out / "weights.safetensors").is_file()
