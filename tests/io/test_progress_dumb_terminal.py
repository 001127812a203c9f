"""A dumb terminal (``TERM=dumb``: Emacs' shell, an editor's output pane) cannot redraw a line: it gets
the plain lines a log gets, not tqdm's ``\\r`` bar, which piled up there as block characters; NO_COLOR,
which asks for no colour, leaves the bar as it is (it has none)."""

from __future__ import annotations

import io

import pytest
from tqdm import tqdm

from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.io.progress import DUMB_TERM, LogProgress, is_terminal, progress_bar
from tests.conftest import smooth_image


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def capable_terminal(monkeypatch):
    """A terminal that redraws (an xterm), with no NO_COLOR: what the tests change one at a time."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return monkeypatch


def _bar_on_terminal(total: int = 4) -> tuple[object, str]:
    """A fusion's bar of ``total`` passes run to its end on a terminal: the bar, and what it wrote."""
    terminal = FakeTerminal()
    bar = progress_bar(total=total, desc="fusing", unit="pass", file=terminal)
    bar.update(total)
    bar.close()
    return bar, terminal.getvalue()


def test_a_dumb_terminal_gets_plain_lines_not_a_redrawn_bar(capable_terminal):
    """TERM=dumb: LogProgress's whole lines; an xterm, NO_COLOR or not: tqdm's bar, as before."""
    assert is_terminal(FakeTerminal())
    capable_terminal.setenv("NO_COLOR", "1")  # asks for no colour: the bar has none, it stays
    bar, said = _bar_on_terminal()
    assert isinstance(bar, tqdm) and "\r" in said
    capable_terminal.setenv("TERM", DUMB_TERM)
    assert not is_terminal(FakeTerminal())
    bar, said = _bar_on_terminal()
    assert isinstance(bar, LogProgress)
    assert "\r" not in said and "\u2588" not in said  # no redraws, no block characters
    assert said.startswith("fusing: 4/4 passes (100%), ")


class TerminalFile(io.TextIOWrapper):
    """A real file that says it is a terminal: stderr as a terminal shows it, each byte kept."""

    def isatty(self) -> bool:
        return True


def test_a_tiled_fusion_on_a_dumb_terminal_says_whole_lines(tmp_path, rng, tiny_weights, capable_terminal,
                                                             one_torch_thread):
    """`defusion fuse ... --tile` with stderr a terminal under TERM=dumb: whole lines, no tqdm bar."""
    capable_terminal.setenv("TERM", DUMB_TERM)
    a = write_image(tmp_path / "a.png", smooth_image(rng, 96, 128))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 96, 128))
    log = tmp_path / "terminal.txt"
    with TerminalFile(open(log, "wb"), encoding="utf-8") as stream:
        capable_terminal.setattr("sys.stderr", stream)
        status = main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--weights", str(tiny_weights),
                       "--tile", "64", "--overlap", "16", "--scale", "1"])
        capable_terminal.undo()
    said = log.read_text(encoding="utf-8")
    assert status == 0, said
    assert "\r" not in said and "\u2588" not in said, said
    assert any(line.startswith("fusing: ") and " passes (100%), " in line for line in said.splitlines()), said
