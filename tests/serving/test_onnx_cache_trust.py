"""The ONNX export cache trusts a file only where no one else could have put it (security audit, finding 4):
its name is predictable, so a planted, stale or corrupt file must be exported again, and a folder that others
may write to must not be used."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.fusion import onnx_runtime  # its globals patched where its functions read them
from defusion.fusion.onnx_runtime import OnnxDeNet, cached_onnx_export
from tests.conftest import smooth_image


@pytest.fixture(autouse=True)
def _said_as_the_command_says_it():
    """What the cache has to say, as the lines ``defusion`` prints (a Python caller gets DefusionWarnings)."""
    from defusion.io.notes import as_lines

    with as_lines():
        yield

pytest.importorskip("onnxruntime")
posix_only = pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(onnx_runtime, "_warned", set())  # each test sees its own first warning
    monkeypatch.setattr(onnx_runtime, "_private_folder", None)
    return tmp_path / "cache"


def _pair():
    rng = np.random.default_rng(7)
    return smooth_image(rng, 37, 45), smooth_image(rng, 37, 45, 1)


def test_a_planted_export_of_other_weights_is_replaced_and_fuses_as_the_clean_one(cache, lively_weights,
                                                                                   tiny_weights, capsys):
    a, b = _pair()
    path = cached_onnx_export(lively_weights)
    clean = Fuser.from_pretrained(lively_weights, device="cpu", runtime="onnxruntime", threads=1).fuse(a, b)
    planted = cached_onnx_export(tiny_weights)  # a real export, of other weights, under the predictable name
    shutil.copyfile(planted, path)
    capsys.readouterr()
    fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="onnxruntime", threads=1)
    err = capsys.readouterr().err
    assert f"the cached ONNX export {path} is not an export of these weights" in err and "exporting it again" in err
    assert isinstance(fuser.model, OnnxDeNet) and fuser.model.path == path
    assert np.array_equal(fuser.fuse(a, b), clean)
    assert path.read_bytes() != planted.read_bytes()


def test_a_corrupt_export_is_replaced_once_not_warned_about_on_every_run(cache, tiny_weights, capsys):
    path = cached_onnx_export(tiny_weights)
    whole = path.stat().st_size
    path.write_bytes(path.read_bytes()[:1000])  # a truncated file (a full disk, a killed copy)
    capsys.readouterr()
    assert cached_onnx_export(tiny_weights) == path
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be parsed as ONNX" in err and "exporting it again" in err
    assert path.stat().st_size == whole and OnnxDeNet(path).metadata["weights_sha256_16"] in path.name
    assert cached_onnx_export(tiny_weights) == path and capsys.readouterr().err == ""  # fixed for good


@posix_only
def test_a_cached_file_others_may_write_is_exported_again_and_made_private(cache, tiny_weights, capsys):
    path = cached_onnx_export(tiny_weights)
    path.chmod(0o666)
    capsys.readouterr()
    assert cached_onnx_export(tiny_weights) == path
    assert "may be written by others (mode 666); exporting it again" in capsys.readouterr().err
    assert not path.stat().st_mode & 0o022 and (cache / "onnx").stat().st_mode & 0o777 == 0o700


@posix_only
def test_a_world_writable_cache_folder_is_not_used(cache, tiny_weights, capsys):
    cache.mkdir()
    cache.chmod(0o777)  # DEFUSION_CACHE=/tmp, or a shared folder
    path = cached_onnx_export(tiny_weights)
    err = capsys.readouterr().err
    assert f"not using the ONNX cache folder {cache}: it may be written by others (mode 777)" in err
    assert cache not in path.parents and not (cache / "onnx").exists()
    assert path.stat().st_uid == os.getuid() and path.parent.stat().st_mode & 0o777 == 0o700
    assert OnnxDeNet(path).metadata["weights_sha256_16"] in path.name
    assert cached_onnx_export(tiny_weights) == path  # the same private export for the rest of the process
    assert "not using" not in capsys.readouterr().err  # warned once


@posix_only
def test_a_cache_folder_of_another_user_is_not_used(cache, tiny_weights, monkeypatch, capsys):
    (cache / "onnx").mkdir(parents=True, mode=0o700)
    mine = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: mine + 1)  # the folder is now someone else's
    path = cached_onnx_export(tiny_weights)
    assert f"{cache}: it belongs to another user (uid {mine})" in capsys.readouterr().err
    assert cache not in path.parents


def test_a_good_cached_export_is_used_without_loading_the_weights_into_pytorch(cache, tiny_weights, monkeypatch):
    """Performance audit: every run built the PyTorch network before looking in the cache (6 s under load)."""
    import defusion.model.weights as weights_module

    path = cached_onnx_export(tiny_weights)

    def no_load(*args, **kwargs):
        raise AssertionError("the weights were loaded for a cached export")

    monkeypatch.setattr(weights_module, "load_weights", no_load)
    assert cached_onnx_export(tiny_weights) == path
    with pytest.raises(AssertionError, match="loaded for a cached export"):  # a missing export still loads them
        path.unlink()
        cached_onnx_export(tiny_weights)


@posix_only
def test_a_cache_folder_of_ones_own_that_the_group_may_write_is_made_private_and_used(cache, tiny_weights, capsys):
    """Review: under umask 002 earlier versions made ~/.cache/defusion 0775; refusing it would re-export on
    every run. It is this user's own: group write is taken off, and the cache is used."""
    (cache / "onnx").mkdir(parents=True)
    for folder in (cache, cache / "onnx"):
        folder.chmod(0o775)
    path = cached_onnx_export(tiny_weights)
    assert path.parent == cache / "onnx" and "not using the ONNX cache folder" not in capsys.readouterr().err
    assert (cache.stat().st_mode & 0o777, (cache / "onnx").stat().st_mode & 0o777) == (0o755, 0o755)
