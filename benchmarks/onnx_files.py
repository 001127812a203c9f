"""How fast ONNX exports of DeNet run in ONNX Runtime, side by side in one run.

Times two or more ``.onnx`` files (exports of the same weights: an older defusion's against this
one's, fp32 against fp16, another opset) on the same real pair, the shipped multi-exposure example
resized to each size, on ONNX Runtime's CPU provider. The runs are interleaved (file 1, file 2, ...,
then again), so a machine whose load drifts slows every file alike. Printed per file and size:
best and median seconds per pass (after a warm-up), the speed-up over the first file, and the
largest and mean difference of the fused image from the first file's, in 8-bit grey levels.

Usage:
    defusion export --format onnx -o new.onnx           # this version's graph
    python benchmarks/onnx_files.py old.onnx new.onnx
    python benchmarks/onnx_files.py old.onnx new.onnx --sizes 640x480,1280x960 --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speed import example_pair, machine, parse_size, positive_int, size_list  # noqa: E402

from defusion.fusion.onnx_runtime import MEMORY_PATTERN  # noqa: E402


def _session(path: Path, threads: int):
    """A CPU inference session of ``path``, or exit with one line saying why not."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.enable_mem_pattern = MEMORY_PATTERN  # as defusion's own CPU sessions
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise SystemExit(f"onnx_files.py: error: {path}: not an ONNX model ONNX Runtime can load ({exc})") from None


def _feeds(session, width: int, height: int) -> dict[str, np.ndarray]:
    """The example pair, and each gain input at 1.0 (what a pass with the default gains is timed like)."""
    x1, x2 = (t.numpy() for t in example_pair(width, height))
    names = [i.name for i in session.get_inputs()]
    if names[:2] != ["x1", "x2"]:
        raise SystemExit(f"onnx_files.py: error: not an exported DeNet (inputs {names}): make one with "
                         "defusion export --format onnx -o denet.onnx")
    return {"x1": x1, "x2": x2, **{name: np.array(1.0, np.float32) for name in names[2:]}}


def measure(paths: list[Path], size: tuple[int, int], repeats: int, threads: int) -> list[dict]:
    """Per file: its seconds per pass over ``repeats`` interleaved rounds and its fused image."""
    sessions = [_session(path, threads) for path in paths]
    feeds = [_feeds(session, *size) for session in sessions]
    fused: list[np.ndarray] = []
    for session, feed in zip(sessions, feeds):  # warm-up: allocations, kernel choices
        fused.append(session.run(["fused"], feed)[0])
    seconds: list[list[float]] = [[] for _ in paths]
    for _ in range(repeats):
        for i, (session, feed) in enumerate(zip(sessions, feeds)):
            start = time.perf_counter()
            session.run(["fused"], feed)
            seconds[i].append(time.perf_counter() - start)
    return [{"file": path.name, "seconds": s, "fused": f} for path, s, f in zip(paths, seconds, fused)]


def rows(results: list[dict], size: str) -> list[str]:
    """Markdown table rows: each file against the first.

    Example:
        >>> same = np.zeros((1, 3, 2, 2), np.float32)
        >>> rows([{"file": "a.onnx", "seconds": [2.0, 2.2], "fused": same},
        ...       {"file": "b.onnx", "seconds": [1.0, 1.2], "fused": same}], "8x8")[1]
        '| `b.onnx` | 8x8 | 1.000 | 1.100 | 2.00x | 0.00 / 0.000 |'
    """
    base = results[0]
    out = []
    for r in results:
        diff = np.abs(np.clip(r["fused"], 0, 1) - np.clip(base["fused"], 0, 1)) * 255
        out.append(f"| `{r['file']}` | {size} | {min(r['seconds']):.3f} | {statistics.median(r['seconds']):.3f} "
                   f"| {min(base['seconds']) / min(r['seconds']):.2f}x | {diff.max():.2f} / {diff.mean():.3f} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path, help="two or more .onnx files; the first is the baseline")
    parser.add_argument("--sizes", type=size_list, default=["640x480"], help="WIDTHxHEIGHT,... (multiples of 8)")
    parser.add_argument("--repeats", type=positive_int, default=5, help="timed rounds per size (default 5)")
    parser.add_argument("--threads", type=positive_int, default=2, help="ONNX Runtime threads (default 2)")
    args = parser.parse_args(argv)
    if len(args.files) < 2:
        parser.error("give two or more .onnx files to compare")
    for path in args.files:
        if not path.is_file():
            parser.error(f"no such file: {path}")
    print(f"{machine()}; {args.threads} threads, {args.repeats} interleaved rounds after a warm-up")
    print("\n| file | size | best s | median s | vs first | max / mean diff (levels) |\n|---|---|---|---|---|---|")
    for size in args.sizes:
        for line in rows(measure(args.files, parse_size(size), args.repeats, args.threads), size):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
