"""Every ``defusion --help`` and ``defusion <command> --help`` fits an 80-column terminal: argparse
wraps what it builds to $COLUMNS, but not a usage written by hand (``defusion metrics``' was 97 wide)."""

from __future__ import annotations

import pytest

from defusion.cli.main import COMMANDS, main

#: The width of a classic terminal, and the one the help is checked at.
COLUMNS = 80


def _help(capsys, monkeypatch, *command: str) -> str:
    monkeypatch.setenv("COLUMNS", str(COLUMNS))
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_every_help_line_fits_80_columns(capsys, monkeypatch):
    wide = {}
    for command in [(), *((name,) for name in COMMANDS)]:
        text = _help(capsys, monkeypatch, *command)
        assert text.startswith("usage: "), text
        lines = [line for line in text.splitlines() if len(line) > COLUMNS]
        if lines:
            wide[" ".join(("defusion", *command, "--help"))] = lines
    assert not wide, wide
    # metrics' usage, built by argparse: FUSED and two or more sources as written by hand before, every option
    usage = " ".join(_help(capsys, monkeypatch, "metrics").split("\n\n")[0].split())
    assert usage == ("usage: defusion metrics [-h] [--metrics NAMES] [--json] [--max-pixels MAX_PIXELS] "
                     "FUSED A B [C ...]")
