"""The ``defusion`` command where output is not UTF-8 (Windows' cp1252 when redirected: see
test_calibrate_portability_cli.py for a whole command) and where a closed pipe is said as EINVAL
(Windows): no crash, no traceback."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from defusion.cli.main import main, tolerate_unencodable

def test_only_a_strict_stream_that_lacks_characters_is_changed():
    cp1252 = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    assert tolerate_unencodable(cp1252) and cp1252.errors == "backslashreplace"
    for stream in (io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.TextIOWrapper(io.BytesIO(), encoding="utf-16"),
                   io.TextIOWrapper(io.BytesIO(), encoding="cp1252", errors="replace"), io.StringIO(), object()):
        errors = getattr(stream, "errors", None)
        assert not tolerate_unencodable(stream) and getattr(stream, "errors", None) == errors


def test_errors_the_user_chose_are_kept(monkeypatch):
    monkeypatch.setenv("PYTHONIOENCODING", "cp1252:strict")
    stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    assert not tolerate_unencodable(stream) and stream.errors == "strict"


def test_a_stream_without_reconfigure_is_left_alone(monkeypatch, capsys):
    """A test harness's or an embedding program's stdout need not be a TextIOWrapper."""
    class Plain:
        encoding = "cp1252"

        def __init__(self):
            self.text = []

        def write(self, text):
            self.text.append(text)

        def flush(self):
            pass

    plain = Plain()
    monkeypatch.setattr(sys, "stdout", plain)
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and "defusion" in "".join(plain.text)


_EINVAL_RUN = """
import errno, sys
from defusion.cli import errors
errors.WINDOWS = {windows}
class Stdout:  # the real one, whose flush fails as a write to a closed pipe can on Windows
    def __init__(self, real): self.real = real
    def write(self, text): return self.real.write(text)
    def fileno(self): return self.real.fileno()
    def flush(self): raise OSError(errno.EINVAL, "Invalid argument")
def fuse():
    print("fused 1 of 1")
    if {in_command}:
        raise OSError(errno.EINVAL, "Invalid argument")  # a socket's, a device's: not the pipe's
    sys.stdout = Stdout(sys.stdout)
status = errors.run_guarded(fuse, (OSError,))
sys.stdout = sys.__stdout__
sys.exit(status)
"""


@pytest.mark.parametrize("windows, to_pipe, in_command, status", [
    (True, True, False, 1), (True, False, False, 2), (False, True, False, 2), (True, True, True, 2)])
def test_a_closed_pipe_said_as_einval_on_windows_is_a_closed_pipe(tmp_path, windows, to_pipe, in_command, status):
    """On Windows a closed pipe can raise OSError(EINVAL) (CPython gh-79935), which was said as the
    command's error, exit status 2: now, where stdout is a pipe and the output's last flush raises it,
    it is the closed pipe it is (exit 1, nothing said); anywhere else, off Windows, or raised within
    the command (anything's EINVAL), it stays an error said in one line."""
    code = _EINVAL_RUN.format(windows=windows, in_command=in_command)
    with open(tmp_path / "out.txt", "wb") as file:
        result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE if to_pipe else file,
                                stderr=subprocess.PIPE, timeout=120)
    err = result.stderr.decode()
    assert result.returncode == status and "Traceback" not in err, err
    assert err == ("" if status == 1 else "defusion: error: [Errno 22] Invalid argument\n")
