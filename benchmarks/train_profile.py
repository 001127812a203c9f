"""Where a training step's time goes: the parts of one step timed apart, and the top operators.

``benchmarks/train_speed.py`` says how fast a step is; this says why. It times, per batch size,
making the CUD views, the forward pass, forward + backward, and the whole step (Adam included),
then profiles a few whole steps with ``torch.profiler`` and prints the operators that take the
most device (or CPU) time. A step far under the compute bound whose time barely grows with the
batch is bound by launches and host work, not by arithmetic.

Usage: python benchmarks/train_profile.py [--device cuda] [--crop 256] [--batch 32 128] [--amp]
"""

from __future__ import annotations

import argparse
import random
import time

import torch

from defusion.data.cud import CUDConfig, make_targets, make_views
from defusion.model.registry import create_model
from defusion.training.loss import cud_losses
from defusion.training.step import autocast_for, make_optimizer, train_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _median_seconds(fn, device: torch.device, steps: int, warmup: int) -> float:
    times = []
    for i in range(warmup + steps):
        _sync(device)
        start = time.perf_counter()
        fn(i)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--model", default="defusion")
    p.add_argument("--crop", type=int, default=256)
    p.add_argument("--batch", type=int, nargs="+", default=[32, 128])
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, default=True, help="bf16 autocast")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--top", type=int, default=25)
    args = p.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    model = create_model(args.model).to(device)
    optimizer = make_optimizer(model.parameters(), lr=1e-3)
    autocast = autocast_for(device, amp=args.amp)
    cud = CUDConfig()
    gen = torch.Generator(device=device).manual_seed(0)
    print(f"{args.model}, {args.crop}x{args.crop}, amp={args.amp}, {device} "
          f"({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), torch {torch.__version__}")
    print("| batch | views ms | forward ms | forward+backward ms | whole step ms | samples/s |")
    print("|---|---|---|---|---|---|")
    for batch in args.batch:
        x = torch.rand(batch, 3, args.crop, args.crop, device=device, generator=gen)
        views = make_views(x, cud, generator=gen, cells_rng=random.Random(0))
        targets = make_targets(x, views.mask1, views.mask2)

        def forward(_i: int) -> torch.Tensor:
            with autocast():
                return model(views.x1, views.x2)

        def forward_backward(_i: int) -> None:
            out = forward(_i)
            loss = cud_losses(out, targets, None, masks=(views.mask1, views.mask2))["total"]
            loss.backward()

        t_views = _median_seconds(lambda i: make_views(x, cud, generator=gen, cells_rng=random.Random(i)),
                                  device, args.steps, args.warmup)
        with torch.no_grad():
            t_fwd = _median_seconds(forward, device, args.steps, args.warmup)
        t_fb = _median_seconds(forward_backward, device, args.steps, args.warmup)
        t_step = _median_seconds(lambda i: train_step(model, optimizer, x, None, cud, generator=gen,
                                                      cells_rng=random.Random(i), autocast=autocast),
                                 device, args.steps, args.warmup)
        print(f"| {batch} | {t_views * 1e3:.1f} | {t_fwd * 1e3:.1f} | {t_fb * 1e3:.1f} | {t_step * 1e3:.1f} "
              f"| {batch / t_step:.0f} |")

    batch = args.batch[0]
    x = torch.rand(batch, 3, args.crop, args.crop, device=device, generator=gen)
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device.type == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for i in range(3):
            train_step(model, optimizer, x, None, cud, generator=gen, cells_rng=random.Random(i), autocast=autocast)
        _sync(device)
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    print(f"\nprofile of 3 whole steps at batch {batch}, top {args.top} operators by {sort}:")
    print(prof.key_averages().table(sort_by=sort, row_limit=args.top, max_name_column_width=60))


if __name__ == "__main__":
    main()
