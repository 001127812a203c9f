"""The Dockerfile: a fast static check (every run) and a real build + smoke test (``-m slow``).

The slow test builds the image with Debian's buildah and runs ``defusion`` inside it::

    apt-get install -y buildah debootstrap        # as root: all the test needs
    python -m pytest -m slow tests/container -s   # -s prints the build time and image size

It needs root (chroot isolation, debootstrap) and reaches a Debian mirror (the base image) and
PyPI (the image's Python packages). It skips, saying why, where buildah or debootstrap is missing
or unusable. No container registry is needed: the base image is a debootstrap of Debian bookworm
(python3, python3-venv, python3-pip) imported into buildah's own store, and both are cached under
``~/.cache/defusion-container`` (``DEFUSION_CONTAINER_CACHE``), with buildah's layer cache, so a
rerun rebuilds only what changed (an edit in src/ redoes only the last layers). Where a local CPU
torch wheel for CPython 3.11 is found (in ``DEFUSION_TORCH_WHEELS`` or pip's ``find-links``), it
is mounted into the build with ``--volume`` and installed instead of one from PyTorch's CPU index
(build args ``TORCH_INDEX_URL``, ``TORCH_FIND_LINKS``, ``TORCH_SPEC``). This machine's CA bundle
is copied into the base image, so TLS through a proxy that this machine trusts works in the build
too.

Installed on the machine where it was first run (Debian bookworm): buildah 1.28.2 and debootstrap,
plus podman and fuse-overlayfs, which the test does not use.

Settings: ``DEFUSION_BUILDAH_DRIVER`` (storage driver; default overlay where it mounts, else vfs,
which works everywhere but copies every layer in full: slower, and several GB of disk),
``DEFUSION_DEBIAN_MIRROR`` (default http://deb.debian.org/debian).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


# --------------------------------------------------------------------------------------------
# Fast: parse the Dockerfile (no tools needed)
# --------------------------------------------------------------------------------------------

def parse_dockerfile(text: str) -> list[list[tuple[str, str]]]:
    """Stages of ``(INSTRUCTION, arguments)``; comments dropped, continuation lines joined.

    Instructions before the first FROM (global ARGs) form stage 0's prefix list.
    """
    stages: list[list[tuple[str, str]]] = [[]]
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        instruction, _, args = logical.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            stages.append([])
        stages[-1].append((instruction, " ".join(args.split())))
        logical = ""
    assert not logical, "Dockerfile ends inside a continuation line"
    return stages


def _args(stage: list[tuple[str, str]], instruction: str) -> list[str]:
    return [a for i, a in stage if i == instruction]


def _arg_defaults(stage: list[tuple[str, str]]) -> dict[str, str]:
    out = {}
    for a in _args(stage, "ARG"):
        name, _, default = a.partition("=")
        out[name] = default
    return out


@pytest.fixture(scope="module")
def stages() -> list[list[tuple[str, str]]]:
    return parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8"))


def test_base_image_is_overridable_and_slim(stages):
    assert _arg_defaults(stages[0]).get("BASE_IMAGE") == "python:3.11-slim"
    froms = [s[0][1] for s in stages[1:]]
    assert froms and all(f.split()[0] == "${BASE_IMAGE}" for f in froms), froms
    assert len(froms) >= 2, "build and runtime stages: the runtime one carries no build leftovers"


def test_torch_comes_from_the_cpu_index_before_defusion(stages):
    build = stages[1]
    args = _arg_defaults(build)
    assert args.get("TORCH_INDEX_URL") == CPU_INDEX
    assert "TORCH_FIND_LINKS" in args and "TORCH_SPEC" in args
    assert re.fullmatch(r"torch==\d+\.\d+\.\d+", args["TORCH_SPEC"])
    runs = _args(build, "RUN")
    torch_run = next(i for i, r in enumerate(runs) if '"$TORCH_SPEC"' in r)
    assert '--index-url "$TORCH_INDEX_URL"' in runs[torch_run]
    assert '--find-links "$TORCH_FIND_LINKS"' in runs[torch_run]
    deps_run = next(i for i, r in enumerate(runs) if "pip install -r" in r)
    install_run = next(i for i, r in enumerate(runs) if 'pip install "/src' in r)
    assert torch_run < deps_run < install_run, "torch (CPU) must come before anything that pulls `torch`"
    assert "torch.version.cuda" in runs[install_run], "the image checks it did not end up with CUDA torch"


def test_default_extras_exist_and_read_phone_and_camera_files(stages):
    """The server image reads what users upload: phones' HEIC and cameras' raw files too."""
    import tomllib

    extras = _arg_defaults(stages[1])["EXTRAS"].split(",")
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert set(extras) <= set(declared), set(extras) - set(declared)
    assert {"serve", "raw", "heif"} <= set(extras)


def test_torch_pin_matches_ci(stages):
    ci = REPO / ".ci" / "run"
    if not ci.exists():
        pytest.skip("no .ci/run")
    pinned = re.findall(r"torch==([\w.+]+)", ci.read_text(encoding="utf-8"))
    spec = _arg_defaults(stages[1])["TORCH_SPEC"]
    assert spec.removeprefix("torch==") in pinned, (spec, pinned)


def test_runtime_stage_serves_on_8000_as_non_root(stages):
    final = stages[-1]
    users = _args(final, "USER")
    assert users, "the runtime stage needs a USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert "8000" in " ".join(_args(final, "EXPOSE")).split()
    assert [json.loads(e) for e in _args(final, "ENTRYPOINT")][-1] == ["defusion"]
    cmd = json.loads(_args(final, "CMD")[-1])
    assert cmd == ["serve", "--host", "0.0.0.0", "--port", "8000"]


def test_default_command_is_a_valid_serve_call(stages):
    from defusion.cli.main import build_parser

    cmd = json.loads(_args(stages[-1], "CMD")[-1])
    args = build_parser().parse_args(cmd)
    assert (args.command, args.host, args.port) == ("serve", "0.0.0.0", 8000)


def test_healthcheck_hits_healthz_with_python(stages):
    (check,) = _args(stages[-1], "HEALTHCHECK")
    assert "CMD" in check.split()
    assert "http://127.0.0.1:8000/healthz" in check
    assert "python" in check, "no curl in slim images: the check uses python"
    assert not any("curl" in r for r in _args(stages[-1], "RUN")), "curl is not installed for it"


def _ignore_patterns() -> list[str]:
    lines = [ln.strip() for ln in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _ignored(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pat in patterns:
        bare = pat.removeprefix("**/")
        if any(fnmatch(p, pat) for p in prefixes) or any(fnmatch(part, bare) for part in parts):
            return True
    return False


def test_dockerignore_keeps_local_state_out_and_sources_in(stages):
    patterns = _ignore_patterns()
    for heavy in (".git", ".venv", "runs", "out", "build", "docs/images", "src/x/__pycache__"):
        assert _ignored(heavy, patterns), f"{heavy} would go into the build context"
    copies = [c for stage in stages for c in _args(stage, "COPY") if not c.startswith("--from")]
    assert copies
    for copy in copies:
        *sources, _dest = shlex.split(copy)
        for src in sources:
            assert (REPO / src).exists(), f"COPY {src}: not in the repository"
            assert not _ignored(src, patterns), f"COPY {src}: excluded by .dockerignore"


# --------------------------------------------------------------------------------------------
# Slow: build the image with buildah and run defusion in it
# --------------------------------------------------------------------------------------------

SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
IMAGE = "localhost/defusion:test"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
EXAMPLES = REPO / "src" / "defusion" / "examples"
LONG = 3600  # seconds: a cold build downloads ~1 GB of wheels on a 2-core machine


class Buildah:
    """buildah with this test's own store (root, runroot, driver), so it never touches the system's."""

    def __init__(self, cache: Path, log: Path, driver: str) -> None:
        self.driver = driver
        self.storage = ["--root", str(cache / f"storage-{driver}"),
                        "--runroot", str(Path(tempfile.gettempdir()) / f"defusion-buildah-run-{driver}"),
                        "--storage-driver", driver]
        self.log = log

    def __call__(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
        return _run(["buildah", *self.storage, *args], self.log, timeout=timeout, check=check)

    def image_exists(self, name: str) -> bool:
        found = self("images", "--quiet", name, check=False)
        return found.returncode == 0 and bool(found.stdout.strip())


def _run(cmd: list[str], log: Path, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    with log.open("a", encoding="utf-8") as f:
        f.write(f"\n[{time.strftime('%H:%M:%S')}] $ {shlex.join(cmd)}\n")
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, encoding="utf-8")
    with log.open("a", encoding="utf-8") as f:
        f.write(proc.stdout + proc.stderr + f"[exit {proc.returncode} after {time.monotonic() - t0:.1f} s]\n")
    if check and proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        pytest.fail(f"{shlex.join(cmd)[:300]} exited {proc.returncode} (log: {log}):\n{tail}")
    return proc


def _cache_dir() -> Path:
    default = Path.home() / ".cache" / "defusion-container"
    path = Path(os.environ.get("DEFUSION_CONTAINER_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _usable_buildah(tmp_path: Path) -> Buildah:
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian: apt-get install buildah debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("needs root: debootstrap and buildah's chroot isolation")
    wanted = os.environ.get("DEFUSION_BUILDAH_DRIVER")
    errors = []
    for driver in [wanted] if wanted else ["overlay", "vfs"]:
        buildah = Buildah(_cache_dir(), tmp_path / "buildah.log", driver)
        # A mounted scratch container: overlay can be listed fine yet fail to mount (nested containers).
        probe = buildah("from", "scratch", check=False, timeout=120)
        if probe.returncode == 0:
            ctr = probe.stdout.strip()
            mounted = buildah("mount", ctr, check=False, timeout=120)
            buildah("umount", ctr, check=False)
            buildah("rm", ctr, check=False)
            if mounted.returncode == 0:
                return buildah
            probe = mounted
        errors.append(f"{driver}: {probe.stderr.strip()[-200:]}")
    pytest.skip(f"buildah is not usable here: {'; '.join(errors)}")


def _unmount_below(root: Path) -> None:
    """Unmount whatever a failed debootstrap left mounted under root (proc, sys) before deleting it."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text(encoding="utf-8").splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(str(root) + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount], check=False)


def _base_image(buildah: Buildah, cache: Path) -> str:
    """Debian bookworm + python3 (3.11), made with debootstrap: no registry needed. Cached."""
    mirror = os.environ.get("DEFUSION_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    recipe = hashlib.sha256()
    recipe.update(f"{SUITE} {mirror} {' '.join(BASE_PACKAGES)} v1".encode())
    if HOST_CA.exists():
        recipe.update(HOST_CA.read_bytes())
    tag = f"localhost/defusion-test-base:{SUITE}-{recipe.hexdigest()[:12]}"
    if buildah.image_exists(tag):
        return tag
    tarball = cache / f"base-{tag.rsplit(':', 1)[1]}.tar"
    if not tarball.exists():
        work = Path(tempfile.mkdtemp(prefix="debootstrap-", dir=cache))
        rootfs = work / "rootfs"
        try:
            _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
                  SUITE, str(rootfs), mirror], buildah.log, timeout=LONG)
            if HOST_CA.exists():  # TLS through whatever proxy this machine trusts
                shutil.copyfile(HOST_CA, rootfs / "etc/ssl/certs/ca-certificates.crt")
            (rootfs / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n",
                                                 encoding="utf-8")
            for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for entry in (rootfs / junk).glob("*"):
                    if entry.is_file():
                        entry.unlink()
            part = tarball.with_suffix(".part")
            _run(["tar", "-C", str(rootfs), "--numeric-owner", "--exclude=./dev/*", "--exclude=./proc/*",
                  "--exclude=./sys/*", "-cf", str(part), "."], buildah.log, timeout=LONG)
            part.rename(tarball)
        finally:
            _unmount_below(rootfs)
            shutil.rmtree(work, ignore_errors=True)
    ctr = buildah("from", "scratch").stdout.strip()
    try:
        buildah("add", ctr, str(tarball), "/", timeout=LONG)
        buildah("config", "--env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env", "LANG=C.UTF-8", "--cmd", "python3", ctr)
        buildah("commit", "--format", "docker", ctr, tag, timeout=LONG)
    finally:
        buildah("rm", ctr, check=False)
    return tag


def _local_torch_wheel() -> Path | None:
    """A CPU torch wheel for CPython 3.11 on x86-64 Linux, from DEFUSION_TORCH_WHEELS or pip's find-links."""
    dirs = os.environ.get("DEFUSION_TORCH_WHEELS", "").split()
    dirs += os.environ.get("PIP_FIND_LINKS", "").split()
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                            encoding="utf-8")
    for line in config.stdout.splitlines():
        key, _, value = line.partition("=")
        if key.endswith("find-links"):
            dirs += value.strip("'\"").split()
    wheels = [w for d in dirs if Path(d).is_dir()
              for w in Path(d).glob("torch-*+cpu-cp311-cp311-*linux*x86_64.whl")]
    return max(wheels, key=lambda w: w.name) if wheels else None


def _megabytes(human: str | int) -> float:
    """buildah's image size ("1.79 GB", decimal units, or bytes in some versions) in MB."""
    if isinstance(human, (int, float)):
        return human / 1e6
    number, unit = re.fullmatch(r"([\d.]+)\s*([kKMGT]?B)", human.strip()).groups()
    return float(number) * {"B": 1e-6, "kB": 1e-3, "KB": 1e-3, "MB": 1, "GB": 1e3, "TB": 1e6}[unit]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVE_CHECK = r"""
import pathlib, subprocess, sys, time, urllib.request
import httpx
import defusion
port = int(sys.argv[1])
examples = pathlib.Path(defusion.__file__).parent / "examples"
server = subprocess.Popen(["defusion", "serve", "--host", "127.0.0.1", "--port", str(port), "--threads", "2"])
try:
    deadline = time.monotonic() + 300
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(1)
    files = {f: (n, (examples / n).read_bytes(), "image/png")
             for f, n in (("a", "mef_under.png"), ("b", "mef_over.png"))}
    reply = httpx.post(f"http://127.0.0.1:{port}/v1/fuse", files=files, timeout=600)
    reply.raise_for_status()
    assert reply.headers["content-type"] == "image/png", reply.headers
    print("served-png-bytes", len(reply.content))
finally:
    server.terminate()
    server.wait(60)
"""


@pytest.mark.slow
def test_image_builds_and_fuses(tmp_path):
    from PIL import Image

    buildah = _usable_buildah(tmp_path)
    cache = _cache_dir()

    t0 = time.monotonic()
    base = _base_image(buildah, cache)
    base_s = time.monotonic() - t0

    build = ["bud", "--isolation", "chroot", "--format", "docker", "--layers", "--pull-never",
             "-f", str(DOCKERFILE), "--build-arg", f"BASE_IMAGE={base}"]
    wheel = _local_torch_wheel()
    if wheel is not None:
        version = wheel.name.split("-")[1]
        build += ["--volume", f"{wheel.parent}:/wheels:ro", "--build-arg", "TORCH_INDEX_URL=",
                  "--build-arg", "TORCH_FIND_LINKS=/wheels", "--build-arg", f"TORCH_SPEC=torch=={version}"]
    t0 = time.monotonic()
    # The build stage gets a name too, so that pruning keeps its layers (torch, dependencies) as cache.
    buildah(*build, "--target", "build", "-t", f"{IMAGE}-build-stage", str(REPO), timeout=LONG)
    buildah(*build, "-t", IMAGE, str(REPO), timeout=LONG)
    build_s = time.monotonic() - t0
    buildah("rmi", "--prune", timeout=LONG)  # earlier builds' layers

    (image,) = json.loads(buildah("images", "--json", IMAGE).stdout)
    config = json.loads(buildah("inspect", "--type", "image", IMAGE).stdout)
    docker_config = config["Docker"]["config"]
    assert docker_config["Entrypoint"] == ["defusion"]
    assert docker_config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert "8000/tcp" in docker_config["ExposedPorts"]
    assert "/healthz" in " ".join(docker_config["Healthcheck"]["Test"])

    ctr = buildah("from", "--pull-never", IMAGE).stdout.strip()
    try:
        def run(*cmd: str, timeout: float = 900) -> str:
            return buildah("run", "--isolation", "chroot", ctr, "--", *cmd, timeout=timeout).stdout

        assert run("id", "-u").strip() == "10001"
        assert run("python3", "-c", "import torch; print(torch.version.cuda)").strip() == "None"
        info = run("defusion", "info")
        assert "DeNet from" in info and "parameters" in info, info

        examples = run("python3", "-c", "import defusion, pathlib; "
                       "print(pathlib.Path(defusion.__file__).parent / 'examples')").strip()
        t0 = time.monotonic()
        run("defusion", "fuse", f"{examples}/mef_under.png", f"{examples}/mef_over.png",
            "-o", "/data/fused.png", "--no-progress")
        fuse_s = time.monotonic() - t0
        shape = run("python3", "-c", "import cv2; print(*cv2.imread('/data/fused.png').shape)").split()
        assert shape == ["300", "451", "3"], shape

        mount = Path(buildah("mount", ctr).stdout.strip())
        try:
            shutil.copyfile(mount / "data" / "fused.png", tmp_path / "fused.png")
        finally:
            buildah("umount", ctr)

        served = run("python3", "-c", SERVE_CHECK, str(_free_port()))
        assert "served-png-bytes" in served, served
    finally:
        buildah("rm", ctr, check=False)

    with Image.open(EXAMPLES / "mef_under.png") as src, Image.open(tmp_path / "fused.png") as out:
        assert out.size == src.size == (451, 300)
        fused = np.asarray(out.convert("RGB"), dtype=np.float64)
    # Same weights and torch version as the host: the image computes what the host does.
    host = tmp_path / "host.png"
    _run([sys.executable, "-m", "defusion.cli.main", "fuse", str(EXAMPLES / "mef_under.png"),
          str(EXAMPLES / "mef_over.png"), "-o", str(host), "--no-progress"], buildah.log, timeout=900)
    with Image.open(host) as ref:
        diff = np.abs(fused - np.asarray(ref.convert("RGB"), dtype=np.float64))
    assert fused.std() > 5 and diff.mean() < 1.0, (fused.std(), diff.mean())

    size_mb = _megabytes(image["size"])
    report = {"base_image": base, "base_seconds": round(base_s, 1), "build_seconds": round(build_s, 1),
              "image_mb": round(size_mb, 1), "fuse_seconds_in_container": round(fuse_s, 1),
              "torch_wheel": wheel.name if wheel else "download.pytorch.org CPU index",
              "storage_driver": buildah.driver, "max_abs_diff_vs_host": float(diff.max())}
    (cache / "last-run.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print("\ncontainer build:", json.dumps(report, indent=2))
