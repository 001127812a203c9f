"""Training on Windows, emulated on Linux: no NCCL there (PyTorch's Windows builds lack it), and the
resume hint quoted for cmd, which has no single quotes."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from defusion.training import distributed
from defusion.training.distributed import Distributed, backend, join_job
from defusion.io.commands import command_line
from defusion.training.interrupts import resume_command


def test_gpus_without_nccl_join_the_job_over_gloo(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: False)  # Windows
    assert backend() == "gloo"
    joined: list[str] = []
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(distributed.dist, "init_process_group", joined.append)
    join_job(Distributed(rank=0, local_rank=0, world_size=2))
    assert joined == ["gloo"]
    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)  # Linux with CUDA: NCCL as before
    assert backend() == "nccl"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert backend() == "gloo"


def test_the_resume_hint_is_quoted_for_the_shell_of_the_os(monkeypatch):
    with monkeypatch.context() as patch:  # os.name patched only around the pure call
        patch.setattr(os, "name", "nt")
        windows = resume_command("D:/my images", "runs/it's mine")
    assert windows == 'defusion train --data "D:/my images" --out "runs/it\'s mine" --resume'
    assert resume_command("my images", "runs/r1") == "defusion train --data 'my images' --out runs/r1 --resume"
    assert command_line(["a b", 'say "hi"'], windows=True) == '"a b" "say \\"hi\\""'


def test_a_config_saved_with_a_byte_order_mark_and_a_utf8_comment_reads_as_utf8(tmp_path):
    from defusion.training.config import read_options

    config = tmp_path / "run.yaml"
    # Notepad's and PowerShell 5's "UTF-8" start with a byte-order mark; the comment is not cp1252
    config.write_bytes("# 東京の設定\nbatch_size: 4\n".encode("utf-8-sig"))
    assert read_options(config) == {"batch_size": 4}
