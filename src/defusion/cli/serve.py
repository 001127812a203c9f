"""``defusion serve``: the REST API (FastAPI + uvicorn) over the fusion core.

Endpoints: ``POST /v1/fuse`` (multipart files ``a``, ``b``; ``?components=true`` for a zip),
``GET /healthz``, ``GET /readyz``, ``GET /v1/info``. See docs/serving.md.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import ipaddress
import os
import re
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any, Iterator

from defusion.cli.errors import UserError
from defusion.cli.options import (add_gain_options, add_model_options, add_onnx_option, add_palette_option,
                                  add_rig_option, add_scale_option, add_task_option, add_tile_option,
                                  check_onnx_options, check_tile, non_negative_int, positive_int, tcp_port)
from defusion.io.progress import DUMB_TERM, is_terminal
from defusion.model.errors import WeightsError
from defusion.serving import is_loopback
from defusion.serving.header_timeout import header_timeout_protocol
from defusion.serving.limits import (DEFAULT_MAX_IMAGES, DEFAULT_MAX_QUEUE, DEFAULT_MAX_UPLOAD_BYTES,
                                     DEFAULT_SERVER_MAX_PIXELS, HEADER_TIMEOUT_S, MAX_IMAGES, MIN_IMAGES,
                                     UPLOAD_DEADLINE_S, UPLOAD_IDLE_TIMEOUT_S)


HELP = "serve fusion over HTTP: POST /v1/fuse, GET /healthz, GET /readyz, GET /v1/info (needs the 'serve' extra)"

#: Seconds an idle keep-alive connection stays open: above the 60 s idle timeout load balancers
#: commonly default to (AWS's ALB, nginx's upstream keepalive_timeout), so the balancer closes an
#: idle connection first; a server that closes first races the balancer reusing it, and the request
#: it sends then fails (a 502). uvicorn's own default is 5 s. Behind a balancer that keeps idle
#: connections longer (Google Cloud's: 600 s), raise it above that.
DEFAULT_TIMEOUT_KEEP_ALIVE_S = 75
#: The connections the kernel holds for a socket before the server accepts them (uvicorn's default).
BACKLOG = 2048
#: The signals that stop the server (as uvicorn handles them): Ctrl-C's and a service manager's.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The variable that, set to anything but empty, asks a program for no colour (https://no-color.org).
NO_COLOR = "NO_COLOR"
#: uvicorn's log formatters (its LOGGING_CONFIG) and the stream each one's handler writes to: its own
#: lines to stderr, the access log to stdout; each coloured only where its stream may be (uvicorn alone
#: asks whether stdout is a terminal, for both).
LOG_STREAMS = {"default": "stderr", "access": "stdout"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=tcp_port, default=8000, help="TCP port (default 8000)")
    add_model_options(p, fp16=False)
    add_onnx_option(p)
    p.add_argument("--max-upload-bytes", type=positive_int, default=DEFAULT_MAX_UPLOAD_BYTES,
                   help=f"refuse uploaded files larger than this (default {DEFAULT_MAX_UPLOAD_BYTES:,}, 50 MiB)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_SERVER_MAX_PIXELS,
                   help=f"refuse images with more pixels (default {DEFAULT_SERVER_MAX_PIXELS:,}; a request's peak "
                        "memory grows with its pixels: docs/serving.md, 'Memory')")
    p.add_argument("--max-images", type=int, default=DEFAULT_MAX_IMAGES,
                   help=f"most images one request may fuse, {MIN_IMAGES}-{MAX_IMAGES} (default "
                        f"{DEFAULT_MAX_IMAGES}; fields a, b, c, ...)")
    p.add_argument("--max-queue", type=non_negative_int, default=DEFAULT_MAX_QUEUE,
                   help="most requests held besides the one being fused (reading, decoding, waiting for the "
                        f"model); more are answered 503 with Retry-After (default {DEFAULT_MAX_QUEUE})")
    p.add_argument("--upload-timeout", type=positive_seconds, default=UPLOAD_IDLE_TIMEOUT_S, metavar="S",
                   help="seconds to wait for the next piece of a request's body; an upload that stalls longer is "
                        f"answered 408 and gives up its place in the queue (default {UPLOAD_IDLE_TIMEOUT_S:g})")
    p.add_argument("--upload-deadline", type=positive_seconds, default=UPLOAD_DEADLINE_S, metavar="S",
                   help="seconds a request's whole body may take to arrive, however steadily it trickles in; a "
                        "slower upload is answered 408 and gives up its place in the queue (default "
                        f"{UPLOAD_DEADLINE_S:g}: a 64 MB upload at 4.3 Mbit/s)")
    p.add_argument("--cors-origin", action="append", type=cors_origin, metavar="ORIGIN",
                   help="let pages of this origin (https://app.example.com, or * for any) call the API from a "
                        "browser (CORS); repeat for more (default: none)")
    p.add_argument("--allowed-host", action="append", type=allowed_host, metavar="NAME",
                   help="a host name (or address) the server answers to besides loopback ones (localhost, "
                        "127.0.0.1, ::1), whatever the port; repeat for more. Bound to a loopback address, the "
                        "server refuses other Host headers (400: a guard against DNS rebinding); bound to "
                        "another address, it checks Host only where this is given (default: none)")
    add_tile_option(p)
    add_scale_option(p)
    add_task_option(p)
    add_gain_options(p)
    add_palette_option(p)
    add_rig_option(p)
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    p.add_argument("--timeout-keep-alive", type=positive_int, default=DEFAULT_TIMEOUT_KEEP_ALIVE_S, metavar="S",
                   help="seconds an idle keep-alive connection stays open (default "
                        f"{DEFAULT_TIMEOUT_KEEP_ALIVE_S}: above a load balancer's usual 60 s idle timeout)")
    p.add_argument("--header-timeout", type=positive_seconds, default=HEADER_TIMEOUT_S, metavar="S",
                   help="seconds a request's line and headers may take to arrive, from the connection's start "
                        "(or the next request's first byte on a kept-alive one); a slower client is answered 408 "
                        f"and closed, one that sent nothing closed (default {HEADER_TIMEOUT_S:g})")
    p.add_argument("--timeout-graceful-shutdown", type=positive_int, default=None, metavar="S",
                   help="on SIGTERM or Ctrl-C, seconds to let requests in progress finish before they are "
                        "cancelled (default: no limit); set it below your orchestrator's kill timeout")
    p.add_argument("--root-path", default="", type=root_path, metavar="PREFIX",
                   help="the path prefix a reverse proxy serves the API under and strips before passing requests "
                        "on (/fusion for https://example.com/fusion/v1/fuse), for /docs and the OpenAPI schema "
                        "(uvicorn's --root-path; default none)")
    p.add_argument("--forwarded-allow-ips", default=None, metavar="ADDRESSES",
                   help="addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto headers "
                        "are trusted, comma-separated, or * (uvicorn's option; default: $FORWARDED_ALLOW_IPS, "
                        "else 127.0.0.1)")
    # every default marked, so that a DEFUSION_* variable fills an option the command line did not give (given())
    p.set_defaults(**{action.dest: _Default.mark(action.default) for action in p._actions
                      if action.default is not None and action.default is not argparse.SUPPRESS
                      and not isinstance(action.default, bool)})


class _Default:
    """A mixin marking a parser's default value (an int, float or str equal to it), so that an option left at
    its default is told apart from the same value given on the command line (:func:`given`)."""

    _kinds: dict[type, type] = {}

    @classmethod
    def mark(cls, value: Any) -> Any:
        kind = type(value)
        if kind not in (int, float, str):
            return value
        marked = cls._kinds.get(kind) or cls._kinds.setdefault(kind, type(f"Default{kind.__name__.title()}",
                                                                           (cls, kind), {}))
        return marked(value)


def given(args: argparse.Namespace, dest: str) -> bool:
    """Whether the command line gave ``dest``'s option (a value other than the parser's unmarked default).

    Example:
        >>> p = argparse.ArgumentParser(); add_arguments(p)
        >>> given(p.parse_args(["--max-images", "4"]), "max_images"), given(p.parse_args([]), "max_images")
        (True, False)
    """
    value = getattr(args, dest, None)
    return value is not None and not isinstance(value, _Default)


def plain_values(args: argparse.Namespace) -> None:
    """``args`` with every marked default (:class:`_Default`) made the plain value it stands for."""
    for dest, value in vars(args).items():
        if isinstance(value, _Default):
            setattr(args, dest, type(value).__mro__[2](value))


def root_path(text: str) -> str:
    """argparse type: a URL path prefix, ``/fusion`` (a trailing slash dropped), or empty for none.

    Example:
        >>> root_path("/fusion/"), root_path("")
        ('/fusion', '')
    """
    if not text:
        return ""
    if not text.startswith("/") or re.search(r"[\s?#]", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a path prefix: give one starting with /, e.g. /fusion")
    return text.rstrip("/")


def positive_seconds(text: str) -> float:
    """argparse type: a number of seconds above 0 (and finite)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def cors_origin(text: str) -> str:
    """argparse type: a browser origin, ``scheme://host[:port]`` without a path (what a browser
    sends in ``Origin``; ``https://app.example.com/`` would never match), or ``*``."""
    if text == "*" or re.fullmatch(r"https?://[^/\s?#]+", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an origin: give scheme://host[:port] with no path or "
                                     "trailing slash, e.g. https://app.example.com, or *")


def allowed_host(text: str) -> str:
    """argparse type: a host name or IP address as a Host header names it, without port or scheme
    (``api.example.com``, ``192.0.2.7``, ``::1``); lower case."""
    name = text.strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if re.fullmatch(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*", name):
        return name
    raise argparse.ArgumentTypeError(f"{text!r} is not a host name: give the name alone, without scheme or "
                                     "port, e.g. api.example.com")


def allowed_hosts(host: str, names: list[str] | None) -> tuple[str, ...] | None:
    """The Host names the server answers to besides loopback ones (create_app's ``allowed_hosts``):
    bound to a loopback ``host``, only those ``names`` (--allowed-host), so a web page's name that
    its author points at 127.0.0.1 (DNS rebinding) is refused; bound elsewhere, ``names`` if any
    were given, else None (no check: the names a server on 0.0.0.0 is reached by are not known).

    Example:
        >>> allowed_hosts("127.0.0.1", None), allowed_hosts("0.0.0.0", None), allowed_hosts("0.0.0.0", ["a.example"])
        ((), None, ('a.example',))
    """
    if is_loopback(host):
        return tuple(names or ())
    return tuple(names) if names else None


def check_options(args: argparse.Namespace) -> None:
    """The rules across options (tile, image count, --onnx with --weights): shared with the server's
    DEFUSION_* environment settings (defusion.serving.env_settings.settings_from_env)."""
    check_tile(args)
    if not MIN_IMAGES <= args.max_images <= MAX_IMAGES:
        raise UserError(f"--max-images must be from {MIN_IMAGES} to {MAX_IMAGES}, got {args.max_images}")
    check_onnx_options(args)


def run(args: argparse.Namespace) -> int:
    """Serve until stopped: 0 where a stop signal (SIGTERM, Ctrl-C) let every request in progress be
    answered, 128 + the signal (143, 130) where the shutdown cut some off (:func:`stopped`)."""
    try:
        import uvicorn

        from defusion.serving.api import Limits, build_app
        from defusion.serving.env_settings import resolve, unknown_variables
    except ImportError as exc:
        raise UserError(f"serving needs the 'serve' extra: pip install 'defusion[serve]' ({exc})") from None
    for line in unknown_variables():
        print(f"defusion: warning: {line}", file=sys.stderr)
    options, sources = resolve(args)  # the DEFUSION_* variables, where the command line gave no option
    said = sources.describe()
    if said:
        print(f"defusion: {said}", file=sys.stderr)
    sockets = bind(args.host, args.port)  # first: a port in use fails at once, not after loading the model
    try:
        app = build_app(args.weights, args.device,
                        Limits(args.max_upload_bytes, args.max_pixels, args.max_images, args.max_queue,
                               args.upload_timeout, args.upload_deadline),
                        onnx=args.onnx, threads=args.threads, runtime=args.runtime,
                        cors_origins=tuple(args.cors_origin or ()),
                        allowed_hosts=allowed_hosts(args.host, args.allowed_host), task=args.task, **options)
        if not is_loopback(args.host):
            print(f"defusion: warning: serving on {args.host}: the API has no authentication; "
                  "put it behind a proxy that has", file=sys.stderr)
        behind = f"; behind a reverse proxy under {args.root_path}" if args.root_path else ""
        print(f"defusion: serving on http://{_url_host(args.host)}:{args.port} (device {app.state.fuser.device}"
              f"{behind}); Ctrl-C stops", file=sys.stderr)
        config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                                log_config=log_config(args.log_level), timeout_keep_alive=args.timeout_keep_alive,
                                timeout_graceful_shutdown=args.timeout_graceful_shutdown, root_path=args.root_path,
                                http=header_timeout_protocol(args.header_timeout),
                                **({"forwarded_allow_ips": args.forwarded_allow_ips}
                                   if args.forwarded_allow_ips is not None else {}))
        server = uvicorn.Server(config)
        try:
            with stop_signals(server) as received:
                server.run(sockets=sockets)
        except OSError as exc:  # the sockets listen already: a failure here is the network's, worth one line
            raise UserError(f"serving on {_url_host(args.host)}:{args.port} failed: {exc.strerror or exc}") from None
    finally:
        for sock in sockets:
            sock.close()
    return stopped(received, getattr(getattr(app.state, "cut_off", None), "count", 0))


@contextlib.contextmanager
def stop_signals(server: Any) -> Iterator[list[int]]:
    """While inside, SIGTERM and Ctrl-C stop ``server`` (uvicorn's graceful shutdown) and are noted in
    the list yielded, instead of being raised again as an interrupt once it has stopped: uvicorn
    restores the handlers it found and re-raises the signals it caught, which under ``defusion``'s
    main (SIGTERM as Ctrl-C, ``sigterm_as_interrupt``) made a clean stop exit 143, "interrupted".
    One that comes before uvicorn takes the signals over stops it too. Outside the main thread
    (which alone may set handlers) nothing changes. The previous handlers are restored after."""
    received: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        server.handle_exit(signum, frame)

    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous = {signum: signal.signal(signum, note) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stopped(received: list[int], cut_off: int) -> int:
    """The exit status of a server stopped by the signals ``received`` (none: it stopped by itself, 0),
    said in one line: 0 where the shutdown cut off no request in progress (``cut_off``: the requests
    cancelled, --timeout-graceful-shutdown having run out), as a service manager expects of a clean
    stop; else 128 + the signal (143 for SIGTERM, 130 for Ctrl-C), as an interrupted command's.

    Example:
        >>> stopped([signal.SIGTERM], 0), stopped([signal.SIGTERM], 2)
        (0, 143)
    """
    if not received:
        return 0
    signum = received[0]
    name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
    if cut_off:
        print(f"defusion: stopped by {name}: {cut_off} request{'s' if cut_off > 1 else ''} in progress "
              f"{'were' if cut_off > 1 else 'was'} cut off (answered 503 where an answer could still be sent; "
              "--timeout-graceful-shutdown bounds the wait)", file=sys.stderr)
        return 128 + signum
    print(f"defusion: stopped by {name}; every request in progress was answered", file=sys.stderr)
    return 0


def bind(host: str, port: int) -> list[socket.socket]:
    """TCP sockets listening on ``host``:``port``, one for each address ``host`` resolves to (as
    uvicorn listens: ``localhost`` on 127.0.0.1 and ::1, :func:`socket_options`); a UserError naming the
    address if it cannot be (in use, not this machine's, unknown). They listen at once: a second
    server cannot bind the same port meanwhile (SO_REUSEADDR lets two sockets bind one port until
    one listens), and connections that come while the model loads wait in the backlog."""
    where = f"cannot listen on {_url_host(host)}:{port}"
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UserError(f"{where}: {exc.strerror or exc}") from None
    addresses = list(dict.fromkeys((family, address) for family, _, _, _, address in found
                                   if family in (socket.AF_INET, socket.AF_INET6)))
    sockets: list[socket.socket] = []
    try:
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            for level, option, value in socket_options(family, len(addresses) > 1):
                sock.setsockopt(level, option, value)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.set_inheritable(True)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise UserError(f"{where}: {exc.strerror or exc}") from None
    if not sockets:
        raise UserError(f"{where}: no IPv4 or IPv6 address")
    return sockets


def socket_options(family: int, several: bool) -> list[tuple[int, int, int]]:
    """The ``setsockopt`` arguments :func:`bind` gives a socket of ``family`` before binding it:
    SO_REUSEADDR on POSIX only (a restart binds the port again at once, its old connections still in
    TIME_WAIT); on Windows it would let the socket bind a port another server listens on, so it is
    left out there, as ``socket.create_server`` does. An IPv6 socket among ``several`` takes IPv6 only
    (the IPv4 address has its own socket).

    Example:
        >>> opts = socket_options(socket.AF_INET, several=False)
        >>> opts == ([(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)] if os.name == "posix" else [])
        True
    """
    options = [(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)] if os.name == "posix" else []
    if family == socket.AF_INET6 and several:
        options.append((socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1))
    return options


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def colour_refused() -> bool:
    """Whether the environment asks for no colour, whatever the stream: ``NO_COLOR`` set to anything but
    empty (https://no-color.org), or ``TERM=dumb`` (:data:`~defusion.io.progress.DUMB_TERM`)."""
    return bool(os.environ.get(NO_COLOR)) or os.environ.get("TERM") == DUMB_TERM


def colour_wanted(stream: object) -> bool:
    """Whether what is written to ``stream`` may be coloured: a terminal that redraws a line
    (:func:`~defusion.io.progress.is_terminal`: not a file, a pipe, nor ``TERM=dumb``), and no
    :func:`colour_refused`.

    Example:
        >>> import io
        >>> colour_wanted(io.StringIO())
        False
    """
    return is_terminal(stream) and not colour_refused()


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the server's own logger (``defusion``: a client that
    left, an upload that failed to decode at ``debug``) beside uvicorn's, in its format and at
    ``level``; without it those lines would be lost (Python shows only warnings by default). Each
    formatter colours its lines only where its stream takes colour (:func:`colour_wanted`,
    :data:`LOG_STREAMS`): uvicorn alone colours both wherever stdout is a terminal, whatever ``NO_COLOR``
    and ``TERM=dumb`` say."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["defusion"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    for formatter, stream in LOG_STREAMS.items():
        config["formatters"][formatter]["use_colors"] = colour_wanted(getattr(sys, stream))
    return config


# OnnxModelError (a bad --onnx file) is a ValueError.
EXPECTED_ERRORS = (WeightsError, FileNotFoundError, ValueError, OSError)
