"""`defusion ui` guards against DNS rebinding (a foreign Host refused, page and WebSocket) and makes no
outbound call (Streamlit's checkip.amazonaws.com lookup); the ops audit's reproductions, fixed."""

from __future__ import annotations

import asyncio
import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from defusion.cli import ui as ui_cli
from defusion.cli.errors import run_guarded
from defusion.cli.main import build_parser
from defusion.ui.host_guard import ENV_ALLOWED_HOSTS, HostGuard, allowed_from_env, cross_origin, host_refusal
from tests.conftest import free_port

#: Seconds `defusion ui` gets to answer /_stcore/health (it starts in about 3 s here; no model loads
#: until a page runs).
START_TIMEOUT_S = 60


def _parse(*argv):
    return build_parser().parse_args(["ui", *map(str, argv)])


# --- the rules, without a server ---------------------------------------------------------------

def test_host_refusal_loopback_names_and_allowed_names_only():
    assert host_refusal("127.0.0.1:8501", ()) is None and host_refusal("[::1]:8501", ()) is None
    assert host_refusal("LocalHost:8501", ()) is None and host_refusal("127.0.0.2", ()) is None
    assert host_refusal("lab.example:8501", ("lab.example",)) is None
    said = host_refusal("evil.example:8501", ())
    assert said and "\n" not in said and "--allowed-host evil.example" in said
    assert host_refusal(None, ()).startswith("no Host header")
    assert host_refusal("evil.example", None) is None  # no check (a UI on 0.0.0.0 without --allowed-host)
    assert len(host_refusal("x" * 5000, ())) < 400  # a huge Host is not echoed whole


def test_cross_origin_websocket():
    assert not cross_origin(None, "127.0.0.1:8501")
    assert not cross_origin("http://127.0.0.1:8501", "127.0.0.1:8501")
    assert cross_origin("http://evil.example:8501", "127.0.0.1:8501")
    assert cross_origin("http://127.0.0.1:9999", "127.0.0.1:8501")


def test_allowed_from_env():
    assert allowed_from_env({}) is None and allowed_from_env({ENV_ALLOWED_HOSTS: ""}) == ()
    assert allowed_from_env({ENV_ALLOWED_HOSTS: "Lab.Example,[::1]"}) == ("lab.example", "::1")


def _through_guard(kind, headers, allowed):
    """What HostGuard sends for one request; 'passed' where it handed the request on."""
    sent = []

    async def inner(scope, receive, send):
        sent.append("passed")

    async def send(message):
        sent.append(message)

    scope = {"type": kind, "path": "/", "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    asyncio.run(HostGuard(inner, allowed)(scope, None, send))
    return sent


def test_guard_answers_page_400_and_closes_websocket():
    page = _through_guard("http", {"host": "evil.example:8501"}, ())
    assert page[0]["status"] == 400 and b"DNS rebinding" in page[1]["body"]
    assert _through_guard("http", {"host": "localhost:8501"}, ()) == ["passed"]
    ws = _through_guard("websocket", {"host": "evil.example:8501", "origin": "http://evil.example:8501"}, ())
    assert ws == [{"type": "websocket.close", "code": 1008}]
    # no Host check on 0.0.0.0 without --allowed-host, but never a WebSocket from another origin
    assert _through_guard("websocket", {"host": "evil.example:8501", "origin": "http://evil.example:8501"},
                          None) == ["passed"]
    assert _through_guard("websocket", {"host": "10.0.0.5:8501", "origin": "http://evil.example"},
                          None)[0]["type"] == "websocket.close"


# --- what `defusion ui` starts -------------------------------------------------------------------

def _flags(cmd):
    return [(cmd[i], cmd[i + 1]) for i in range(5, len(cmd) - 1, 2)]


def test_command_guards_a_loopback_host(monkeypatch):
    monkeypatch.setenv(ENV_ALLOWED_HOSTS, "stale.example")
    cmd, env = ui_cli.command(_parse("--host", "127.0.0.1"))
    assert env[ENV_ALLOWED_HOSTS] == ""
    assert [v for k, v in _flags(cmd) if k == "--server.allowedHosts"] == ["localhost", "127.0.0.1", "::1"]
    cmd, env = ui_cli.command(_parse("--host", "127.0.0.2", "--allowed-host", "Lab.Example"))
    assert env[ENV_ALLOWED_HOSTS] == "lab.example"
    assert [v for k, v in _flags(cmd) if k == "--server.allowedHosts"][-2:] == ["127.0.0.2", "lab.example"]


def test_command_on_all_interfaces_checks_host_only_when_asked(monkeypatch):
    monkeypatch.setenv(ENV_ALLOWED_HOSTS, "stale.example")
    cmd, env = ui_cli.command(_parse("--host", "0.0.0.0"))
    assert ENV_ALLOWED_HOSTS not in env and "--server.allowedHosts" not in cmd
    _, env = ui_cli.command(_parse("--host", "0.0.0.0", "--allowed-host", "fusion.lab"))
    assert env[ENV_ALLOWED_HOSTS] == "fusion.lab"


@pytest.mark.parametrize("host, shown", [("0.0.0.0", "localhost"), ("::", "localhost"), ("127.0.0.1", "127.0.0.1")])
def test_command_sets_the_browser_address_so_streamlit_looks_up_no_external_ip(host, shown):
    # Streamlit asks checkip.amazonaws.com for this machine's address to print an "External URL" on a
    # wildcard address unless browser.serverAddress is set (streamlit/web/bootstrap.py, _print_url)
    cmd, _ = ui_cli.command(_parse("--host", host))
    assert ("--browser.serverAddress", shown) in _flags(cmd)


def test_allowed_host_with_a_scheme_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        _parse("--allowed-host", "http://lab.example:8501")
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--allowed-host" in err and "without scheme or port" in err


# --- a real `defusion ui` ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fake_proxy():
    """A listening socket named as the HTTP(S) proxy: any outbound HTTP call the UI makes with
    ``requests`` (Streamlit's external-IP lookup) connects here instead of leaving the machine."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


@pytest.fixture(scope="module")
def ui(tmp_path_factory, fake_proxy):
    """`defusion ui` on 127.0.0.1 and a free port (its own process group, stopped in teardown)."""
    pytest.importorskip("streamlit")
    port = free_port()
    log = tmp_path_factory.mktemp("ui") / "ui.log"
    proxy = f"http://127.0.0.1:{fake_proxy.getsockname()[1]}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "NO_PROXY": "", "no_proxy": "",
           **{name: proxy for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")}}
    cmd = [sys.executable, "-m", "defusion.cli.main", "ui", "--port", str(port), "--host", "127.0.0.1",
           "--device", "cpu"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while _status(port, "GET", "/_stcore/health", {"Host": f"127.0.0.1:{port}"}) != 200:
            assert proc.poll() is None, f"`defusion ui` exited ({proc.returncode}): {log.read_text(encoding='utf-8')}"
            assert time.monotonic() < deadline, f"no answer in {START_TIMEOUT_S} s: {log.read_text(encoding='utf-8')}"
            time.sleep(0.25)
        yield port, log
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the group (the CLI and its Streamlit child); SIGKILL it if still there after 15 s."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _status(port: int, method: str, path: str, headers: dict[str, str]) -> int | None:
    """The status of one request to the UI with these headers (Host exactly as given); None where
    nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders()
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()


def _upgrade(port: int, host: str, origin: str | None) -> int | None:
    """The status of a WebSocket upgrade of the UI's stream (101: opened)."""
    headers = {"Host": host, "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
               "Sec-WebSocket-Protocol": "streamlit"}
    if origin:
        headers["Origin"] = origin
    return _status(port, "GET", "/_stcore/stream", headers)


def _outbound_calls(proxy: socket.socket) -> int:
    """Connections the fake proxy got (each accepted and closed)."""
    proxy.settimeout(1.5)  # Streamlit's lookup times out after 1 s: it would have connected by now
    count = 0
    while True:
        try:
            conn, _ = proxy.accept()
        except (socket.timeout, BlockingIOError):
            return count
        conn.close()
        count += 1


def test_page_refuses_a_foreign_host_and_answers_localhost(ui):
    port, _ = ui
    assert _status(port, "GET", "/", {"Host": f"evil.example:{port}"}) == 400
    assert _status(port, "GET", "/_stcore/health", {"Host": "evil.example"}) == 400
    assert _status(port, "GET", "/", {"Host": f"localhost:{port}"}) == 200
    assert _status(port, "GET", "/", {"Host": f"127.0.0.1:{port}"}) == 200


def test_websocket_refuses_a_foreign_host_and_opens_for_localhost(ui):
    port, _ = ui
    assert _upgrade(port, f"evil.example:{port}", f"http://evil.example:{port}") == 403  # the audit's 101
    assert _upgrade(port, f"localhost:{port}", f"http://localhost:{port}") == 101
    assert _upgrade(port, f"127.0.0.1:{port}", None) == 101


def test_a_cross_origin_websocket_is_refused_without_any_outbound_call(ui, fake_proxy):
    port, log = ui
    assert _outbound_calls(fake_proxy) == 0  # none at start on a loopback address
    assert _upgrade(port, f"127.0.0.1:{port}", "https://fusion.example.com") == 403
    assert _outbound_calls(fake_proxy) == 0
    assert "Did not auto detect external IP" not in Path(log).read_text(encoding="utf-8")


def test_a_streamlit_without_st_app_is_refused_in_one_line(monkeypatch, capsys):
    import streamlit

    assert ui_cli.streamlit_problem() is None  # the installed one serves the guarded UI
    monkeypatch.delattr(streamlit, "App")
    said = ui_cli.streamlit_problem()
    assert said and "st.App" in said and streamlit.__version__ in said and "\n" not in said
    started = []
    monkeypatch.setattr(ui_cli.subprocess, "Popen", lambda *a, **k: started.append(a))
    status = run_guarded(lambda: ui_cli.run(_parse("--port", free_port())), ui_cli.EXPECTED_ERRORS)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "pip install -U 'streamlit>=" in err, err
    assert not started  # not started unguarded
