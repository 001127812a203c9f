"""Load test for ``defusion serve``: N concurrent clients POSTing pairs to /v1/fuse.

Loopback only, bounded in requests and in time. Prints throughput, p50/p99 latency, the requests
refused because the server's queue was full (503 with Retry-After: more clients than 1 + the
server's ``--max-queue``, default 8, are turned away at once, not failed) and the errors by status.
Start a server first, e.g.::

    defusion serve --port 8000 &
    python benchmarks/serve_load.py --url http://127.0.0.1:8000 --clients 4 --requests 40 --size 256x256

Usage: python benchmarks/serve_load.py [--url URL] [--clients N] [--requests N] [--max-seconds S]
       [--size WxH] [--a FILE --b FILE] [--components]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np

from defusion.serving import is_loopback

MAX_REQUESTS = 10_000
MAX_SECONDS = 600


def _loopback(url: str) -> bool:
    return is_loopback(urlparse(url).hostname or "")


def synth_pair(width: int, height: int, seed: int = 0) -> tuple[bytes, bytes]:
    """A smooth colour pair as PNG bytes (an exposure pair of one random scene)."""
    from scipy.ndimage import gaussian_filter

    from defusion.serving.api import encode_png

    rng = np.random.default_rng(seed)
    scene = gaussian_filter(rng.random((height, width, 3)), (4, 4, 0))
    scene = (scene - scene.min()) / (scene.max() - scene.min() + 1e-9)
    under, over = scene * 0.5, np.clip(scene * 1.5, 0, 1)
    return tuple(encode_png((x * 255).astype(np.uint8)) for x in (under, over))


async def _client(client: httpx.AsyncClient, url: str, files: dict, budget: dict, deadline: float,
                  latencies: list[float], errors: collections.Counter, busy: list[int]) -> None:
    while time.monotonic() < deadline and budget["left"] > 0:
        budget["left"] -= 1
        start = time.perf_counter()
        try:
            r = await client.post(url, files=files)
            status = r.status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        if status == 200:
            latencies.append(time.perf_counter() - start)
        elif status == 503 and "retry-after" in r.headers:  # the queue was full: refused, not failed
            busy[0] += 1
        else:
            errors[status] += 1


async def run_load(url: str, a: bytes, b: bytes, clients: int, requests: int, max_seconds: float,
                   components: bool = False) -> dict:
    endpoint = url.rstrip("/") + "/v1/fuse" + ("?components=true" if components else "")
    files = {"a": ("a.png", a, "image/png"), "b": ("b.png", b, "image/png")}
    latencies: list[float] = []
    errors: collections.Counter = collections.Counter()
    busy = [0]
    budget = {"left": requests}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=max_seconds, limits=limits) as client:
        (await client.get(url.rstrip("/") + "/healthz")).raise_for_status()
        start = time.monotonic()
        deadline = start + max_seconds
        await asyncio.gather(*(_client(client, endpoint, files, budget, deadline, latencies, errors, busy)
                               for _ in range(clients)))
        elapsed = time.monotonic() - start
    lat = np.array(latencies) * 1000
    return {
        "ok": len(latencies), "busy": busy[0], "errors": dict(errors), "seconds": elapsed,
        "throughput": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": float(np.percentile(lat, 50)) if lat.size else float("nan"),
        "p99_ms": float(np.percentile(lat, 99)) if lat.size else float("nan"),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8000", help="server base URL (loopback only)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4)")
    p.add_argument("--requests", type=int, default=40, help=f"total requests (default 40, at most {MAX_REQUESTS})")
    p.add_argument("--max-seconds", type=float, default=60, help=f"stop after this long (default 60, at most {MAX_SECONDS})")
    p.add_argument("--size", default="256x256", help="synthetic pair size WxH (default 256x256)")
    p.add_argument("--a", type=Path, help="first image file (instead of a synthetic pair)")
    p.add_argument("--b", type=Path, help="second image file")
    p.add_argument("--components", action="store_true", help="ask for the components zip")
    args = p.parse_args(argv)
    if not _loopback(args.url):
        p.error(f"{args.url}: this load test only targets a server on this machine (127.0.0.1, ::1, localhost)")
    if not (1 <= args.clients <= 256 and 1 <= args.requests <= MAX_REQUESTS and 0 < args.max_seconds <= MAX_SECONDS):
        p.error(f"need 1-256 clients, 1-{MAX_REQUESTS} requests and 0-{MAX_SECONDS} seconds")
    if (args.a is None) != (args.b is None):
        p.error("give both --a and --b, or neither")
    if args.a:
        a, b, label = args.a.read_bytes(), args.b.read_bytes(), f"{args.a.name} + {args.b.name}"
    else:
        width, height = (int(v) for v in args.size.lower().split("x"))
        a, b = synth_pair(width, height)
        label = f"synthetic {width}x{height} RGB pair"
    r = asyncio.run(run_load(args.url, a, b, args.clients, args.requests, args.max_seconds, args.components))
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(r["errors"].items(), key=str)) or "none"
    sent = r["ok"] + r["busy"] + sum(r["errors"].values())
    print(f"{label}, {args.clients} clients, {sent} requests in {r['seconds']:.1f} s")
    print(f"  throughput  {r['throughput']:.2f} pairs/s")
    print(f"  latency     p50 {r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms")
    print(f"  busy        {r['busy']} refused with 503 (queue full: fewer --clients, or a larger server "
          "--max-queue)" if r["busy"] else "  busy        none")
    print(f"  errors      {errors}")
    return 0 if not r["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
