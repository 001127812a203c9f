"""The ONNX export cache keeps the exports used last (CACHED_EXPORTS_KEPT) and deletes older ones of its own:
each new weights file added an export (32.5 MB for the shipped weights) and nothing ever removed one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from defusion.fusion import onnx_runtime  # its globals patched where its functions read them
from defusion.fusion import export
from defusion.fusion.onnx_runtime import CACHED_EXPORTS_KEPT, cached_onnx_export, prune_exports


def _fake_exports(folder: Path, count: int, suffix: str = "-gdd", start: int = 0) -> list[Path]:
    """``count`` tiny files named as the cache names its exports, the first the least recently used."""
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(start, start + count):
        path = folder / f"denet-{i:016x}{suffix}.onnx"
        path.write_bytes(b"not really an export")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
        made.append(path)
    return made


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_the_most_recently_used_are_kept_and_only_the_caches_own_files_deleted(tmp_path):
    folder = tmp_path / "onnx"
    exports = _fake_exports(folder, 5) + _fake_exports(folder, 1, "-gd", 5) + _fake_exports(folder, 1, "", 6)
    strangers = ["notes.txt", "denet-nothex0000000000-gdd.onnx", "denet-0000000000000000-gdd.onnx.bak",
                 ".denet-0000000000000000-gdd.onnx.123.abcdef01.tmp", "mine.onnx"]  # an export being written too
    for name in strangers:
        (folder / name).write_bytes(b"someone's")
        os.utime(folder / name, (1, 1))  # older than every export
    (folder / "denet-00000000000000ff-gdd.onnx").mkdir()  # named like one, not a file
    (folder / "denet-00000000000000fe-gdd.onnx").symlink_to(tmp_path / "elsewhere.onnx")
    deleted = prune_exports(folder, kept=3)
    assert sorted(deleted) == sorted(exports[:4])  # the oldest, earlier versions' names counted alike
    assert _names(folder) == {p.name for p in exports[4:]} | set(strangers) | {
        "denet-00000000000000ff-gdd.onnx", "denet-00000000000000fe-gdd.onnx"}


def test_the_export_about_to_be_used_stays_however_old(tmp_path):
    exports = _fake_exports(tmp_path, 4)
    assert sorted(prune_exports(tmp_path, keep=exports[0], kept=2)) == exports[1:3]
    assert _names(tmp_path) == {exports[0].name, exports[3].name}


def test_a_delete_that_fails_fails_nothing(tmp_path, monkeypatch):
    exports = _fake_exports(tmp_path, 3)

    def refused(self, missing_ok=False):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "unlink", refused)
    assert prune_exports(tmp_path, kept=1) == []
    assert prune_exports(tmp_path / "missing", kept=1) == []
    assert all(p.is_file() for p in exports)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(onnx_runtime, "_warned", set())
    monkeypatch.setattr(onnx_runtime, "_private_folder", None)
    return tmp_path / "cache" / "onnx"


def test_a_new_export_prunes_the_cache_and_a_used_one_is_touched_and_kept(cache, tiny_weights, monkeypatch):
    """No real export: export_onnx writes a tiny file, which the digest check is told to trust."""
    exported = []
    monkeypatch.setattr(export, "export_onnx", lambda model, path, **_: exported.append(path) or path.write_bytes(b"x"))
    monkeypatch.setattr(onnx_runtime, "_not_an_export_of", lambda path, digest: None)
    cache.mkdir(parents=True, mode=0o700)
    old = _fake_exports(cache, CACHED_EXPORTS_KEPT + 2)
    path = cached_onnx_export(tiny_weights)
    assert exported == [path]
    assert _names(cache) == {path.name} | {p.name for p in old[-(CACHED_EXPORTS_KEPT - 1):]}
    os.utime(path, (1, 1))  # the least recently used of all, until it is used again
    _fake_exports(cache, 1, start=100)
    assert cached_onnx_export(tiny_weights) == path and exported == [path]  # reused, not exported again
    assert path.stat().st_mtime > 1_000_000 and len(_names(cache)) == CACHED_EXPORTS_KEPT


def test_an_export_used_in_the_grace_period_is_never_pruned(tmp_path):
    """Another process may have just checked and touched it, and be about to open it: however many
    others are newer, an export used in the last PRUNE_GRACE_SECONDS stays."""
    from defusion.fusion.onnx_runtime import PRUNE_GRACE_SECONDS

    folder = tmp_path / "onnx"
    made = _fake_exports(folder, CACHED_EXPORTS_KEPT + 2)
    now = time.time()
    for i, path in enumerate(made):  # all used within the grace period, the first longest ago
        os.utime(path, (now - PRUNE_GRACE_SECONDS / 2 + i,) * 2)
    assert prune_exports(folder) == [] and all(p.exists() for p in made)
    os.utime(made[0], (now - 2 * PRUNE_GRACE_SECONDS,) * 2)  # now out of it: the one beyond those kept goes
    os.utime(made[1], (now - 2 * PRUNE_GRACE_SECONDS + 1,) * 2)
    assert set(prune_exports(folder)) == {made[0], made[1]}
