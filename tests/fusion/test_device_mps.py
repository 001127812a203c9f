"""``mps`` (an Apple silicon GPU) taken when asked for by name, fp32 only; ``auto`` unchanged. No
Mac is at hand: torch.backends.mps.is_available is patched to emulate one, and to emulate its
absence (where it is absent, asking for it was a raw RuntimeError traceback from ``model.to``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion import Fuser
from defusion.cli.main import main
from defusion.fusion.choices import DEVICES
from defusion.fusion.device import check_half, resolve_device
from defusion.fusion.errors import OptionsError
from defusion.io.writing import write_image


@pytest.fixture
def mps(monkeypatch):
    """``mps(seen)``: PyTorch sees an Apple GPU (``seen``) or not; no CUDA either way."""
    def arm(seen: bool) -> None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: seen)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)

    return arm


def test_mps_is_offered_and_auto_never_picks_it(mps):
    assert "mps" in DEVICES
    mps(True)
    assert resolve_device("mps") == torch.device("mps")
    assert resolve_device("auto") == torch.device("cpu")


def test_an_absent_apple_gpu_is_one_clear_options_error(mps, tiny_weights):
    mps(False)
    with pytest.raises(OptionsError, match=r"^device mps \(device='mps'\) was asked for, but PyTorch sees no"):
        resolve_device("mps")  # a Python caller's argument; the command line's option below
    with pytest.raises(OptionsError, match="sees no Apple GPU"):  # not a RuntimeError from moving the model
        Fuser.from_pretrained(tiny_weights, device="mps", runtime="torch")
    with pytest.raises(OptionsError, match="sees no CUDA device"):  # as before
        resolve_device("cuda:1")
    with pytest.raises(OptionsError, match="use auto, cpu, cuda, cuda:N or mps"):
        resolve_device("metal")


def test_mps_runs_fp32_only(mps):
    mps(True)
    with pytest.raises(OptionsError, match=r"needs a CUDA device \(mps runs in fp32 only\)"):
        check_half(True, resolve_device("mps"))
    check_half(False, resolve_device("mps"))


def test_the_command_line_takes_mps_and_refuses_it_in_one_line_where_absent(mps, tiny_weights, tmp_path, capsys):
    mps(False)
    for name in ("a.png", "b.png"):
        write_image(tmp_path / name, np.zeros((16, 16, 3), np.uint8))
    status = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
                   "--weights", str(tiny_weights), "--device", "mps"])
    err = capsys.readouterr().err
    assert status == 2, err
    assert [line for line in err.splitlines() if line] == [
        "defusion: error: device mps (--device mps) was asked for, but PyTorch sees no Apple GPU (MPS: macOS 12.3 "
        "or later on Apple silicon)"], err
    assert not (tmp_path / "f.png").exists()
