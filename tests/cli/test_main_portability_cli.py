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
def fuse():
    print("fused 1 of 1")
    raise OSError(errno.EINVAL, "Invalid argument")  # what a write to a closed pipe raises on Windows
sys.exit(errors.run_guarded(fuse, (OSError,)))
"""


@pytest.mark.parametrize("windows, to_pipe, status", [(True, True, 1), (True, False, 2), (False, True, 2)])
def test_a_closed_pipe_said_as_einval_on_windows_is_a_closed_pipe(tmp_path, windows, to_pipe, status):
    """On Windows a closed pipe can raise OSError(EINVAL) (CPython gh-79935), which was said as the
    command's error, exit status 2: now, where stdout is a pipe, it is the closed pipe it is (exit 1,
    nothing said); anywhere else, or off Windows, EINVAL stays an error said in one line."""
    code = _EINVAL_RUN.format(windows=windows)
    with open(tmp_path / "out.txt", "wb") as file:
        result = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE if to_pipe else file,
                                stderr=subprocess.PIPE, timeout=120)
    err = result.stderr.decode()
    assert result.returncode == status and "Traceback" not in err, err
    assert err == ("" if status == 1 else "defusion: error: [Errno 22] Invalid argument\n")
