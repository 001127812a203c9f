"""The image carries the ONNX export `defusion serve` would make at first start (the ops audit: ready
after 47 s on a fresh container, 8.4 s with the cache filled; 69 s with `uvicorn --workers 2`)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import REPO, free_port
from tests.container.test_dockerfile import parse_dockerfile

STAGES = parse_dockerfile((REPO / "Dockerfile").read_text(encoding="utf-8"))
RUNTIME = STAGES[-1]
#: The audit's first start that exports: 47 s with one process, 69 s with two workers exporting.
EXPORTING_START_S = 69
#: What `cached_onnx_export` prints before it exports (defusion.fusion.runtime._announce_export).
EXPORTING = "exporting the model to ONNX"


def _export_step() -> tuple[int, str]:
    """Where the runtime stage's RUN that makes the ONNX export is, and its ``python -c`` code."""
    for index, (instruction, args) in enumerate(RUNTIME):
        if instruction == "RUN" and "load_network" in args:
            words = shlex.split(args.split("&&")[0])
            assert words[:2] == ["python", "-c"], args
            return index, words[2]
    raise AssertionError("the runtime stage has no RUN that makes the ONNX export (load_network)")


def _env() -> dict[str, str]:
    env = {}
    for instruction, args in RUNTIME:
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    return env


def test_the_export_is_made_as_the_runtime_user_after_the_install():
    index, code = _export_step()
    before = RUNTIME[:index]
    assert any(i == "COPY" and a.startswith("--from=build") for i, a in before), "the venv is copied first"
    users = [a for i, a in before if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), \
        "run as the runtime user: the cache trusts only its own user's files"
    # the server's own call, on the runtime it picks on a CPU (ONNX Runtime), with the shipped weights
    assert "load_network(None, 'onnxruntime')" in code
    compile(code, "<Dockerfile RUN>", "exec")


def test_the_export_goes_into_the_cache_the_server_reads():
    env = _env()
    cache = env.get("DEFUSION_CACHE", "")
    assert cache.startswith(env["HOME"] + "/"), "the runtime user's own folder"
    index, _ = _export_step()
    assert all(not (i == "ENV" and "DEFUSION_CACHE=" in a) for i, a in RUNTIME[index:]), "set before the RUN"
    assert f"chmod 700 {cache.rsplit('/', 1)[0]}" in RUNTIME[index][1], \
        "another --user is refused the folder (and runs PyTorch), not handed a cache it would not trust"


def test_start_period_covers_a_start_that_still_exports():
    (check,) = [a for i, a in RUNTIME if i == "HEALTHCHECK"]
    (seconds,) = re.findall(r"--start-period=(\d+)s", check)
    assert int(seconds) >= EXPORTING_START_S * 1.5, check  # e.g. other --weights, an empty volume on the cache


@pytest.mark.slow
def test_the_run_step_fills_a_cache_a_server_then_uses(tmp_path):
    """The RUN's command itself, into a fresh DEFUSION_CACHE; then `defusion serve` with that cache is
    ready without exporting again (about 40 s + 9 s on a 2-core machine)."""
    _, code = _export_step()
    env = {**os.environ, "DEFUSION_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    made = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          encoding="utf-8", timeout=600)
    assert made.returncode == 0, made.stderr
    assert EXPORTING in made.stderr
    (export,) = (tmp_path / "cache" / "onnx").glob("denet-*.onnx")
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "defusion.cli.main", "serve", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + EXPORTING_START_S
        while True:
            assert server.poll() is None, log.read_text(encoding="utf-8")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(30)
    assert EXPORTING not in log.read_text(encoding="utf-8")
    assert [p.name for p in (tmp_path / "cache" / "onnx").glob("denet-*.onnx")] == [export.name]
