"""`defusion ui`'s start-up line: the address, then what stops it, with no stray space before the
semicolon (a newcomer's audit read `http://127.0.0.1:39891 ; Ctrl-C stops`)."""

from __future__ import annotations

import argparse

import pytest

from defusion.cli import ui as ui_cli
from tests.conftest import free_port


class _NoStreamlit:
    """Stands in for the Streamlit process: started, and done at once."""

    def __init__(self, cmd, env=None):
        self.cmd = cmd

    def wait(self, timeout=None):
        return 0


def _parse(*argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_the_start_up_line_has_no_space_before_its_semicolon(host, monkeypatch, capsys):
    real_find_spec = ui_cli.importlib.util.find_spec
    monkeypatch.setattr(ui_cli.importlib.util, "find_spec",  # the line is said with or without the ui extra here
                        lambda name, *rest: object() if name == "streamlit" else real_find_spec(name, *rest))
    monkeypatch.setattr(ui_cli.subprocess, "Popen", _NoStreamlit)
    port = free_port()
    assert ui_cli.run(_parse("--host", host, "--port", port)) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "web UI on" in line]
    assert len(said) == 1 and said[0].endswith("; Ctrl-C stops") and " ;" not in said[0], said
    if host == "127.0.0.1":
        assert said[0] == f"defusion: web UI on http://127.0.0.1:{port}; Ctrl-C stops"
