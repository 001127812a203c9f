"""How fast `defusion train` trains, per precision and batch size, next to the compute bound.

Times the training step itself (``defusion.training.step.train_step``: CUD views made on the
device, forward, the four MAEs, backward, Adam) on random batches already on the device, so
the figure is what the GPU (or CPU) can do; with ``--data`` it also times the input pipeline
alone (the DataLoader of `defusion train`: decode, random resized crop, flip) to show whether
it keeps up. Printed per variant and batch size: seconds per step, samples/s, the achieved
TFLOP/s (training counted as 3x the forward pass's 2 x MACs) and that as a share of the
device's peak, and peak memory.

Variants: ``fp32``; ``bf16`` (autocast, what `defusion train` does on CUDA, ``amp: true``);
``bf16-cl`` (+ channels_last); ``fp32-compile``, ``bf16-compile`` and ``bf16-cl-compile``
(+ torch.compile of the network, `defusion train`'s ``compile: true``).

Usage:
    python benchmarks/train_speed.py                              # CUDA if present, else CPU
    python benchmarks/train_speed.py --batch 8 32 64 --variants bf16 bf16-cl --data images/
    python benchmarks/train_speed.py --device cpu --crop 128 --batch 8 --variants fp32 --steps 5
"""

from __future__ import annotations

import argparse
import platform
import random
import time

import torch

from defusion.data.cud import CUDConfig
from defusion.model.profile import count_macs
from defusion.model.registry import create_model
from defusion.training.step import autocast_for, make_optimizer, train_step

VARIANTS = ("fp32", "fp32-compile", "bf16", "bf16-cl", "bf16-compile", "bf16-cl-compile")
#: Dense bf16 tensor-core peaks (TFLOP/s) by device-name fragment, from the vendors' data sheets.
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak_memory_mb(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**20:.0f} MB GPU"
    import resource
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB RSS (process)"


def time_variant(model_name: str, variant: str, batch: int, crop: int, steps: int, warmup: int,
                 device: torch.device) -> float:
    """Median seconds per training step of one variant (after ``warmup`` steps)."""
    torch.manual_seed(0)
    model = create_model(model_name).to(device)
    channels_last = "-cl" in variant
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    net = torch.compile(model) if variant.endswith("-compile") else model
    optimizer = make_optimizer(model.parameters(), lr=1e-3)
    bf16 = variant.startswith("bf16")
    autocast = autocast_for(device, amp=bf16)
    if bf16 and device.type == "cpu":  # measured even where `defusion train` would not use it
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)  # noqa: E731
    generator = torch.Generator(device=device).manual_seed(0)
    x = torch.rand(batch, 3, crop, crop, device=device, generator=generator)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        train_step(net, optimizer, x, None, CUDConfig(), generator=generator, cells_rng=random.Random(i),
                   autocast=autocast, channels_last=channels_last)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def time_input_pipeline(data: str, crop: int, batch: int, workers: int, batches: int) -> float:
    """Samples/s the training DataLoader delivers on its own (after its first batch)."""
    from torch.utils.data import DataLoader

    from defusion.data.dataset import NaturalImages

    dataset = NaturalImages(data, crop=crop, length=batch * (batches + 1))
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers, pin_memory=torch.cuda.is_available())
    it = iter(loader)
    next(it)
    start = time.perf_counter()
    count = sum(len(x) for x, _ in it)
    return count / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="defusion")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--batch", type=int, nargs="+", default=[8, 32, 64])
    p.add_argument("--variants", nargs="+", default=None, choices=VARIANTS,
                   help="default: all on CUDA, fp32 and bf16 on a CPU")
    p.add_argument("--steps", type=int, default=20, help="timed steps per variant and batch size")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--peak-tflops", type=float, help="the device's dense bf16 peak (default: by GPU name)")
    p.add_argument("--data", help="also time the input pipeline on this image folder")
    p.add_argument("--workers", type=int, default=8, help="data loader processes for --data")
    args = p.parse_args()

    device = torch.device("cuda" if args.device == "auto" and torch.cuda.is_available() else
                          ("cpu" if args.device == "auto" else args.device))
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    variants = args.variants or (VARIANTS if device.type == "cuda" else ("fp32", "bf16"))
    peak = args.peak_tflops or next((v for k, v in PEAK_BF16_TFLOPS.items() if k in name), None)
    train_flops = 3 * 2 * count_macs(create_model(args.model), args.crop, args.crop)  # per sample (pair)
    print(f"{name}; torch {torch.__version__}; {args.model}, {args.crop}x{args.crop} crops; "
          f"training about {train_flops / 1e9:.1f} GFLOP per sample (3 x forward)"
          + (f"; bf16 dense peak {peak:.0f} TFLOP/s -> compute bound {peak * 1e12 / train_flops:.0f} samples/s"
             if peak else ""))
    print("\n| variant | batch | s/step | samples/s | TFLOP/s | % of bf16 peak | peak memory |")
    print("|---|---|---|---|---|---|---|")
    for variant in variants:
        for batch in args.batch:
            try:
                seconds = time_variant(args.model, variant, batch, args.crop, args.steps, args.warmup, device)
            except torch.OutOfMemoryError:
                print(f"| `{variant}` | {batch} | out of memory | | | | |")
                torch.cuda.empty_cache()
                continue
            rate = batch / seconds
            tflops = rate * train_flops / 1e12
            share = f"{100 * tflops / peak:.1f}%" if peak else "n/a"
            print(f"| `{variant}` | {batch} | {seconds:.4f} | {rate:.1f} | {tflops:.3f} | {share} | "
                  f"{_peak_memory_mb(device)} |", flush=True)
    if args.data:
        batch = max(args.batch)
        rate = time_input_pipeline(args.data, args.crop, batch, args.workers, batches=20)
        print(f"\ninput pipeline: {rate:.0f} samples/s with {args.workers} workers "
              f"({args.crop}x{args.crop} crops, batches of {batch})")


if __name__ == "__main__":
    main()
