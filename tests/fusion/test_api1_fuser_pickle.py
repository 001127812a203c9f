"""A Fuser on ONNX Runtime (the default on a CPU) pickles and deep-copies: its network travels as the
export's path and opens a session of its own, fusing bit-identically, so that it can go to worker
processes. Its session once made ``copy.deepcopy``, ``pickle.dumps`` and a process pool fail with
"cannot pickle 'onnxruntime...InferenceSession' object"."""

from __future__ import annotations

import copy
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion.onnx_runtime import OnnxDeNet, OnnxModelError

pytest.importorskip("onnxruntime")

#: Side of the test pair: small, one network pass.
SIDE = 24
#: Worker processes of the pool test: the audit's two.
WORKERS = 2


@pytest.fixture(scope="module")
def onnx_fuser(tiny_weights, tmp_path_factory) -> Fuser:
    """A Fuser of the tiny weights on ONNX Runtime, exported into a cache of this module's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEFUSION_CACHE", str(tmp_path_factory.mktemp("cache")))
        fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="onnxruntime", scale=1)
    assert isinstance(fuser.model, OnnxDeNet)
    return fuser


@pytest.fixture(scope="module")
def pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    return [tuple(rng.integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8) for _ in range(2)) for _ in range(WORKERS)]


def test_a_deep_copy_has_its_own_session_and_fuses_bit_identically(onnx_fuser, pairs):
    copied = copy.deepcopy(onnx_fuser)
    assert copied.model is not onnx_fuser.model and copied.model._session is not onnx_fuser.model._session
    assert copied.model.path == onnx_fuser.model.path and copied.options == onnx_fuser.options
    assert repr(copied) == repr(onnx_fuser)
    for a, b in pairs:
        assert np.array_equal(copied.fuse(a, b), onnx_fuser.fuse(a, b))


def test_a_pickle_round_trip_fuses_bit_identically(onnx_fuser, pairs):
    restored = pickle.loads(pickle.dumps(onnx_fuser))
    assert isinstance(restored.model, OnnxDeNet) and restored.weights == onnx_fuser.weights
    a, b = pairs[0]
    assert np.array_equal(restored.fuse(a, b), onnx_fuser.fuse(a, b))


def test_worker_processes_fuse_as_the_parent_does(onnx_fuser, pairs):
    expected = [onnx_fuser.fuse(a, b) for a, b in pairs]
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        fused = list(pool.map(Fuser.fuse, [onnx_fuser] * WORKERS, *zip(*pairs)))
    assert all(np.array_equal(got, want) for got, want in zip(fused, expected))


def test_an_export_gone_or_replaced_since_pickling_is_refused_in_one_line(onnx_fuser, tmp_path):
    from defusion.fusion.onnx_runtime import _reopened

    path = tmp_path / "tiny.onnx"
    path.write_bytes(onnx_fuser.model.path.read_bytes())
    net = OnnxDeNet(path, threads=1)
    pickled = pickle.dumps(net)
    replaced = {**net.metadata, "weights_sha256_16": "0" * 16}  # what another export's file would say
    with pytest.raises(OnnxModelError, match="has changed since it was pickled") as err:
        _reopened(str(path), "cpu", 1, replaced, net._sha256)
    path.unlink()
    with pytest.raises(OnnxModelError, match="is gone") as gone:
        pickle.loads(pickled)
    assert "\n" not in str(err.value) + str(gone.value)
