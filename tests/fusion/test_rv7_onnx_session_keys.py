"""The sessions unpickled ONNX networks keep (``onnx_runtime._reopened``): keyed by the file's bytes
(SHA-256), not its mtime or inode, hashed once on a miss, and opened without holding the global lock."""

from __future__ import annotations

import os
import pickle
import threading
from collections import OrderedDict

import numpy as np
import pytest

from defusion.fusion import onnx_runtime
from defusion.fusion.fuser import Fuser
from defusion.fusion.onnx_runtime import OnnxDeNet, OnnxModelError
from defusion.model.registry import create_model

pytest.importorskip("onnxruntime")

#: Side of the test pair: small, one network pass.
SIDE = 24
#: Seconds a thread is given to unpickle while another opens a session: opening the tiny export takes
#: well under a second; a thread waiting on the global lock would wait until the test releases it.
OPEN_WAIT_S = 20.0


@pytest.fixture(autouse=True)
def no_kept_sessions(monkeypatch):
    """Each test starts with no session kept from another."""
    monkeypatch.setattr(onnx_runtime, "_reopened_sessions", OrderedDict())
    monkeypatch.setattr(onnx_runtime, "_inherited", [])


def _export(path, seed: int = 0):
    """An export of the tiny network with random weights of ``seed`` at ``path``."""
    import torch

    from defusion.fusion.export import export_onnx

    torch.manual_seed(seed)
    export_onnx(create_model("defusion-tiny"), path)
    return path


@pytest.fixture()
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return tuple(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8) for _ in range(2))


def test_a_touched_export_keeps_its_session(tmp_path):
    path = _export(tmp_path / "denet.onnx")
    pickled = pickle.dumps(OnnxDeNet(path, threads=1))
    first = pickle.loads(pickled)
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))  # what cached_onnx_export does on each use
    second = pickle.loads(pickled)
    assert second._session is first._session
    assert len(onnx_runtime._reopened_sessions) == 1


def test_a_file_rewritten_in_place_with_its_size_and_mtime_runs_the_new_bytes(tmp_path, pair):
    old_bytes = _export(tmp_path / "a.onnx", seed=0).read_bytes()
    new_file = _export(tmp_path / "b.onnx", seed=1)
    new_bytes = new_file.read_bytes()
    assert len(new_bytes) == len(old_bytes) and new_bytes != old_bytes
    live = tmp_path / "live.onnx"
    live.write_bytes(old_bytes)
    old_pickle = pickle.dumps(Fuser(OnnxDeNet(live, threads=1)))
    pickle.loads(old_pickle)  # a worker now keeps a session of the old bytes
    info = live.stat()
    with open(live, "r+b") as file:  # same inode, same size; the mtime put back (cp -p, rsync -t)
        file.write(new_bytes)
    os.utime(live, ns=(info.st_atime_ns, info.st_mtime_ns))
    restored = pickle.loads(pickle.dumps(Fuser(OnnxDeNet(live, threads=1))))
    assert np.array_equal(restored.fuse(*pair), Fuser(OnnxDeNet(new_file, threads=1)).fuse(*pair))
    with pytest.raises(OnnxModelError, match="has changed since it was pickled"):
        pickle.loads(old_pickle)


def test_a_miss_hashes_the_file_once(tmp_path, monkeypatch):
    path = _export(tmp_path / "denet.onnx")
    pickled = pickle.dumps(OnnxDeNet(path, threads=1))
    hashed = []
    real = onnx_runtime._sha256_of
    monkeypatch.setattr(onnx_runtime, "_sha256_of", lambda file: hashed.append(file) or real(file))
    pickle.loads(pickled)
    assert len(hashed) == 1


def test_another_file_unpickles_while_a_session_opens(tmp_path, monkeypatch):
    slow = _export(tmp_path / "slow.onnx", seed=0)
    quick = _export(tmp_path / "quick.onnx", seed=1)
    slow_pickle, quick_pickle = (pickle.dumps(OnnxDeNet(p, threads=1)) for p in (slow, quick))
    opening, release = threading.Event(), threading.Event()
    real = OnnxDeNet._make_session

    def make_session(self, providers):
        if self.path == slow:
            opening.set()
            release.wait(OPEN_WAIT_S)
        return real(self, providers)

    monkeypatch.setattr(OnnxDeNet, "_make_session", make_session)
    got = {}
    slow_thread = threading.Thread(target=lambda: got.setdefault("slow", pickle.loads(slow_pickle)))
    quick_thread = threading.Thread(target=lambda: got.setdefault("quick", pickle.loads(quick_pickle)))
    slow_thread.start()
    try:
        assert opening.wait(OPEN_WAIT_S)
        quick_thread.start()
        quick_thread.join(OPEN_WAIT_S / 2)
        assert "quick" in got  # not left waiting on the slow file's session
    finally:
        release.set()
        slow_thread.join()
        quick_thread.join()
    assert "slow" in got


def test_the_fuser_docstring_sends_a_pool_a_spawn_context_not_fork():
    text = " ".join(Fuser.__doc__.split())
    assert 'mp_context=multiprocessing.get_context("spawn")' in text and "forkserver" in text
    assert "initargs=(fuser,)" in text
