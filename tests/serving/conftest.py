"""Fixtures for the serving tests: one CPU thread, the lively model and what `defusion serve` would serve
(lively_weights lives in tests/conftest.py)."""

from __future__ import annotations

import argparse
from typing import Any, Callable

import pytest

from tests.conftest import free_port

LOOPBACK = "127.0.0.1"
STOP = "stop before serving"


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one intra-op thread (see tests/conftest.py)."""


@pytest.fixture(scope="module")
def fuser(lively_weights):
    """The lively tiny weights on the CPU: the server's model in these tests."""
    from defusion.fusion.fuser import Fuser

    return Fuser.from_pretrained(lively_weights, device="cpu")


@pytest.fixture(scope="module")
def client(fuser):
    """A test client of the app at the default limits."""
    from fastapi.testclient import TestClient

    from defusion.serving.api import Limits, create_app

    with TestClient(create_app(fuser, Limits())) as c:
        yield c


@pytest.fixture
def served_settings(monkeypatch) -> Callable[..., dict[str, Any]]:
    """``run(*argv)``: what ``defusion serve *argv`` hands ``build_app``, with no model loaded.

    ``build_app`` is replaced (through the test's own ``monkeypatch``, so ``monkeypatch.undo()`` restores it)
    by one that records its arguments and stops the server; a free 127.0.0.1 port is added where argv names
    none. The answer is one dict: ``weights``, ``device``, ``limits`` and build_app's keyword arguments, e.g.
    ``served_settings("--task", "ivf")["task"] == "ivf"``.
    """
    from defusion.cli import serve as serve_cli
    from defusion.cli.errors import UserError

    seen: dict[str, Any] = {}

    def fake_build_app(weights, device, limits, **kwargs):
        seen.update(weights=weights, device=device, limits=limits, **kwargs)
        raise UserError(STOP)

    monkeypatch.setattr("defusion.serving.api.build_app", fake_build_app)
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)

    def run(*argv) -> dict[str, Any]:
        if "--port" not in argv:
            argv = (*argv, "--port", free_port())
        seen.clear()
        with pytest.raises(UserError, match=STOP):
            serve_cli.run(parser.parse_args([str(a) for a in argv]))
        return dict(seen)

    return run


@pytest.fixture
def uvicorn_config(fuser, monkeypatch) -> Callable[..., tuple[int, Any]]:
    """``run(*argv)``: ``defusion serve *argv``'s exit status and the uvicorn config it made, serving the
    test's ``fuser`` (a free 127.0.0.1 port added where argv names none) with uvicorn's server replaced by
    one that records its config and serves nothing."""
    from defusion.cli import serve as serve_cli
    from defusion.serving.api import Limits, create_app

    seen: dict[str, Any] = {}

    class RecordingServer:
        def __init__(self, config):
            seen["config"] = config

        def run(self, sockets):
            pass

    monkeypatch.setattr("defusion.serving.api.build_app", lambda *args, **kwargs: create_app(fuser, Limits()))
    monkeypatch.setattr("uvicorn.Server", RecordingServer)
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)

    def run(*argv) -> tuple[int, Any]:
        if "--port" not in argv:
            argv = (*argv, "--port", free_port())
        seen.clear()
        status = serve_cli.run(parser.parse_args([str(a) for a in argv]))
        return status, seen.get("config")

    return run


def run_export(*argv) -> int:
    """``defusion export ARGV`` through its module (no subprocess): its exit status. What the library
    says is said as the command says it (``defusion: note: ...`` lines), as under ``main()``."""
    from defusion.cli import export as export_module
    from defusion.io.notes import as_lines

    parser = argparse.ArgumentParser()
    export_module.add_arguments(parser)
    with as_lines():
        return export_module.run(parser.parse_args([str(a) for a in argv]))


@pytest.fixture(scope="session")
def exported(lively_weights, tmp_path_factory) -> dict[str, Any]:
    """The lively weights in both formats, exported once by the CLI (with its parity check, at a size
    that needs padding): ``{"onnx": path, "torchscript": path}``. Tests read them, never change them."""
    out = tmp_path_factory.mktemp("export")
    paths = {"onnx": out / "tiny.onnx", "torchscript": out / "tiny.pt"}
    for fmt, path in paths.items():
        assert run_export("--format", fmt, "-o", path, "--weights", lively_weights) == 0
    return paths
