"""A library fusion's bar (``Fuser.fuse(..., progress=True)``: ``pass_progress``) is picked as ``defusion fuse``
picks its own: tqdm where stderr redraws a line, plain whole lines where it cannot (``TERM=dumb``, a log, a
pipe). It drew a tqdm bar everywhere, whose ``\\r`` redraws piled up on a dumb terminal and in a log; a Jupyter
notebook keeps ``tqdm.auto``'s bar (its widget where ipywidgets is installed)."""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pytest

from defusion import FuseOptions, Fuser
from defusion.io import progress
from defusion.io.progress import DUMB_TERM, LogProgress, pass_progress
from defusion.model.weights import load_weights

#: The module a Jupyter kernel runs in (progress.JUPYTER_KERNEL, tqdm.autonotebook's test for a notebook).
JUPYTER_KERNEL = "ipykernel.zmqshell"

#: A pair of this size runs in several tiles of TILE network pixels overlapping by OVERLAP at scale 1
#: (tests/fusion/test_fuser_progress_bar.py: 6 of them), each fast for the tiny network.
HEIGHT, WIDTH, TILE, OVERLAP = 100, 150, 64, 16
#: tqdm's bar draws this block character for a filled part; a plain line has none.
BLOCK = "\u2588"


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def stderr(monkeypatch):
    """Sets what stderr is (a terminal or not, under which TERM) and gives back what was written to it."""

    def make(terminal: bool, term: str = "xterm-256color") -> io.StringIO:
        stream = FakeTerminal() if terminal else io.StringIO()
        monkeypatch.setenv("TERM", term)
        monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.delitem(sys.modules, JUPYTER_KERNEL, raising=False)
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    return make


def _ticked(total: int) -> None:
    """A fusion's ``total`` passes counted by pass_progress's bar, to its end."""
    with pass_progress(total, show=True) as tick:
        for _ in range(total):
            tick()


@pytest.mark.parametrize(("terminal", "term"), [(True, DUMB_TERM), (False, "xterm-256color")],
                         ids=["dumb-terminal", "log-file"])
def test_a_dumb_terminal_or_a_log_gets_plain_lines(stderr, terminal, term):
    said = stderr(terminal, term)
    _ticked(4)
    text = said.getvalue()
    assert "\r" not in text and BLOCK not in text, text
    assert text.startswith("fusing: 4/4 passes (100%), "), text


def test_a_terminal_that_redraws_keeps_the_tqdm_bar(stderr):
    said = stderr(True)
    _ticked(4)
    text = said.getvalue()
    assert "\r" in text and "fusing: 100%" in text and "4/4" in text, text


def test_a_notebook_keeps_tqdm_autos_bar(stderr, monkeypatch):
    """A Jupyter kernel's stderr is no terminal, yet its output redraws: tqdm.auto's bar (a widget with
    ipywidgets), not plain lines."""
    import tqdm.auto

    made = []

    class Widget:
        def __init__(self, **options) -> None:
            made.append(options)

        def update(self, n: int = 1) -> None:
            pass

        def close(self) -> None:
            pass

    said = stderr(False)
    monkeypatch.setitem(sys.modules, JUPYTER_KERNEL, types.ModuleType(JUPYTER_KERNEL))
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name: object())  # ipywidgets installed
    monkeypatch.setattr(tqdm.auto, "tqdm", Widget)
    _ticked(2)
    assert [(o["total"], o["desc"], o["unit"]) for o in made] == [(2, "fusing", "pass")]
    assert said.getvalue() == ""


def test_a_notebook_without_ipywidgets_gets_a_text_bar_and_no_warning(stderr, monkeypatch):
    """Without ipywidgets tqdm.auto warns "IProgress not found" before its text bar: the text bar alone."""
    import warnings

    said = stderr(False)
    monkeypatch.setitem(sys.modules, JUPYTER_KERNEL, types.ModuleType(JUPYTER_KERNEL))
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name: None)  # no ipywidgets
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _ticked(2)
    text = said.getvalue()
    assert "fusing: 100%" in text and "\r" in text and "2/2" in text, text


def test_pass_bar_picks_as_progress_bar_picks(stderr):
    """The library's bar and ``defusion fuse``'s (progress_bar) agree on every stream."""
    for terminal, term in ((True, DUMB_TERM), (False, "xterm"), (True, "xterm")):
        stream = stderr(terminal, term)
        library, cli = progress.pass_bar(2), progress.progress_bar(total=2, file=stream)
        assert isinstance(library, LogProgress) == isinstance(cli, LogProgress), (terminal, term)
        library.close()
        cli.close()


def test_fuser_progress_on_a_dumb_terminal_says_whole_lines(tiny_weights, stderr, one_torch_thread):
    """``Fuser.fuse(..., progress=True)`` in Emacs' shell: whole lines, as ``defusion fuse`` writes there."""
    said = stderr(True, DUMB_TERM)
    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1, tile=TILE, overlap=OVERLAP))
    passes = fuser.tiles_for(HEIGHT, WIDTH)
    fuser.fuse(np.zeros((HEIGHT, WIDTH), np.uint8), np.full((HEIGHT, WIDTH), 200, np.uint8), progress=True)
    text = said.getvalue()
    assert "\r" not in text and BLOCK not in text, text
    assert text.splitlines()[-1].startswith(f"fusing: {passes}/{passes} passes (100%), "), text


def test_the_kernel_module_is_tqdms():
    assert progress.JUPYTER_KERNEL == JUPYTER_KERNEL
