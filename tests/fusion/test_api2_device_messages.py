"""The device and precision errors name what the user typed: ``device='cuda:0'`` and ``half=True`` in
Python (an audit found ``--device cuda``, its ``:0`` dropped, said to a notebook), the command's options
under ``defusion``. No GPU is needed: PyTorch is told it sees none."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion import Fuser
from defusion.cli.main import main
from defusion.fusion.errors import OptionsError
from defusion.io.writing import write_image


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_python_is_told_its_own_arguments(no_gpu, tiny_weights):
    with pytest.raises(OptionsError) as caught:
        Fuser.from_pretrained(tiny_weights, device="cuda:0", runtime="torch")
    assert str(caught.value) == "device cuda:0 (device='cuda:0') was asked for, but PyTorch sees no CUDA device"
    with pytest.raises(OptionsError) as caught:
        Fuser.from_pretrained(tiny_weights, device="cpu", half=True, runtime="torch")
    assert str(caught.value).startswith("half precision (half=True) needs a CUDA device")
    assert "--" not in str(caught.value)


def test_the_command_line_is_told_its_options_as_typed(no_gpu, tiny_weights, tmp_path, capsys):
    for name in ("a.png", "b.png"):
        write_image(tmp_path / name, np.zeros((16, 16), np.uint8))
    sources = [str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"), "--weights",
               str(tiny_weights), "--no-progress"]
    assert main(["fuse", *sources, "--device", "cuda"]) == 2  # fuse's choices: auto, cpu, cuda, mps
    assert capsys.readouterr().err == ("defusion: error: device cuda (--device cuda) was asked for, but PyTorch "
                                       "sees no CUDA device\n")
    assert main(["fuse", *sources, "--device", "cpu", "--half", "--runtime", "torch"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: half precision (--half) needs a CUDA device") and "half=True" not in err
