"""``defusion ui``: the web UI (Streamlit) over the fusion core, in a browser at http://HOST:PORT."""

from __future__ import annotations

import argparse
import importlib.util
import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from defusion.cli.errors import EXIT_INTERRUPTED, UserError
from defusion.cli.options import positive_int, tcp_port
from defusion.cli.serve import allowed_host, allowed_hosts, colour_refused
from defusion.fusion.choices import DEFAULT_DEVICE, DEVICES
from defusion.model.errors import WeightsError
from defusion.serving import is_loopback
# the app's settings, without Streamlit or the fusion core: --help stays fast
from defusion.ui.host_guard import ENV_ALLOWED_HOSTS
from defusion.ui.settings import (DEFAULT_MAX_UPLOAD_MB, DEFAULT_UI_MAX_PIXELS, ENV_DEVICE, ENV_MAX_PIXELS,
                                  ENV_WEIGHTS)

HELP = "start the web UI (Streamlit): upload or pick two images, see fused image, components, metrics"

#: Signals that stop ``defusion ui`` and, with it, the Streamlit child (SIGHUP: not on Windows).
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
#: Seconds the child gets to exit by itself before it is terminated, then killed.
GRACE_S = 10
#: Loopback names put in Streamlit's ``server.allowedHosts`` (a list of names: it cannot say
#: 127.0.0.0/8, which the Host guard, defusion.ui.host_guard, accepts whole).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
#: The Streamlit version the UI is tested with (its st.App and server.allowedHosts are needed).
TESTED_STREAMLIT = "1.67"
#: How the UI starts Streamlit: its command line, as ``streamlit`` itself.
STREAMLIT = ("-m", "streamlit")
#: ...and where no colour is asked for (:func:`~defusion.cli.serve.colour_refused`): the same command line
#: (Streamlit's ``__main__`` runs ``main(prog_name="streamlit")``) with click's colour off. Streamlit has no
#: option or variable for it: its banner is ``click.secho``, which colours any terminal, NO_COLOR and
#: TERM=dumb or not (it strips colour only where stdout is no terminal); ``color=False`` on click's root
#: context holds for every echo under the command (tried with Streamlit 1.67 and click 8.5).
STREAMLIT_WITHOUT_COLOUR = ("-c", "from streamlit.web.cli import main; main(prog_name='streamlit', color=False)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=tcp_port, default=8501, help="TCP port (default 8501)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--weights", type=Path, help="weights file (default: the weights shipped in the package)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES, help=f"default: {DEFAULT_DEVICE}")
    p.add_argument("--max-upload-mb", type=positive_int, default=DEFAULT_MAX_UPLOAD_MB,
                   help=f"refuse uploaded files larger than this many MB (default {DEFAULT_MAX_UPLOAD_MB})")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_UI_MAX_PIXELS,
                   help=f"refuse images with more pixels (default {DEFAULT_UI_MAX_PIXELS:,})")
    p.add_argument("--allowed-host", action="append", type=allowed_host, metavar="NAME",
                   help="a host name (or address) the UI answers to besides loopback ones (localhost, "
                        "127.0.0.1, ::1), whatever the port; repeat for more. On a loopback --host, the UI "
                        "refuses other Host headers (a guard against DNS rebinding); on another --host, it "
                        "checks Host only where this is given (default: none)")


def _check(args: argparse.Namespace) -> None:
    if args.weights is not None and not Path(args.weights).is_file():
        raise WeightsError(f"weights file not found: {args.weights}")


def command(args: argparse.Namespace) -> tuple[list[str], dict[str, str]]:
    """The ``streamlit run`` command line and environment that serve the app: ``ui_server.py``
    (``app.py`` behind the Host guard); ``browser.serverAddress`` set, so that Streamlit never asks
    checkip.amazonaws.com for this machine's address to print it (on a wildcard ``--host``); its
    banner uncoloured where NO_COLOR or TERM=dumb asks (:data:`STREAMLIT_WITHOUT_COLOUR`)."""
    from defusion.ui import SERVER_PATH

    hosts = allowed_hosts(args.host, args.allowed_host)
    cmd = [sys.executable, *(STREAMLIT_WITHOUT_COLOUR if colour_refused() else STREAMLIT), "run", str(SERVER_PATH),
           "--server.headless", "true",
           "--server.port", str(args.port),
           "--server.address", args.host,
           "--server.maxUploadSize", str(args.max_upload_mb),
           "--browser.serverAddress", browser_host(args.host),
           "--browser.gatherUsageStats", "false"]
    if hosts is not None:  # Streamlit's own check of the WebSocket's Host too, should the guard be bypassed
        bound = (args.host,) if is_loopback(args.host) else ()  # e.g. 127.0.0.2
        for name in dict.fromkeys((*LOOPBACK_NAMES, *bound, *hosts)):
            cmd += ["--server.allowedHosts", name]
    env = dict(os.environ)
    if hosts is None:
        env.pop(ENV_ALLOWED_HOSTS, None)
    else:
        env[ENV_ALLOWED_HOSTS] = ",".join(hosts)
    env[ENV_DEVICE] = args.device
    env[ENV_MAX_PIXELS] = str(args.max_pixels)
    if args.weights is not None:
        env[ENV_WEIGHTS] = str(Path(args.weights).resolve())
    else:
        env.pop(ENV_WEIGHTS, None)
    return cmd, env


def run(args: argparse.Namespace) -> int:
    _check(args)
    if importlib.util.find_spec("streamlit") is None:
        raise UserError("the web UI needs the 'ui' extra: pip install 'defusion[ui]'")
    problem = streamlit_problem()
    if problem:
        raise UserError(f"{problem}: pip install -U 'streamlit>={TESTED_STREAMLIT}'")
    cmd, env = command(args)
    check_port(args.host, args.port)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"defusion: warning: serving the UI on {args.host}: it has no authentication", file=sys.stderr)
    print(f"defusion: web UI on {address(args.host, args.port)}; Ctrl-C stops", file=sys.stderr)
    proc = subprocess.Popen(cmd, env=env)
    with _stop_on_signals():
        try:
            return proc.wait()
        except KeyboardInterrupt:  # Streamlit got the Ctrl-C too: let it shut down
            stop(proc, wait_first=GRACE_S)
            return EXIT_INTERRUPTED
        except Stopped as exc:  # SIGTERM / SIGHUP reached this process only: pass it on
            name = signal.Signals(exc.signum).name
            print(f"defusion: {name}: stopping the web UI", file=sys.stderr)
            if stop(proc):  # it had to be killed: a service manager should see the stop as failed
                return 128 + exc.signum
            print(f"defusion: stopped by {name}", file=sys.stderr)
            return 0  # asked to stop, and stopped cleanly: `systemctl stop` is no failure


def streamlit_problem() -> str | None:
    """Why the installed Streamlit cannot serve the UI behind its Host guard, in one line: the guard
    needs ``st.App`` (Streamlit's ASGI entry, which takes middleware) and the ``server.allowedHosts``
    option; None where it can. Imports Streamlit (about a second), so only when starting."""
    import streamlit
    from streamlit import config

    try:
        config.get_option("server.allowedHosts")
    except RuntimeError:  # "Config key ... not defined"
        return f"Streamlit {streamlit.__version__} has no server.allowedHosts option, which the web UI needs"
    if not hasattr(streamlit, "App"):
        return f"Streamlit {streamlit.__version__} has no st.App, which the web UI's Host guard needs"
    return None


def check_port(host: str, port: int) -> None:
    """Refuse, in ``defusion serve``'s words, a ``host``:``port`` this machine cannot listen on (a
    port in use, an address not its own) before announcing the UI: Streamlit would say so only after
    the announcement, in its own words and with exit status 1. The sockets are closed again at once
    (Streamlit binds its own; another program could take the port in between, as rarely as that is)."""
    from defusion.cli.serve import bind

    try:
        sockets = bind(host, port)
    except UserError as exc:
        raise UserError(f"{exc}; start the UI on another --port") from None
    for sock in sockets:
        sock.close()


def browser_host(host: str) -> str:
    """The host a browser reaches the UI at (Streamlit's ``browser.serverAddress``): ``host``, or
    ``localhost`` for a wildcard one (0.0.0.0, ::), which no browser can open.

    Example:
        >>> browser_host("0.0.0.0"), browser_host("::1"), browser_host("lab.example")
        ('localhost', '::1', 'lab.example')
    """
    try:
        wildcard = ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        wildcard = False
    return "localhost" if wildcard else host


def address(host: str, port: int) -> str:
    """The URL a browser opens the UI at: a wildcard ``host`` (0.0.0.0, ::), which no browser can open,
    as http://localhost, saying that it listens on every interface (other machines: this one's address).

    Example:
        >>> address("::1", 8501), address("0.0.0.0", 8501).split(" (")[0]
        ('http://[::1]:8501', 'http://localhost:8501')
    """
    try:
        wildcard = ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a host name
        wildcard = False
    if wildcard:
        return f"http://localhost:{port} (listening on all interfaces: other machines use this one's address)"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class Stopped(Exception):
    """Raised in the main thread by a stop signal, so that the Streamlit child is stopped too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """While inside, the first SIGTERM or SIGHUP raises :class:`Stopped` instead of killing this
    process outright (which would leave Streamlit running, orphaned); later ones are ignored, so
    that e.g. a service manager's SIGTERM then SIGHUP do not interrupt the shutdown. The previous
    handlers are restored after."""
    fired = False

    def handler(signum: int, frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            raise Stopped(signum)

    previous = {}
    try:
        for signum in STOP_SIGNALS:
            previous[signum] = signal.signal(signum, handler)
    except ValueError:  # not the main thread: signals cannot be caught here
        pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def stop(proc: subprocess.Popen, wait_first: float = 0.0, grace: float = GRACE_S) -> bool:
    """Stop ``proc``: give it ``wait_first`` s to exit by itself, then SIGTERM, then SIGKILL after ``grace`` s.
    Whether it had to be killed.

    A Ctrl-C (or, after a Ctrl-C, a stop signal) while waiting skips to SIGKILL: the child never outlives
    this process.
    """
    try:
        if wait_first > 0:
            try:
                proc.wait(timeout=wait_first)
                return False
            except subprocess.TimeoutExpired:
                pass
        proc.terminate()
        try:
            proc.wait(timeout=grace)
            return False
        except subprocess.TimeoutExpired:
            pass
    except (KeyboardInterrupt, Stopped):
        pass
    proc.kill()
    proc.wait()
    return True


EXPECTED_ERRORS = (WeightsError, FileNotFoundError, ValueError, OSError)
