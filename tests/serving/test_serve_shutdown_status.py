"""An ops audit: a clean graceful shutdown (SIGTERM, the request in flight answered 200) made `defusion serve`
exit 143 and say "defusion: interrupted" (uvicorn re-raises the signal it caught once stopped, and defusion's
main takes SIGTERM as an interrupt), so `systemctl stop` marked the unit failed; plain uvicorn exits 0. A
stop that answers every request in progress now exits 0 with a "stopped" line; one that cut requests off
(--timeout-graceful-shutdown ran out) keeps 128 + the signal."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import urllib.request

import pytest

from defusion.cli.main import main
from defusion.cli.serve import stopped
from tests.conftest import free_port

#: Seconds the test waits for the server to answer /healthz before giving up.
START_S = 30


def _stop_when_up(port: int, before_stop=None) -> threading.Thread:
    """A thread that waits for the server on ``port``, runs ``before_stop`` and sends this process SIGTERM."""

    def go() -> None:
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        if before_stop is not None:
            before_stop()
        os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


def _serve(tiny_weights, port: int, *more: str) -> int:
    return main(["serve", "--weights", str(tiny_weights), "--runtime", "torch", "--device", "cpu",
                 "--port", str(port), "--log-level", "warning", *more])


def test_a_clean_stop_by_sigterm_exits_0_saying_so(tiny_weights, capsys):
    port = free_port()
    thread = _stop_when_up(port)
    assert _serve(tiny_weights, port) == 0
    thread.join()
    err = capsys.readouterr().err
    assert "defusion: stopped by SIGTERM; every request in progress was answered" in err
    assert "interrupted" not in err


def test_a_stop_that_cuts_a_request_off_keeps_143(tiny_weights, capsys):
    port = free_port()
    held = []

    def stall_an_upload() -> None:  # a request whose body never ends: the shutdown's bound cancels it
        sock = socket.create_connection(("127.0.0.1", port))
        sock.sendall(b"POST /v1/fuse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
                     b"boundary=x\r\nContent-Length: 1000\r\n\r\n--x\r\n")
        held.append(sock)
        time.sleep(0.5)

    thread = _stop_when_up(port, stall_an_upload)
    assert _serve(tiny_weights, port, "--timeout-graceful-shutdown", "1") == 143
    thread.join()
    for sock in held:
        sock.close()
    assert "defusion: stopped by SIGTERM: 1 request in progress was cut off" in capsys.readouterr().err


@pytest.mark.parametrize("received, cut_off, status", [
    ([], 0, 0), ([signal.SIGTERM], 0, 0), ([signal.SIGINT], 0, 0), ([signal.SIGTERM], 2, 143),
    ([signal.SIGINT], 1, 130)])
def test_the_exit_status_follows_whether_requests_were_cut_off(received, cut_off, status, capsys):
    assert stopped(received, cut_off) == status
    err = capsys.readouterr().err
    assert err.count("\n") == (1 if received else 0) and ("Ctrl-C" in err) == (signal.SIGINT in received)
