"""``defusion train --device``: spelt as ``defusion fuse --device``, said in the start line, refused
clearly where it cannot run (and under torchrun where it conflicts with LOCAL_RANK); ``--compile``
without a C++ compiler refused before anything is written."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
from torch._inductor import config as inductor

from defusion.cli.main import main
from defusion.fusion.device import resolve_device
from defusion.fusion.errors import OptionsError
from defusion.training import distributed
from defusion.training.distributed import Distributed, device_for, join_job

CLI_TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]
RANK1 = Distributed(rank=1, local_rank=1, world_size=2)


@pytest.fixture
def two_gpus(monkeypatch):
    """PyTorch sees two CUDA devices (none is used: set_device is a no-op)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)


def test_the_run_says_its_device(images, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "1", "--device", "cpu",
                 *CLI_TINY]) == 0
    assert "(0.333 epochs of 3 steps, batch 2) on cpu; writing to" in capsys.readouterr().err


@pytest.mark.parametrize("device, said", [
    ("gpu", "unknown device 'gpu'; use auto, cpu, cuda, cuda:N or mps"),
    ("mps", "device mps (--device mps) was asked for, but PyTorch sees no Apple GPU"),
])
def test_an_unknown_or_absent_device_is_one_line(images, tmp_path, capsys, device, said):
    out = tmp_path / "run"
    assert main(["train", "--data", str(images), "--out", str(out), "--device", device, *CLI_TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"defusion: error: {said}") and err.count("\n") == 1 and not out.exists()


def test_an_absent_cuda_is_refused(images, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "--data", str(images), "--out", str(tmp_path / "run"), "--device", "cuda", *CLI_TINY]) == 2
    assert "PyTorch sees no CUDA device" in capsys.readouterr().err


def test_a_gpu_index_past_the_last_is_refused(two_gpus):
    with pytest.raises(OptionsError, match=r"cuda:2 .* PyTorch sees 2 CUDA devices \(cuda:0 to cuda:1\)"):
        resolve_device("cuda:2")
    assert device_for(Distributed(), "cuda:1") == torch.device("cuda", 1)
    assert device_for(Distributed(), "auto") == torch.device("cuda", 0)


def test_under_torchrun_each_process_keeps_its_own_gpu(two_gpus, monkeypatch):
    assert device_for(RANK1, "auto") == device_for(RANK1, "cuda") == device_for(RANK1, "cuda:1") \
           == torch.device("cuda", 1)
    with pytest.raises(OptionsError, match=r"^--device cuda:0 conflicts with torchrun: .* \(this one cuda:1\); "
                                           "pass --device cuda or auto"):
        device_for(RANK1, "cuda:0")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)  # a Mac's
    with pytest.raises(OptionsError, match="--device mps cannot train under torchrun"):
        device_for(RANK1, "mps")


def test_under_torchrun_cpu_trains_over_gloo_beside_gpus(two_gpus, monkeypatch):
    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)
    joined: list[str] = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", joined.append)
    device = device_for(RANK1, "cpu")
    join_job(RANK1, device)
    join_job(RANK1, device_for(RANK1, "auto"))
    assert (device, joined) == (torch.device("cpu"), ["gloo", "nccl"])


def test_a_conflicting_device_under_torchrun_is_said_by_rank_0_only(images, tmp_path, capsys, two_gpus, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for rank, said in (("1", ""), ("0", "defusion: error: --device cuda:1 conflicts with torchrun")):
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("LOCAL_RANK", rank)
        assert main(["train", "--data", str(images), "--out", str(tmp_path / "run"), "--device",
                     "cuda:1" if rank == "0" else "cuda:0", *CLI_TINY]) == 2
        assert capsys.readouterr().err.startswith(said)


def test_compile_without_a_compiler_is_refused_before_anything_is_written(images, tmp_path, capsys):
    out = tmp_path / "run"
    with inductor.patch({"cpp.cxx": (None, "/nonexistent/g++")}):
        assert main(["train", "--data", str(images), "--out", str(out), "--compile", "--device", "cpu",
                     *CLI_TINY]) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: --compile (torch.compile) needs a C++ compiler: no working C++ compiler "
                          "found (tried /nonexistent/g++")
    assert "install one (g++ or clang" in err and "drop --compile" in err and err.count("\n") == 1
    assert not out.exists()
