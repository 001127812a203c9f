"""An ONNX Runtime network unpickled again and again in one process (a pool's ``map(job, [fuser] * n)``
unpickles the Fuser per task) opens its session once: 4 tasks on one worker took 3.85 s against 0.75 s with
``initializer=``, each unpickle opening the export anew. A pickle keeps the export's absolute path and
SHA-256: one unpickled in another folder found "the file is gone", and a file written over by a new export
of the same architecture (same metadata) was opened and fused with other weights."""

from __future__ import annotations

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
#: Threads unpickling one network at once in the thread test: the audit's two, and a few more.
UNPICKLING_THREADS = 4


@pytest.fixture(autouse=True)
def no_kept_sessions(monkeypatch):
    """Each test starts with no session kept from another (a module's own, not the process's)."""
    monkeypatch.setattr(onnx_runtime, "_reopened_sessions", OrderedDict(), raising=False)
    monkeypatch.setattr(onnx_runtime, "_inherited", [], raising=False)


def _export(path, seed: int = 0):
    """An export of the tiny network with random weights of ``seed`` at ``path``."""
    import torch

    from defusion.fusion.export import export_onnx

    torch.manual_seed(seed)
    export_onnx(create_model("defusion-tiny"), path)
    return path


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return _export(tmp_path_factory.mktemp("export") / "tiny.onnx")


@pytest.fixture()
def pair() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return tuple(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8) for _ in range(2))


def test_repeated_unpickles_in_one_process_run_one_session(export, pair):
    fuser = Fuser(OnnxDeNet(export, threads=1))
    pickled = pickle.dumps(fuser)
    first, second = pickle.loads(pickled), pickle.loads(pickled)
    assert second.model._session is first.model._session  # opened once, not per unpickle
    assert second.model is not first.model  # each copy a network of its own (its device, its name)
    assert np.array_equal(second.fuse(*pair), fuser.fuse(*pair))
    assert len(onnx_runtime._reopened_sessions) == 1


def test_kept_sessions_are_bounded_and_keyed_by_threads(export):
    net = OnnxDeNet(export, threads=1)
    for threads in range(1, onnx_runtime.REOPENED_SESSIONS_KEPT + 2):
        net._threads = threads  # another key each: pickled with that thread count
        pickle.loads(pickle.dumps(net))
    kept = onnx_runtime._reopened_sessions
    assert len(kept) == onnx_runtime.REOPENED_SESSIONS_KEPT
    assert 1 not in {key[3] for key in kept}  # the used first went first


def test_threads_unpickling_at_once_share_one_session(export):
    pickled = pickle.dumps(OnnxDeNet(export, threads=1))
    got, errors = [], []

    def unpickle():
        try:
            got.append(pickle.loads(pickled))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=unpickle) for _ in range(UNPICKLING_THREADS)]
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    assert not errors and len(got) == UNPICKLING_THREADS
    assert len({id(net._session) for net in got}) == 1


def test_an_export_written_over_with_the_same_metadata_is_refused_in_one_line(tmp_path):
    path = _export(tmp_path / "user.onnx", seed=0)
    pickled = pickle.dumps(Fuser(OnnxDeNet(path)))
    _export(path, seed=1)  # new random weights, same architecture and metadata
    with pytest.raises(OnnxModelError) as err:
        pickle.loads(pickled)
    message = str(err.value)
    assert "has changed since it was pickled" in message and "pickle the Fuser again" in message
    assert "\n" not in message


def test_a_network_loaded_by_a_relative_path_unpickles_in_another_folder(tmp_path, monkeypatch, pair):
    _export(tmp_path / "user.onnx")
    monkeypatch.chdir(tmp_path)
    fuser = Fuser(OnnxDeNet("user.onnx"))
    pickled = pickle.dumps(fuser)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    restored = pickle.loads(pickled)
    assert restored.model.path == tmp_path / "user.onnx"
    assert "weights='user.onnx'" in repr(restored)
    assert np.array_equal(restored.fuse(*pair), fuser.fuse(*pair))


def test_a_forked_child_opens_its_own_sessions(export):
    pickle.loads(pickle.dumps(OnnxDeNet(export, threads=1)))
    inherited = onnx_runtime._reopened_sessions
    onnx_runtime._forget_inherited_sessions()  # what os.register_at_fork runs in the child
    assert not onnx_runtime._reopened_sessions and onnx_runtime._inherited == [inherited]
    assert len(inherited) == 1  # kept alive, never run nor destroyed there


def test_the_fuser_docstring_sends_a_pool_the_fuser_once():
    text = " ".join(Fuser.__doc__.split())
    assert "initializer=" in text and "initargs=(fuser,)" in text
