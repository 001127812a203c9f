"""`defusion serve` and `defusion ui` colour nothing where NO_COLOR (https://no-color.org: any value but
empty) or TERM=dumb asks, or where the stream is no terminal, as defusion's own lines never are: uvicorn's
log had ``\\x1b[32mINFO\\x1b[0m`` and Streamlit's banner ``\\x1b[34m\\x1b[1m  You can now view ...`` whatever
they said."""

from __future__ import annotations

import argparse
import io
import logging
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from defusion.cli import serve as serve_cli
from defusion.cli import ui as ui_cli
from tests.conftest import free_port

#: The escape that starts every colour or bold of a terminal (ANSI's CSI).
ESCAPE = "\x1b["
#: Seconds `defusion ui` gets to print Streamlit's banner (Streamlit's import and start: about 3 s here).
BANNER_TIMEOUT_S = 90


class FakeTerminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminals(monkeypatch):
    """An xterm's environment with no NO_COLOR: what the tests change (stdout and stderr are made
    terminals in each test by :func:`_on_terminals`, as pytest sets its own capture between a fixture and
    its test)."""
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    return monkeypatch


def _on_terminals(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout and stderr as terminals, for the rest of the test."""
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    monkeypatch.setattr(sys, "stderr", FakeTerminal())


def _uvicorn_lines(config: dict) -> list[str]:
    """An INFO line of uvicorn's, through each formatter of the log config ``serve`` hands uvicorn."""
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    said = []
    for name, kind in (("default", DefaultFormatter), ("access", AccessFormatter)):
        options = {key: value for key, value in config["formatters"][name].items() if key != "()"}
        if name == "default":
            record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, "Started server process", (),
                                       None)
        else:
            record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                                       ("127.0.0.1:5000", "GET", "/nowhere", "1.1", 404), None)
        said.append(kind(**options).format(record))
    return said


@pytest.mark.parametrize("variable, value", [("NO_COLOR", "1"), ("NO_COLOR", "true"), ("TERM", "dumb")])
def test_serves_log_is_uncoloured_where_asked(terminals, variable, value):
    terminals.setenv(variable, value)
    _on_terminals(terminals)
    lines = _uvicorn_lines(serve_cli.log_config("info"))
    assert lines[0].startswith("INFO:") and "404" in lines[1]
    assert not any(ESCAPE in line for line in lines), lines


def test_serves_log_is_coloured_only_where_its_stream_is_a_terminal(terminals):
    """uvicorn's own lines go to stderr, its access log to stdout: each coloured as its stream may be (an
    empty NO_COLOR asks nothing: no-color.org)."""
    terminals.setenv("NO_COLOR", "")
    _on_terminals(terminals)
    assert all(ESCAPE in line for line in _uvicorn_lines(serve_cli.log_config("info")))
    terminals.setattr(sys, "stderr", io.StringIO())  # 2> log, stdout still a terminal
    config = serve_cli.log_config("info")
    assert config["formatters"]["default"]["use_colors"] is False
    assert config["formatters"]["access"]["use_colors"] is True
    assert ESCAPE not in _uvicorn_lines(config)[0]


def _ui_args(*argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


@pytest.mark.parametrize("variable, value", [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_the_ui_starts_streamlit_with_its_colour_off_where_asked(terminals, variable, value):
    terminals.setenv(variable, value)
    _on_terminals(terminals)
    cmd, _ = ui_cli.command(_ui_args())
    assert cmd[1:3] == list(ui_cli.STREAMLIT_WITHOUT_COLOUR) and cmd[3] == "run"
    terminals.delenv(variable)
    terminals.setenv("TERM", "xterm")
    assert ui_cli.command(_ui_args())[0][1:4] == ["-m", "streamlit", "run"]


def _banner(env: dict[str, str]) -> str:
    """What `defusion ui` prints on a terminal (a pseudo-terminal) up to Streamlit's URL line, then
    stopped (SIGTERM)."""
    import pty

    port = free_port()
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "defusion", "ui", "--port", str(port)], stdin=child,
                            stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    said = b""
    deadline = time.monotonic() + BANNER_TIMEOUT_S
    try:
        while b"URL: " not in said or not said.rstrip(b" \r").endswith(b"\n"):
            if time.monotonic() > deadline or proc.poll() is not None:
                break
            if select.select([main], [], [], 0.5)[0]:
                try:
                    said += os.read(main, 4096)
                except OSError:  # the child closed its end
                    break
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(main)
    return said.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_the_ui_banner_on_a_terminal_is_uncoloured_under_no_color():
    pytest.importorskip("streamlit")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color"}
    said = _banner(env)
    assert "You can now view your Streamlit app" in said and "URL: " in said, said
    assert ESCAPE not in said, repr(said)
