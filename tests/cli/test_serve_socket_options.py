"""`defusion serve`'s listening sockets: SO_REUSEADDR on POSIX only. On Windows it lets a socket bind
a port another server already listens on (so a second server would start silently beside the first);
CPython's socket.create_server leaves it out there too. Windows is emulated by os.name == "nt"."""

from __future__ import annotations

import os
import socket

from defusion.cli.serve import bind, socket_options

REUSE = (socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
V6ONLY = (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)


def test_reuse_address_is_set_on_posix_only(monkeypatch):
    with monkeypatch.context() as patch:  # os.name patched only around the pure calls
        patch.setattr(os, "name", "posix")
        posix = socket_options(socket.AF_INET, several=False), socket_options(socket.AF_INET6, several=True)
        patch.setattr(os, "name", "nt")
        windows = socket_options(socket.AF_INET, several=False), socket_options(socket.AF_INET6, several=True)
    assert posix == ([REUSE], [REUSE, V6ONLY])
    assert windows == ([], [V6ONLY])


def _reuse(sockets: list[socket.socket]) -> list[bool]:
    try:
        return [bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_bind_sets_the_options_chosen(monkeypatch):
    assert _reuse(bind("127.0.0.1", 0)) == [os.name == "posix"]
    with monkeypatch.context() as patch:
        patch.setattr(os, "name", "nt")
        sockets = bind("127.0.0.1", 0)
    assert _reuse(sockets) == [False]
