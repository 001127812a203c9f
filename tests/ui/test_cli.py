"""`defusion ui`: module contract, options, and the streamlit command it runs (not started here)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from defusion.cli import ui as ui_cli
from defusion.cli.errors import run_guarded
from defusion.model.weights import WeightsError
from defusion.ui import APP_PATH, SERVER_PATH


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
    assert cmd[:5] == [sys.executable, "-m", "streamlit", "run", str(SERVER_PATH)]
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


def test_run_restores_the_signal_handlers(monkeypatch):
    before = {s: signal.getsignal(s) for s in ui_cli.STOP_SIGNALS}

    class FakePopen:
        def __init__(self, cmd, env):
            pass

        def wait(self, timeout=None):
            assert all(signal.getsignal(s) is not before[s] for s in ui_cli.STOP_SIGNALS)  # caught meanwhile
            return 0

    monkeypatch.setattr(ui_cli.subprocess, "Popen", FakePopen)
    assert ui_cli.STOP_SIGNALS and ui_cli.run(_parse()) == 0
    assert {s: signal.getsignal(s) for s in ui_cli.STOP_SIGNALS} == before


#: Stands in for Streamlit: writes its pid, then sleeps.
_CHILD = ("import os, sys, time; tmp = sys.argv[1] + '.tmp'; "
          "open(tmp, 'w', encoding='utf-8').write(str(os.getpid())); os.replace(tmp, sys.argv[1]); time.sleep(60)")
#: `defusion ui` (through the CLI's main) with _CHILD launched instead of Streamlit.
_WRAPPER = f"""
import os, sys
from defusion.cli import ui as ui_cli
from defusion.cli.main import main
ui_cli.importlib = type(sys)("fake_importlib")
ui_cli.importlib.util = type(sys)("fake_util")
ui_cli.importlib.util.find_spec = lambda name: True
ui_cli.command = lambda args: ([sys.executable, "-c", {_CHILD!r}, sys.argv[1]], dict(os.environ))
sys.exit(main(["ui"]))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_stop_signal_stops_the_streamlit_child_too(name, tmp_path):
    """`kill PID` (or a service manager's SIGTERM / SIGHUP) on `defusion ui` must not orphan Streamlit."""
    signum = getattr(signal, name)
    pid_file = tmp_path / "child.pid"
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(pid_file)], stderr=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2], encoding="utf-8")
    child = None
    try:
        assert _wait_for(pid_file.exists, 60), "the stand-in child never started"
        child = int(pid_file.read_text(encoding="utf-8"))
        os.kill(proc.pid, signum)
        status = proc.wait(timeout=30)
        assert _wait_for(lambda: not _alive(child), 5), f"the child outlived `defusion ui` (exit status {status})"
        err = proc.stderr.read()  # after the child is gone: it shares the pipe
        assert status == 0, err  # stopped cleanly: no failure for a service manager (the ops audit: it was 143)
        assert "Traceback" not in err and f"defusion: {name}: stopping the web UI" in err
        assert f"defusion: stopped by {name}" in err
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_stop_kills_a_child_that_ignores_sigterm():
    child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, "
                              "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
                             stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        assert child.stdout.readline() == "ready\n"
        started = time.monotonic()
        ui_cli.stop(child, grace=0.5)
        assert child.returncode == -signal.SIGKILL and time.monotonic() - started < 10
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()


@pytest.mark.parametrize("given", ["0", "65536", "http"])
def test_bad_port(given, capsys):
    """Refused when parsed, a usage error (exit status 2) in the words defusion serve uses."""
    with pytest.raises(SystemExit) as exit_:
        _parse("--port", given)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --port: must be" in err and given in err
    assert _parse("--port", "65535").port == 65535


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
