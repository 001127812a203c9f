"""Fixtures the fusion tests share."""

from __future__ import annotations

import pytest

from defusion.fusion import export as export_module
from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.model.weights import load_weights


@pytest.fixture(scope="module")
def fuser(tiny_weights) -> Fuser:
    """A Fuser of the tiny test network at scale 1 (a module may define its own ``fuser`` instead)."""
    return Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1))


@pytest.fixture(scope="module")
def model(tiny_weights):
    """The tiny test network (the export tests' model)."""
    return load_weights(tiny_weights)


@pytest.fixture()
def no_trace(monkeypatch):
    """Tracing or exporting fails the test: a refusal comes before any work."""
    def traced(*args, **kwargs):
        raise AssertionError("the export ran")

    monkeypatch.setattr(export_module.torch.jit, "trace", traced)
    monkeypatch.setattr(export_module.torch.onnx, "export", traced)


class RecordingBar:
    """Stands in for tqdm.auto.tqdm: records what a fusion asked of its progress bar."""

    made: list[RecordingBar] = []

    def __init__(self, total: int, desc: str = "", unit: str = "it", **options) -> None:
        self.total, self.desc, self.unit, self.options = total, desc, unit, options
        self.count, self.closed = 0, False
        RecordingBar.made.append(self)

    def update(self, n: int = 1) -> None:
        self.count += n

    def close(self) -> None:
        self.closed = True


@pytest.fixture()
def bars(monkeypatch) -> list[RecordingBar]:
    """The progress bars a fusion makes inside the test, each a :class:`RecordingBar` (tqdm.auto's replaced),
    on a stderr taken for a terminal (elsewhere a library fusion writes plain lines: pass_progress)."""
    import tqdm.auto
    import tqdm.std

    RecordingBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)  # a notebook's bar (a widget with ipywidgets)
    monkeypatch.setattr(tqdm.std, "tqdm", RecordingBar)  # a terminal's
    monkeypatch.setattr("defusion.io.progress.is_terminal", lambda stream: True)
    return RecordingBar.made
