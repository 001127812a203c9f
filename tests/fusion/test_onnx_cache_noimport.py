"""A cached ONNX export is checked without importing onnx (performance audit): ``import onnx`` (ml_dtypes) and
parsing the 32 MB export cost every cached run 0.8-1.1 s of CPU for one metadata key, which the file's
top-level fields hold. The checks it made stay: a stale, foreign or truncated cache file is exported again."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from defusion.fusion import onnx_runtime  # its globals patched where its functions read them
from defusion.fusion.onnx_runtime import OnnxDeNet, cached_onnx_export, export_metadata

pytest.importorskip("onnxruntime")

#: A fresh process that fuses with a cached export and says whether onnx was imported on the way.
_FUSE_AND_SAY = """
import sys
import numpy as np
from defusion.fusion.fuser import Fuser
fuser = Fuser.from_pretrained(sys.argv[1], device="cpu", runtime="onnxruntime", threads=1)
fuser.fuse(np.full((24, 32), 0.25, np.float32), np.full((24, 32), 0.75, np.float32))
print(type(fuser.model).__name__, "onnx" in sys.modules)
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(onnx_runtime, "_warned", set())
    monkeypatch.setattr(onnx_runtime, "_private_folder", None)
    return tmp_path / "cache"


def _fuse_in_a_fresh_process(weights) -> tuple[str, str]:
    done = subprocess.run([sys.executable, "-c", _FUSE_AND_SAY, str(weights)], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), done.stderr


def test_a_fusion_with_a_cached_export_does_not_import_onnx(cache, tiny_weights):
    path = cached_onnx_export(tiny_weights)  # exported here (the exporter needs onnx), used there
    said, err = _fuse_in_a_fresh_process(tiny_weights)
    assert said == "OnnxDeNet False", err
    assert "exporting" not in err and [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_stale_cache_file_is_still_replaced_in_a_fresh_process(cache, tiny_weights, lively_weights):
    path = cached_onnx_export(tiny_weights)
    other = cached_onnx_export(lively_weights)
    shutil.copyfile(other, path)  # the export of other weights under this one's name
    said, err = _fuse_in_a_fresh_process(tiny_weights)
    assert said.startswith("OnnxDeNet ")
    assert f"the cached ONNX export {path} is not an export of these weights" in err and "exporting it again" in err
    assert export_metadata(path)["weights_sha256_16"] in path.name


def test_the_metadata_read_is_onnx_runtimes(cache, lively_weights):
    path = cached_onnx_export(lively_weights)
    assert export_metadata(path) == dict(OnnxDeNet(path)._session.get_modelmeta().custom_metadata_map)


@pytest.mark.parametrize("cut", [1, 20, 1000, -1])
def test_a_file_cut_anywhere_does_not_pass_as_the_export(cache, tiny_weights, cut):
    path = cached_onnx_export(tiny_weights)
    digest = export_metadata(path)["weights_sha256_16"]
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    problem = onnx_runtime._not_an_export_of(path, digest)
    assert problem is not None and problem.startswith(("cannot be parsed as ONNX", "is not an export"))
    path.write_bytes(data + b"\xff")  # a byte after the last field: a field that ends inside a number
    assert onnx_runtime._not_an_export_of(path, digest).startswith("cannot be parsed as ONNX (")


def test_a_file_that_is_no_protobuf_cannot_be_parsed(tmp_path):
    path = tmp_path / "x.onnx"
    for junk in (b"\x00\x00", b"\x0b\x00\x00\x00", b"\xff" * 11):  # field 0, a group, a number too long
        path.write_bytes(junk)
        with pytest.raises(ValueError):
            export_metadata(path)
    assert onnx_runtime._not_an_export_of(tmp_path / "missing.onnx", "0" * 16).startswith("cannot be parsed")
