"""How fast DeNet fuses a pair, per inference backend, side by side in one run.

Every backend runs the same shipped weights on the same real pair (the shipped
multi-exposure example resized to each size) in its own process, so that each gets a
clean peak-memory figure and no backend warms the caches of the next. The eager fp32
reference the differences are taken from is the ``eager`` backend's output, or, where that
backend is not asked for, a pass in a process of its own: no backend's memory includes it
(each worker saves its fused images; this process compares them). Printed per backend
and size: median and best seconds per pair (network forward pass, after warm-up), pairs/s,
the speed-up over PyTorch eager fp32, the largest and mean absolute difference of the
fused image from eager fp32 in 8-bit grey levels, peak memory, and one-off set-up time
(export, tracing or compilation).

CPU backends: ``eager`` (what ``defusion fuse`` runs), ``channels_last``, ``jit-freeze``
(TorchScript trace, frozen, ``optimize_for_inference``), ``torchscript`` (the file ``defusion export
--format torchscript`` writes, ``torch.jit.load``'ed: not frozen), ``compile`` (``torch.compile``,
inductor with weight freezing: ``--runtime compile``), ``onnxruntime`` (``--runtime onnxruntime``),
and the reduced-precision ``eager-bf16`` and ``compile-bf16`` (autocast; ``--runtime
compile-bf16``; their accuracy is in the table). The ``compile``, ``compile-bf16`` and
``onnxruntime`` backends are the product's own runtimes (defusion.fusion.runtime). CUDA backends (run when a GPU is present): ``cuda-fp32``, ``cuda-tf32``,
``cuda-fp16``, ``cuda-bf16``, ``cuda-compile-fp16``, ``cuda-graphs-fp16`` (``torch.compile``
``mode="reduce-overhead"``, i.e. CUDA graphs) and ``cuda-channels-last-fp16``.

Usage:
    python benchmarks/speed.py                                   # every backend this machine has
    python benchmarks/speed.py --backends eager,onnxruntime --sizes 640x480 --repeats 3
    python benchmarks/speed.py --backends eager,compile --sizes 64x64 --repeats 1   # a quick check
    python benchmarks/speed.py --write docs/performance.md       # also update the doc's table
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

CPU_BACKENDS = ("eager", "channels_last", "jit-freeze", "torchscript", "compile", "onnxruntime", "eager-bf16",
                "compile-bf16")
CUDA_BACKENDS = ("cuda-fp32", "cuda-tf32", "cuda-fp16", "cuda-bf16", "cuda-channels-last-fp16",
                 "cuda-compile-fp16", "cuda-graphs-fp16")
DEFAULT_SIZES = ("256x256", "640x480", "1280x720")
REFERENCE = "eager"
#: The worker name of the untimed reference pass, run when the ``eager`` backend is not asked for.
REFERENCE_PASS = "reference"
#: The exit status of a refused command line (argparse's).
USAGE_ERROR = 2
BEGIN, END = "<!-- speed:begin -->", "<!-- speed:end -->"

Forward = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# -- inputs -------------------------------------------------------------------------------
def example_pair(width: int, height: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped multi-exposure example, resized to width x height, as 1x3xHxW in [0, 1]."""
    import cv2

    from defusion.io.images import read_image

    examples = Path(__file__).resolve().parents[1] / "src" / "defusion" / "examples"
    out = []
    for name in ("mef_under.png", "mef_over.png"):
        image = read_image(examples / name)
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
        out.append(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous())
    return out[0], out[1]


def parse_size(text: str) -> tuple[int, int]:
    """``"WIDTHxHEIGHT"`` as (width, height), both multiples of 8.

    Example:
        >>> parse_size("640x480")
        (640, 480)
    """
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or int(match[1]) % 8 or int(match[2]) % 8 or not int(match[1]) or not int(match[2]):
        raise argparse.ArgumentTypeError(f"sizes are WIDTHxHEIGHT, multiples of 8 from 8: {text!r}")
    return int(match[1]), int(match[2])


def size_list(text: str) -> list[str]:
    """argparse type of --sizes: comma-separated sizes, each checked by :func:`parse_size`.

    Example:
        >>> size_list("256x256,640x480")
        ['256x256', '640x480']
    """
    sizes = text.split(",")
    for size in sizes:
        parse_size(size)
    return sizes


def positive_int(text: str) -> int:
    """argparse type: a whole number from 1.

    Example:
        >>> positive_int("3")
        3
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, got {text!r}")
    return value


def backend_refusal(names: list[str], cuda: bool) -> str | None:
    """Why ``names`` cannot run here, in one line (None: they can): an unknown name (with the
    valid ones and the closest match), or a CUDA backend on a machine without a GPU.

    Example:
        >>> backend_refusal(["eager", "onnx"], cuda=False)  # doctest: +ELLIPSIS
        "unknown backend 'onnx' (did you mean 'onnxruntime'?); valid: eager, ..., cuda-graphs-fp16"
        >>> backend_refusal(["eager", "compile"], cuda=False) is None
        True
    """
    known = CPU_BACKENDS + CUDA_BACKENDS
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            return f"unknown backend {name!r}{hint}; valid: {', '.join(known)}"
        if name in CUDA_BACKENDS and not cuda:
            return f"backend {name!r} needs a CUDA GPU and this machine has none; CPU backends: {', '.join(CPU_BACKENDS)}"
    return None


# -- backends: each returns a forward(x1, x2) -> fused that runs on its device -------------
def _fused(net) -> Forward:
    return lambda x1, x2: net(x1, x2).fused


def _autocast(fn: Forward, device: str, dtype: torch.dtype) -> Forward:
    def run(x1, x2):
        with torch.autocast(device, dtype=dtype):
            return fn(x1, x2)
    return run


def _compiled(net, bf16: bool = False) -> Forward:
    """The product's ``--runtime compile`` / ``compile-bf16`` (defusion.fusion.runtime)."""
    from defusion.fusion.runtime import CompiledNet

    return _fused(CompiledNet(net, bf16=bf16))


def _cuda_graphs(net) -> Forward:
    # torch.compile takes a mode or options, not both: no weight freezing here
    return _fused(torch.compile(net, mode="reduce-overhead"))


def _onnxruntime(net, threads: int) -> Forward:
    """The product's ``--runtime onnxruntime``: an export run by OnnxDeNet."""
    from defusion.fusion.export import export_onnx
    from defusion.fusion.onnx_runtime import OnnxDeNet

    path = Path(tempfile.mkdtemp()) / "denet.onnx"
    export_onnx(net, path)
    return _fused(OnnxDeNet(path, threads=threads))


def _torchscript(net) -> Forward:
    """The file ``defusion export --format torchscript`` writes (defusion.fusion.export), loaded as a
    deployment loads it: ``torch.jit.load``, not frozen. Gains 1 and 1 (the eager backend's), as inputs."""
    from defusion.fusion.export import export_torchscript

    path = Path(tempfile.mkdtemp()) / "denet.pt"
    export_torchscript(net, path)
    loaded = torch.jit.load(str(path), map_location="cpu").eval()
    gains = torch.tensor(1.0), torch.tensor(1.0)
    return lambda x1, x2: loaded(x1, x2, *gains)[3]


def _jit_freeze(net, size: tuple[int, int]) -> Forward:
    x = torch.rand(1, 3, size[1], size[0])
    traced = torch.jit.trace(net, (x, x), check_trace=False)
    frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
    return lambda x1, x2: frozen(x1, x2)[3]


def make_backend(name: str, net, threads: int, size: tuple[int, int]) -> tuple[Forward, str, Callable]:
    """(forward, device, input transform) for a backend name."""
    same = lambda x: x  # noqa: E731
    if name == "eager":
        return _fused(net), "cpu", same
    if name == "channels_last":
        net = net.to(memory_format=torch.channels_last)
        return _fused(net), "cpu", lambda x: x.contiguous(memory_format=torch.channels_last)
    if name == "jit-freeze":
        return _jit_freeze(net, size), "cpu", same
    if name == "torchscript":
        return _torchscript(net), "cpu", same
    if name == "compile":
        return _compiled(net), "cpu", same
    if name == "onnxruntime":
        return _onnxruntime(net, threads), "cpu", same
    if name == "eager-bf16":
        return _autocast(_fused(net), "cpu", torch.bfloat16), "cpu", same
    if name == "compile-bf16":
        return _compiled(net, bf16=True), "cpu", same
    # CUDA
    net = net.cuda()
    to_cuda = lambda x: x.cuda()  # noqa: E731
    half = lambda x: x.cuda().half()  # noqa: E731
    if name == "cuda-fp32":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
        return _fused(net), "cuda", to_cuda
    if name == "cuda-tf32":
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
        return _fused(net), "cuda", to_cuda
    if name == "cuda-fp16":
        return _fused(net.half()), "cuda", half
    if name == "cuda-bf16":
        return _autocast(_fused(net), "cuda", torch.bfloat16), "cuda", to_cuda
    if name == "cuda-channels-last-fp16":
        net = net.half().to(memory_format=torch.channels_last)
        return _fused(net), "cuda", lambda x: half(x).contiguous(memory_format=torch.channels_last)
    if name == "cuda-compile-fp16":
        return _compiled(net.half()), "cuda", half
    if name == "cuda-graphs-fp16":
        return _cuda_graphs(net.half()), "cuda", half
    raise ValueError(f"unknown backend {name!r}")


# -- one backend, in its own process --------------------------------------------------------
def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def output_path(folder: Path, name: str, size: tuple[int, int]) -> Path:
    """Where the worker for backend ``name`` saves its fused image at ``size`` (CxHxW float32, [0, 1])."""
    return folder / f"{name}_{size[0]}x{size[1]}.npy"


def save_output(folder: Path, name: str, size: tuple[int, int], fused: torch.Tensor) -> None:
    """Save a backend's fused image (1xCxHxW, any device and float type) for this process's parent."""
    np.save(output_path(folder, name, size), fused.float().cpu().clamp(0, 1)[0].numpy())


def reference_pass(sizes: list[tuple[int, int]], threads: int, weights: str | None, folder: Path) -> None:
    """The eager fp32 fused image at each size, saved beside the backends' (in its own worker, so
    that no backend's peak memory includes it)."""
    from defusion.model.weights import load_weights

    torch.set_num_threads(threads)
    net = load_weights(weights).eval()
    for size in sizes:
        with torch.inference_mode():
            save_output(folder, REFERENCE_PASS, size, net(*example_pair(*size)).fused)


def measure(name: str, sizes: list[tuple[int, int]], repeats: int, threads: int, weights: str | None,
            folder: Path) -> dict:
    """Time backend ``name`` at each size and save its fused images in ``folder``; its peak
    memory (this process's RSS, or the GPU's allocations) is its own, with no reference pass."""
    from defusion.model.weights import load_weights

    torch.set_num_threads(threads)
    results = {"backend": name, "sizes": {}}
    for size in sizes:
        x1, x2 = example_pair(*size)
        net = load_weights(weights).eval()
        start = time.perf_counter()
        forward, device, prepare = make_backend(name, net, threads, size)
        a, b = prepare(x1), prepare(x2)
        with torch.inference_mode():
            fused = forward(a, b)  # first call: compilation, autotuning, allocations
            _sync(device)
            setup = time.perf_counter() - start
            forward(a, b)
            _sync(device)
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(repeats):
                t = time.perf_counter()
                fused = forward(a, b)
                _sync(device)
                times.append(time.perf_counter() - t)
        save_output(folder, name, size, fused)
        row = {"median_s": float(np.median(times)), "best_s": min(times), "setup_s": setup}
        if device == "cuda":
            row["peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
        results["sizes"][f"{size[0]}x{size[1]}"] = row
        print(f"  {name:24s} {size[0]}x{size[1]}: {row['median_s']:.4f} s/pair", file=sys.stderr, flush=True)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def run_worker(name: str, args: argparse.Namespace, folder: Path) -> dict | None:
    """Run one backend (or the reference pass) in a fresh process; its results, or None if it failed."""
    cmd = [sys.executable, __file__, "--worker", name, "--sizes", ",".join(args.sizes),
           "--repeats", str(args.repeats), "--threads", str(args.threads), "--outputs", str(folder)]
    if args.weights:
        cmd += ["--weights", args.weights]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=args.timeout, encoding="utf-8")
    if proc.returncode != 0:
        print(f"  {name}: failed (exit {proc.returncode}); left out", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def add_diffs(results: list[dict], folder: Path, reference: str) -> None:
    """Each size's largest and mean |fused - reference| in 8-bit grey levels, from the images the
    workers saved (None where either image is missing: that worker failed)."""
    for r in results:
        for text, row in r["sizes"].items():
            size = parse_size(text)
            ref, out = output_path(folder, reference, size), output_path(folder, r["backend"], size)
            if not (ref.exists() and out.exists()):
                row["max_diff"] = row["mean_diff"] = None
                continue
            diff = np.abs(np.load(out).astype(np.float64) - np.load(ref)) * 255
            row["max_diff"], row["mean_diff"] = float(diff.max()), float(diff.mean())


# -- report -------------------------------------------------------------------------------
def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} logical CPUs"
    if torch.cuda.is_available():
        text += f"; GPU: {torch.cuda.get_device_name()}"
    versions = [f"torch {torch.__version__}"]
    try:
        import onnxruntime

        versions.append(f"onnxruntime {onnxruntime.__version__}")
    except ImportError:
        pass
    return f"{text}; {', '.join(versions)}"


def table(results: list[dict], sizes: list[str], threads: int, repeats: int) -> str:
    ref = next((r for r in results if r["backend"] == REFERENCE), None)
    if ref is None:  # GPU-only run: compare with the first backend
        ref = results[0]
    main = "640x480" if "640x480" in sizes else sizes[len(sizes) // 2]
    head = ["backend"] + [f"{s} s/pair" for s in sizes] + [f"pairs/s {main}", f"vs {ref['backend']}",
                                                          "max / mean diff (levels)", "peak memory", "set-up s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        cells = [f"`{r['backend']}`"]
        for s in sizes:
            row = r["sizes"][s]
            cells.append(f"{row['median_s']:.3f} (best {row['best_s']:.3f})")
        m = r["sizes"][main]
        cells.append(f"{1 / m['median_s']:.1f}")
        cells.append(f"{ref['sizes'][main]['median_s'] / m['median_s']:.2f}x")
        cells.append("n/a" if m.get("max_diff") is None else f"{m['max_diff']:.2f} / {m['mean_diff']:.3f}")
        peak = max((row.get("peak_mb", 0) for row in r["sizes"].values()), default=0)
        cells.append(f"{peak:.0f} MB GPU" if peak else f"{r['peak_rss_mb']:.0f} MB RSS")
        cells.append(f"{m['setup_s']:.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    note = (f"\nMachine: {machine()}. {threads} threads, median of {repeats} timed runs after a warm-up "
            f"run; network forward pass only (pre/post-processing excluded). Diff: |fused - eager fp32 "
            f"fused| x 255 at {main}. Set-up: first call at {main} (export, tracing, compilation).\n")
    return "\n".join(lines) + "\n" + note


def write_doc(path: Path, text: str) -> None:
    doc = path.read_text(encoding="utf-8") if path.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in doc or END not in doc:
        doc += f"\n{BEGIN}\n{END}\n"
    before, rest = doc.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    stamp = time.strftime("%Y-%m-%d")
    path.write_text(f"{before}{BEGIN}\n<!-- written by benchmarks/speed.py on {stamp} -->\n{text}{END}{after}",
                    encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", help="comma-separated (default: every CPU backend, and CUDA ones on a GPU): "
                                      f"{', '.join(CPU_BACKENDS + CUDA_BACKENDS)}")
    p.add_argument("--sizes", type=size_list, default=",".join(DEFAULT_SIZES),
                   help="WIDTHxHEIGHT,... (multiples of 8; e.g. 64x64 for a quick check)")
    p.add_argument("--repeats", type=positive_int, default=5, help="timed runs per size (default 5; 1 for a quick check)")
    p.add_argument("--threads", type=positive_int, default=os.cpu_count())
    p.add_argument("--weights", help="weights file (default: the shipped weights)")
    p.add_argument("--timeout", type=int, default=1800, help="seconds per backend")
    p.add_argument("--write", type=Path, help="replace the table between the speed markers of this Markdown file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--outputs", type=Path, help=argparse.SUPPRESS)  # a worker's folder for its fused images
    args = p.parse_args()
    sizes = [parse_size(s) for s in args.sizes]
    if args.worker == REFERENCE_PASS:
        reference_pass(sizes, args.threads, args.weights, args.outputs)
        print(json.dumps({"backend": REFERENCE_PASS}))
        return
    if args.worker:
        print(json.dumps(measure(args.worker, sizes, args.repeats, args.threads, args.weights, args.outputs)))
        return
    backends = args.backends.split(",") if args.backends else \
        list(CPU_BACKENDS) + (list(CUDA_BACKENDS) if torch.cuda.is_available() else [])
    refusal = backend_refusal(backends, torch.cuda.is_available())
    if refusal:  # one line, before any worker starts (argparse's usage lines would bury it)
        p.exit(USAGE_ERROR, f"{p.prog}: error: {refusal}\n")
    print(f"{machine()}\n{len(backends)} backends x {len(sizes)} sizes, {args.repeats} runs each", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="speed-") as tmp:
        folder = Path(tmp)
        results = [r for r in (run_worker(b, args, folder) for b in backends) if r]
        if not results:
            sys.exit("no backend ran")
        reference = REFERENCE
        if REFERENCE not in backends:  # the reference pass alone, untimed, in a worker of its own
            reference = REFERENCE_PASS
            run_worker(REFERENCE_PASS, args, folder)
        add_diffs(results, folder, reference)
    text = table(results, args.sizes, args.threads, args.repeats)
    print(text)
    if args.write:
        write_doc(args.write, text)


if __name__ == "__main__":
    main()
