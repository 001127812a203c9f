"""cli.job_size's memory check inside containers: a control group's limit, not the machine's memory, is
what a fusion can use (a 24 GB machine running a 4 GB container must warn of a 7 GB fusion)."""

from __future__ import annotations

from pathlib import Path

import pytest

from defusion.cli import job_size

GB = 1_000_000_000


def _machine(tmp_path: Path, monkeypatch, available_kb: int, cgroup_lines: str) -> Path:
    """A fake /proc/meminfo, /proc/self/cgroup and cgroup mount under tmp_path; returns the mount."""
    meminfo, proc = tmp_path / "meminfo", tmp_path / "cgroup"
    meminfo.write_text(f"MemTotal: 24000000 kB\nMemAvailable: {available_kb} kB\n", encoding="utf-8")
    proc.write_text(cgroup_lines, encoding="utf-8")
    mount = tmp_path / "sys-fs-cgroup"
    mount.mkdir()
    monkeypatch.setattr(job_size, "MEMINFO", meminfo)
    monkeypatch.setattr(job_size, "PROC_CGROUP", proc)
    monkeypatch.setattr(job_size, "CGROUP_ROOT", mount)
    return mount


def _group(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_a_v2_container_limit_caps_the_machines_memory(tmp_path, monkeypatch):
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "0::/\n")  # 20.5 GB free on the machine
    _group(mount, {"memory.max": str(4 * GB), "memory.current": str(3 * GB),
                   "memory.stat": f"anon {2 * GB}\ninactive_file {GB // 2}\n"})
    assert job_size.cgroup_available() == GB + GB // 2  # 4 - 3 + the droppable 0.5
    assert job_size.available_memory() == GB + GB // 2
    said = job_size.describe_memory(job_size.peak_memory(24_000_000, 2, 1), job_size.available_memory())
    assert said is not None and "1.5 GB is available" in said


def test_v2_without_a_limit_leaves_the_machines_figure(tmp_path, monkeypatch):
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "0::/user.slice/session-1.scope\n")
    _group(mount / "user.slice" / "session-1.scope", {"memory.max": "max", "memory.current": str(GB)})
    assert job_size.cgroup_available() is None
    assert job_size.available_memory() == 20_000_000 * 1024


def test_a_limit_on_a_parent_group_counts(tmp_path, monkeypatch):
    """systemd puts the limit on a slice and the process in a scope below it."""
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "0::/app.slice/run.scope\n")
    _group(mount / "app.slice", {"memory.max": str(6 * GB), "memory.current": str(2 * GB)})
    _group(mount / "app.slice" / "run.scope", {"memory.max": "max", "memory.current": str(2 * GB)})
    assert job_size.available_memory() == 4 * GB


def test_a_v1_memory_group_is_read(tmp_path, monkeypatch):
    mount = _machine(tmp_path, monkeypatch, 20_000_000,
                     "5:devices:/\n4:memory:/docker/abc\n0::/\n")
    _group(mount / "memory" / "docker" / "abc",
           {"memory.limit_in_bytes": str(8 * GB), "memory.usage_in_bytes": str(5 * GB),
            "memory.stat": f"cache {GB}\ntotal_inactive_file {GB}\n"})
    assert job_size.available_memory() == 4 * GB


def test_v1_no_limit_is_a_huge_number(tmp_path, monkeypatch):
    """As on this project's own machines: v1's "unlimited" is 2**63 less a page."""
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "4:memory:/process_api/x\n0::/\n")
    _group(mount / "memory", {"memory.limit_in_bytes": "9223372036854771712", "memory.usage_in_bytes": str(GB)})
    assert job_size.cgroup_available() is None
    assert job_size.available_memory() == 20_000_000 * 1024


def test_a_container_that_mounts_only_its_own_group_is_read_at_the_root(tmp_path, monkeypatch):
    """Docker with a private cgroup namespace: /proc/self/cgroup names a path the container cannot see."""
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "4:memory:/docker/abc\n")
    _group(mount / "memory", {"memory.limit_in_bytes": str(3 * GB), "memory.usage_in_bytes": str(GB)})
    assert job_size.available_memory() == 2 * GB


@pytest.mark.parametrize("damage", ["unreadable", "garbage"])
def test_damaged_cgroup_files_leave_the_machines_figure(tmp_path, monkeypatch, damage):
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "0::/\n")
    if damage == "garbage":
        _group(mount, {"memory.max": "lots", "memory.current": "some"})
    else:
        monkeypatch.setattr(job_size, "PROC_CGROUP", tmp_path / "absent")
    assert job_size.cgroup_available() is None
    assert job_size.available_memory() == 20_000_000 * 1024


def test_usage_over_the_limit_leaves_nothing(tmp_path, monkeypatch):
    mount = _machine(tmp_path, monkeypatch, 20_000_000, "0::/\n")
    _group(mount, {"memory.max": str(GB), "memory.current": str(2 * GB)})
    assert job_size.available_memory() == 0
