"""`defusion ui`: module contract, options, and the streamlit command it runs (not started here)."""

from __future__ import annotations

import argparse
import sys

import pytest

from defusion.cli import ui as ui_cli
from defusion.cli.errors import UserError, run_guarded
from defusion.model.weights import WeightsError
from defusion.ui import APP_PATH


def _parse(*argv):
    parser = argparse.ArgumentParser()
    ui_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def test_module_contract():
    assert isinstance(ui_cli.HELP, str) and ui_cli.HELP
    assert callable(ui_cli.add_arguments) and callable(ui_cli.run)
    assert WeightsError in ui_cli.EXPECTED_ERRORS and ValueError in ui_cli.EXPECTED_ERRORS


def test_app_is_inside_the_package():
    assert APP_PATH.is_file() and APP_PATH.parent.name == "ui"


def test_command_line_and_environment(tiny_weights, monkeypatch):
    monkeypatch.setenv("DEFUSION_WEIGHTS", "stale")
    cmd, env = ui_cli.command(_parse("--port", 9000, "--weights", tiny_weights, "--max-upload-mb", 7,
                                     "--device", "cpu", "--max-pixels", 5000))
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(APP_PATH)]
    flags = dict(zip(cmd[5::2], cmd[6::2]))
    assert flags["--server.headless"] == "true" and flags["--server.port"] == "9000"
    assert flags["--server.maxUploadSize"] == "7" and flags["--server.address"] == "127.0.0.1"
    assert env["DEFUSION_WEIGHTS"] == str(tiny_weights.resolve())
    assert env["DEFUSION_DEVICE"] == "cpu" and env["DEFUSION_MAX_PIXELS"] == "5000"
    _, env = ui_cli.command(_parse())
    assert "DEFUSION_WEIGHTS" not in env  # the shipped weights, not a stale setting


def test_run_starts_streamlit_and_returns_its_status(monkeypatch):
    seen = {}

    class FakePopen:
        def __init__(self, cmd, env):
            seen["cmd"], seen["env"] = cmd, env

        def wait(self, timeout=None):
            return 3

    monkeypatch.setattr(ui_cli.subprocess, "Popen", FakePopen)
    assert ui_cli.run(_parse("--port", 8600)) == 3
    assert "--server.port" in seen["cmd"] and "8600" in seen["cmd"]


def test_bad_port():
    with pytest.raises(UserError, match="--port"):
        ui_cli.run(_parse("--port", "0"))


@pytest.mark.parametrize("option", ["--max-upload-mb", "--max-pixels"])
def test_bounds_must_be_positive(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(option, "0")
    assert exit_.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_missing_weights_is_one_line(tmp_path, capsys):
    status = run_guarded(lambda: ui_cli.run(_parse("--weights", tmp_path / "none.safetensors")),
                         ui_cli.EXPECTED_ERRORS)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "weights file not found" in err
