"""``defusion train``: CUD self-supervised training on a folder of natural images."""

from __future__ import annotations

import contextlib
import argparse
import errno
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from defusion.cli.errors import (EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, UserError,
                                 close_progress_bars)
from defusion.cli.options import positive_int
from defusion.io.formats import DEFAULT_MAX_PIXELS
# Only light modules here (no PyTorch): `defusion --help` imports this one to build its parser; the
# training modules load in the functions that use them.
from defusion.training.errors import (DataWorkerError, DivergedError, JobFailedError, RunDirError,
                                      SameOnEveryRankError, Terminated)

if TYPE_CHECKING:
    from defusion.training.config import TrainConfig

HELP = "train DeNet with the CUD pretext on any folder of images"
EPILOG = (f"exit status: 0 when the run reached its end (or its --max-seconds budget) and wrote its weights; "
          f"{EXIT_FAILED} when it failed on good input (a data worker or a DDP process died, out of memory); "
          f"{EXIT_USAGE} for options, a config or a folder to change; {EXIT_INTERRUPTED} when stopped by Ctrl-C and "
          f"{EXIT_TERMINATED} by SIGTERM (both save a checkpoint to go on from with --resume, and the weights so far)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = EPILOG
    p.add_argument("--data", required=True, type=Path, help="folder of images (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="run folder: checkpoints, logs, final weights")
    p.add_argument("--config", type=Path, help="YAML file of TrainConfig fields (defaults: the paper's)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out at its last checkpoint")
    p.add_argument("--model", help="registered model name (default: defusion)")
    p.add_argument("--init", type=Path, metavar="WEIGHTS",
                   help="start from these weights instead of random (e.g. the shipped ones: --init shipped)")
    p.add_argument("--max-steps", type=int, help="stop after this many optimizer steps in total")
    p.add_argument("--max-seconds", type=float,
                   help="wall-time budget of this invocation: then checkpoint and write the weights")
    p.add_argument("--epochs", type=int, help="number of epochs (default 50)")
    p.add_argument("--epoch-samples", type=int,
                   help="samples per epoch (default: one pass over --data); e.g. 50000 to follow the "
                        "paper's COCO schedule with a smaller folder")
    p.add_argument("--batch-size", type=int, help="images per step per process (default 8)")
    p.add_argument("--crop", type=int, help="random resized crop size (default 256)")
    p.add_argument("--lr", type=float, help="initial Adam learning rate (default 1e-3)")
    p.add_argument("--workers", type=int, help="data loader processes (default 2)")
    p.add_argument("--checkpoint-every", type=int, help="also checkpoint every N steps (default 500)")
    p.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the network (faster steps after compiling; see docs/training.md)")
    p.add_argument("--max-pixels", type=positive_int,  # None: the config's max_pixels, as the other options
                   help=f"skip images with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--device", default="auto",
                   help="auto (a GPU where PyTorch sees one, else the CPU), cpu, cuda, cuda:N or mps; under "
                        "torchrun each process trains on its own GPU, cuda:LOCAL_RANK (default auto)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="CPU threads of PyTorch's training steps (default: PyTorch's, one per core; beside "
                        "--workers data processes on a small or busy machine fewer can be faster: see "
                        "docs/training.md); under torchrun, its OMP_NUM_THREADS (1) unless given")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Defaults (or the resumed run's config), then --config, then command-line overrides."""
    from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_config
    from defusion.training.config import TrainConfig, read_options

    ckpt = args.out / "checkpoints" / CHECKPOINT_NAME
    cfg = TrainConfig.from_dict(checkpoint_config(ckpt)) if args.resume and ckpt.exists() else TrainConfig()
    if args.config:
        if not args.config.is_file():
            raise FileNotFoundError(f"config file not found: {args.config}")
        cfg = cfg.updated(read_options(args.config))
    return cfg.override(model=args.model, max_steps=args.max_steps, epochs=args.epochs,
                        epoch_samples=args.epoch_samples, max_seconds=args.max_seconds,
                        batch_size=args.batch_size, crop=args.crop, lr=args.lr, workers=args.workers,
                        checkpoint_every=args.checkpoint_every, compile=args.compile, max_pixels=args.max_pixels)


def run(args: argparse.Namespace) -> int:
    from safetensors import SafetensorError

    from defusion.training.checkpoint import os_error
    from defusion.training.trainer import WEIGHTS_NAME, Distributed, train

    if not args.data.is_dir():
        raise UserError(f"--data {args.data} is a file, not a folder of images" if args.data.exists()
                        else f"training folder not found: {args.data}")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out} is a file, not a folder: choose a folder for the run")
    cfg = resolve_config(args)
    init = args.init
    if init is not None and str(init) == "shipped":
        from defusion.model.weights import shipped_weights_path

        init = shipped_weights_path()
    try:
        with _threads(args.threads):
            weights = train(args.data, args.out, cfg, resume=args.resume, progress=not args.no_progress,
                            init_weights=init, device=args.device)
    except SameOnEveryRankError:
        if not Distributed.from_env().is_main:  # rank 0 says it for every process
            return EXIT_USAGE
        raise
    except Terminated:  # a KeyboardInterrupt: the run saved what it had, as on Ctrl-C
        if Distributed.from_env().is_main:  # torchrun sends it to every process: rank 0 says it
            close_progress_bars()
            print("defusion: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        if not Distributed.from_env().is_main:  # Ctrl-C reaches every process: rank 0 says it
            return EXIT_INTERRUPTED
        raise
    except (OSError, SafetensorError) as exc:  # a full disk, a read-only --out, ...: one line, not a traceback
        error = exc if isinstance(exc, OSError) else os_error(exc, args.out / WEIGHTS_NAME)  # safetensors'
        if error is None or error.errno is None:  # e.g. "no images found under ...": shown as it is
            raise
        raise UserError(_os_failure(error, args.out)) from None
    if weights is not None:
        print(f"wrote {weights}", file=sys.stderr)
    return 0


@contextlib.contextmanager
def _threads(threads: int | None) -> Iterator[None]:
    """PyTorch's CPU threads set to ``threads`` (--threads) inside the block, as they were after it;
    nothing changed for None."""
    if threads is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: OS errors of writing, which get "cannot write" before the file's name.
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST,
                 errno.EACCES, errno.EPERM}


def _os_failure(exc: OSError, out: Path) -> str:
    """One line for an OS error that stopped a run (a full disk, a read-only or blocked --out), and
    what is kept of the run: the last checkpoint is only ever replaced whole."""
    from defusion.training.checkpoint import CHECKPOINT_NAME, checkpoint_step

    where = exc.filename or out
    reason = exc.strerror or str(exc)
    message = f"cannot write {where}: {reason}" if exc.errno in _WRITE_ERRNOS else f"{where}: {reason}"
    ckpt = out / "checkpoints" / CHECKPOINT_NAME
    try:
        step = checkpoint_step(ckpt) if ckpt.is_file() else None
    except (OSError, ValueError):
        step = None
    if step is not None:
        message += f"; the run's checkpoint at step {step} is kept: continue it with --resume once that is fixed"
    return message


#: Errors shown as one line (WeightsError is a ValueError).
EXPECTED_ERRORS = (RunDirError, DivergedError, FileNotFoundError, ValueError)
#: A run that failed on good input (its last completed step saved): exit status 1, not the usage status 2.
FAILURE_ERRORS = (JobFailedError, DataWorkerError)
