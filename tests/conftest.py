"""Shared fixtures: a tiny random-init weights file and small synthetic images."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from defusion.model.registry import create_model
from defusion.model.weights import load_weights, save_weights

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

#: Python children the tests start (``python -m defusion``, the scripts) write their output in UTF-8,
#: which is what the tests read it as (``encoding="utf-8"``). Otherwise a pipe is in the locale's code
#: page on Windows (cp1252): a child printing a character it lacks fails, and what it prints is read in
#: another encoding than the test's. Tests of code-page output set their own, and read bytes.
os.environ["PYTHONIOENCODING"] = "utf-8"


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """Weights of the tiny architecture (random init): fast plumbing tests, not quality."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(create_model("defusion-tiny"), path, metadata={"steps": "0"})
    return path


@pytest.fixture(scope="session")
def lively_weights(tiny_weights, tmp_path_factory) -> Path:
    """The tiny weights with projection heads re-scaled so outputs span [0, 1].

    Random-init heads have std 1e-3 (all outputs ~0, every image black after clamping), which
    would make parity and image comparisons pass trivially.
    """
    torch.manual_seed(1)
    model = load_weights(tiny_weights)
    for head in (model.common_head, model.unique_head, model.fusion_head):
        torch.nn.init.normal_(head.weight, std=0.05)
        torch.nn.init.constant_(head.bias, 0.5)
    path = tmp_path_factory.mktemp("lively") / "tiny-lively.safetensors"
    save_weights(model, path, metadata={"steps": "0", "note": "tiny, heads re-scaled"})
    return path


@pytest.fixture
def fresh_notes(monkeypatch):
    """Notes said as if none had been yet: each line is said once per process, and another test may
    have said it already."""
    from defusion.io import notes

    monkeypatch.setattr(notes, "_said", set())


@pytest.fixture(autouse=True)
def _notes_mode_kept():
    """A test that builds a server's app (``app_from_env`` switches its process to lines for good) leaves
    the next test's Python caller getting warnings, as a fresh process would."""
    from defusion.io import notes

    before = notes._lines_always
    yield
    notes._lines_always = before


@pytest.fixture(autouse=True)
def _signal_handlers_kept():
    """Ctrl-C's and SIGTERM's handlers as they were before each test: a command run in-process (a server,
    training, the UI launcher) sets its own, and one left behind made a later test's Ctrl-C do nothing."""
    import signal

    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in before.items():
        if signal.getsignal(signum) is not handler and handler is not None:
            signal.signal(signum, handler)


@pytest.fixture(autouse=True)
def _capable_terminal(monkeypatch):
    """Each test starts in an xterm's environment without NO_COLOR, whatever the shell running the suite
    has (an editor's TERM=dumb pane, NO_COLOR=1): progress and colour follow TERM=dumb and NO_COLOR."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture(scope="module")
def one_torch_thread():
    """One intra-op thread: on a small, busy CPU thread contention makes tiny models 100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def sobel_passes(monkeypatch) -> list[int]:
    """One entry per Sobel pass of Qabf (metrics.gradient._strength_angle_conv) made in the test: how often
    a source's edges are computed."""
    from defusion.metrics import gradient

    calls: list[int] = []
    real = gradient._strength_angle_conv

    def counted(x):
        calls.append(1)
        return real(x)

    monkeypatch.setattr(gradient, "_strength_angle_conv", counted)
    return calls


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def smooth_image(rng: np.random.Generator, h: int, w: int, channels: int = 3) -> np.ndarray:
    """A natural-ish uint8 image: smooth random blobs (not white noise)."""
    from scipy.ndimage import gaussian_filter

    x = rng.random((h, w, channels))
    x = np.stack([gaussian_filter(x[..., c], 3) for c in range(channels)], axis=2)
    x = (x - x.min()) / (x.max() - x.min() + 1e-9)
    out = (x * 255).astype(np.uint8)
    return out[..., 0] if channels == 1 else out


def run_script(script: Path, *args: str) -> subprocess.CompletedProcess:
    """Run a benchmark script as a user would (one thread, so that tests beside it keep their cores),
    and require it to succeed; its stdout and stderr are on the result."""
    proc = subprocess.run([sys.executable, str(script), *map(str, args)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"}, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    return proc


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now: for servers a test starts (`defusion serve`, the UI, torchrun)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
