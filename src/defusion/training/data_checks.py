"""What the training images let a run learn: the errors of a folder that gives no step (an epoch
shorter than a batch, images none of which can be read or all too small for the crop), and what
each step read, told alike to every process.

Every process reaches these errors alike (:class:`SameOnEveryRankError`), so none waits on another.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.distributed as dist

from defusion.data.dataset import MIN_SIDE_FRACTION, NaturalImages
from defusion.io.notes import plural
from defusion.model.denet import SIZE_MULTIPLE
from defusion.training.checkpoint import TrainState
from defusion.training.distributed import Distributed, processes
from defusion.training.errors import SameOnEveryRankError

#: At most this many files are read to tell why an epoch too short for a batch is (none readable?).
_PROBE_FILES = 64
#: At most this many image headers are read to tell that every image of a folder is too small for the crop.
_SIZE_CHECK_FILES = 1000


def too_few_samples(samples: int, per_process: int, batch_size: int, world_size: int) -> str:
    """Why an epoch of ``samples`` has no step: each process gets ``per_process`` of them, fewer than
    one batch.

    Example:
        >>> too_few_samples(3, 1, 2, 2)
        'an epoch of 3 samples gives each of the 2 processes 1, fewer than its batch of 2: a step needs 4 \
(batch 2 x 2 processes); use a smaller --batch-size, fewer processes or a larger --epoch-samples'
    """
    if world_size == 1:
        return (f"an epoch of {plural(samples, 'sample')} is fewer than one batch of {batch_size}; use a smaller "
                "--batch-size or a larger --epoch-samples")
    return (f"an epoch of {plural(samples, 'sample')} gives each of the {world_size} processes {per_process}, fewer "
            f"than its batch of {batch_size}: a step needs {batch_size * world_size} (batch {batch_size} x "
            f"{processes(world_size)}); use a smaller --batch-size, fewer processes or a larger --epoch-samples")


def none_readable(data: str | Path, dataset: NaturalImages) -> str | None:
    """Why an epoch too short for one batch could not train either way, if none of the folder's
    (few) files can be read: what to say then, else None. Each unreadable file is named, as in training."""
    if len(dataset.files) > _PROBE_FILES:
        return None
    if any(dataset[index][1] for index in range(len(dataset.files))):  # (crop, readable)
        return None
    small = _too_small(data, dataset, set(range(len(dataset.files))))
    if small is not None:
        return small
    n = len(dataset.files)
    # each file was named above with its reason: not an image, broken, or over the pixel bound
    return f"no image under {data} could be read ({plural(n, 'file')}, named above with why)"


def learnt_nothing(state: TrainState) -> bool:
    """Whether every sample of the run so far was skipped (none could be read), or none was drawn:
    such a run leaves no checkpoint, which would only block a rerun into its folder.

    Example:
        >>> learnt_nothing(TrainState(step=3, skipped_samples=24, samples_seen=24))  # every image unreadable
        True
        >>> learnt_nothing(TrainState(step=3, skipped_samples=2, samples_seen=24))
        False
    """
    return state.skipped_samples >= (state.samples_seen or 0)


def nothing_read(data: str | Path, state: TrainState, skipped_files: set[int], dataset: NaturalImages,
                 ) -> SameOnEveryRankError:
    """The error of a run that could read no image (every process reaches it alike): the skipped
    images all too small for the crop, or else each named above with why (not an image, broken, over
    the pixel bound)."""
    small = _too_small(data, dataset, skipped_files)
    if small is not None and len(skipped_files) < len(dataset.files) <= _SIZE_CHECK_FILES:
        small = _too_small(data, dataset, set(range(len(dataset.files)))) or small  # all of them, if so
    if small is not None:
        return SameOnEveryRankError(small + "; nothing was learnt or saved")
    return SameOnEveryRankError(
        f"no image under {data} could be read in the first {plural(state.step, 'step')} "
        f"({plural(len(skipped_files), 'file')} skipped, each named above with why); nothing was learnt or saved")


def _too_small(data: str | Path, dataset: NaturalImages, files: set[int]) -> str | None:
    """What to say when every one of ``files`` (indices into ``dataset.files``) is an image too small
    for the crop (shorter side under :data:`MIN_SIDE_FRACTION` of it), else None. Only the headers
    are read."""
    from defusion.io.probes import header_size  # the size reading gives: HEIC, TIFF, EXIF-upright

    sizes = []
    for index in sorted(files):
        size = header_size(dataset.files[index])
        if size is None:  # not an image, or a camera raw file: then not (only) a matter of size
            return None
        sizes.append(size)
    least = math.ceil(dataset.crop * MIN_SIDE_FRACTION)
    if not sizes or any(min(size) >= least for size in sizes):
        return None
    width, height = max(sizes, key=min)
    largest = int(min(width, height) / MIN_SIDE_FRACTION) // SIZE_MULTIPLE * SIZE_MULTIPLE  # DeNet's crops

    which = (f"all {plural(len(sizes), 'image')} under {data}" if len(sizes) == len(dataset.files) else
             f"the {plural(len(sizes), 'image')} read so far")
    fix = f"lower --crop (to {largest} or less)" if largest >= SIZE_MULTIPLE else "use larger images"
    return (f"{which} {'is' if len(sizes) == 1 else 'are'} smaller than the {dataset.crop}x{dataset.crop} crop "
            f"(the largest, {width}x{height}, is under the {least} pixels a side needs: "
            f"{MIN_SIDE_FRACTION:g} of the crop); {fix}")


def read_report(dataset: NaturalImages, indices: list[int], valid: torch.Tensor, ctx: Distributed,
                device: torch.device) -> tuple[list[int], list[int]]:
    """The files of this step's samples, over every process, that were skipped (unreadable; one per
    sample) and that are smaller than the crop (up-sampled). Under DDP one all-reduce of a code per
    sample of every process (0: read; file + 1: skipped; -(file + 1): up-sampled) tells every rank
    alike, before the step: no collective between its update and its count."""
    files = [index % len(dataset.files) for index in indices]
    codes = torch.zeros(ctx.world_size, len(files), dtype=torch.int64)
    for column, (file, ok) in enumerate(zip(files, valid.tolist())):
        codes[ctx.rank, column] = file + 1 if not ok else -(file + 1) if dataset.upsampled(file) else 0
    if ctx.world_size > 1:
        codes = codes.to(device)
        dist.all_reduce(codes)
        codes = codes.cpu()
    codes = codes.flatten().tolist()
    return [code - 1 for code in codes if code > 0], [-code - 1 for code in codes if code < 0]
