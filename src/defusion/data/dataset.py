"""Natural-image folders for self-supervised CUD training."""

from __future__ import annotations

import math
import multiprocessing
import os
import random
import sys
from pathlib import Path, PurePath

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, get_worker_info
from tqdm import tqdm

from defusion.data.errors import DataConfigError
from defusion.fusion.color import as_rgb, luminance, to_float
from defusion.fusion.stretch import STRETCHED_BEFORE_FUSING, describe_fixed, measure_stretch, stretch_sources
from defusion.io.errors import ImageReadError
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.images import READ_SUFFIXES, read_image
from defusion.io.front_end import reading_for
from defusion.io.notes import collecting
from defusion.io.shots import is_hidden

#: File suffixes (lower case) treated as images when scanning a training folder: every format
#: read_image reads (GIF, HEIC and camera raw files too, where their extras are installed).
IMAGE_SUFFIXES = READ_SUFFIXES
#: Range of a random resized crop's area as fractions of its image: the usual RandomResizedCrop's.
DEFAULT_CROP_SCALE: tuple[float, float] = (0.08, 1.0)
#: An image whose shorter side is under this fraction of the crop is skipped as too small to train on:
#: its crops would be up-sampled more than 4x, a blur with no detail left to learn from.
MIN_SIDE_FRACTION = 0.25
#: What :func:`~defusion.fusion.stretch.describe_stretch` says of a raw frame for fusion, and what it
#: means in training (the readers' own lines take training's words from :func:`reading_for`).
_TRAINING_WORDING = (
    (STRETCHED_BEFORE_FUSING,
     "stretched to the full range, as defusion fuse reads it; so is every such raw sensor frame under the training "
     "folder, each by its own range (said for the first one only)"),
)


class ImageTooSmallError(ImageReadError):
    """An image whose shorter side is under :data:`MIN_SIDE_FRACTION` of the training crop."""


def for_training(message: str) -> str:
    """A line :func:`read_image` says, worded for training instead of fusion.

    Example:
        >>> for_training("ir.png holds 16-bit values 7002-8997: stretched to the full range before fusing")[:69]
        'ir.png holds 16-bit values 7002-8997: stretched to the full range, as'
    """
    for fusing, training in _TRAINING_WORDING:
        message = message.replace(fusing, training)
    return message


def find_images(root: str | Path) -> list[Path]:
    """All image files under ``root`` (recursive), sorted for reproducible order; hidden files and
    folders (a name starting with '.': macOS's ``._IMG.jpg`` beside each image on a card,
    ``.ipynb_checkpoints``, ...) left out.

    Symlinked folders are followed (a training folder is often assembled from links to data sets
    kept elsewhere), each real folder once: a link back up the tree cannot loop, nor a folder
    reached twice count its images twice (of a folder and a link to it side by side, the folder
    is the one read)."""
    root = Path(root)
    found: list[Path] = []
    visited = {os.path.realpath(root)}
    for folder, subfolders, names in os.walk(root, followlinks=True):
        kept = []
        for name in sorted(subfolders, key=lambda n: (os.path.islink(os.path.join(folder, n)), n)):
            real = os.path.realpath(os.path.join(folder, name))
            if not is_hidden(Path(name)) and real not in visited:
                visited.add(real)
                kept.append(name)
        subfolders[:] = sorted(kept)  # os.walk descends into these only, in this order
        found += [path for path in (Path(folder) / name for name in names)
                  if not is_hidden(path) and path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()]
    return sorted(found, key=file_order)


def file_order(path: PurePath) -> tuple[str, ...]:
    """The key a training folder's files are sorted by: their names part by part, case counting, on
    every OS. Windows' paths sort regardless of case, so a run moved between systems would read
    another file at each index (and note its files as changed on resume).

    Example:
        >>> from pathlib import PurePosixPath, PureWindowsPath
        >>> names = ["b.png", "B2.png", "a.png", "Z.png"]
        >>> [p.name for p in sorted(map(PureWindowsPath, names), key=file_order)]
        ['B2.png', 'Z.png', 'a.png', 'b.png']
        >>> [p.name for p in sorted(map(PurePosixPath, names))]  # what sorted() gives on Linux and macOS
        ['B2.png', 'Z.png', 'a.png', 'b.png']
    """
    return path.parts


def random_resized_crop_box(
    width: int, height: int, rng: random.Random, scale: tuple[float, float] = DEFAULT_CROP_SCALE,
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
) -> tuple[int, int, int, int]:
    """A crop box (left, top, right, bottom) covering a random area and aspect ratio.

    Same sampling as the usual ``RandomResizedCrop`` (Inception-style), with a centre crop
    fallback after ten rejected draws.
    """
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left, top = rng.randint(0, width - w), rng.randint(0, height - h)
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def _around_box(image: np.ndarray, box: tuple[int, int, int, int], crop: int
                ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The part of ``image`` that a bicubic resize of ``box`` to ``crop`` pixels reads (the box and
    its filter's reach), and the box within it: converting only that part to float is faster."""
    left, top, right, bottom = box
    reach = math.ceil(2 * max((right - left) / crop, (bottom - top) / crop, 1.0)) + 2
    x0, y0 = max(left - reach, 0), max(top - reach, 0)
    x1, y1 = min(right + reach, image.shape[1]), min(bottom + reach, image.shape[0])
    return image[y0:y1, x0:x1], (left - x0, top - y0, right - x0, bottom - y0)


class NaturalImages(Dataset):
    """Random resized crops of every image under a folder, as (3, crop, crop) in [0, 1], each with
    whether it could be read: what ``defusion train`` trains on (docs/training.md).

    ``length`` (default: the number of images) is an epoch's samples, cycling through the images with
    a fresh crop each time, so that a small folder follows a schedule written for a large one.
    ``grey_prob``: the fraction of crops made grey RGB (R = G = B = the BT.601 luma), the inputs the
    fusion core feeds the network when it fuses luminance. ``crop_scale``: each crop's area range, as
    a fraction of its image. Images are read as :func:`~defusion.io.images.read_image` reads them
    (at most ``max_pixels``: ``defusion train --max-pixels``, the config's ``max_pixels``; a larger
    one is skipped), so any depth or layout trains at the same [0, 1] scale; a raw sensor frame (grey
    16-bit values in a narrow band: a thermal camera's counts) is stretched onto [0, 1] by its own range,
    as ``defusion fuse`` reads it (:func:`~defusion.fusion.stretch.measure_stretch`), so that the network
    trains on what fusion will feed it, not on a flat grey; said once per run. Every setting is an
    attribute, so that a data worker, spawned with a copy of the dataset, reads as this process does.

    An unreadable file, or one whose shorter side is under :data:`MIN_SIDE_FRACTION` of ``crop``,
    yields ``valid=False`` and a zero image instead of raising, so that a run skips it rather than
    dying hours in; one smaller than ``crop`` is up-sampled. Each is named on stderr once per run,
    from whichever process read it, as is what reading a file has to say; with ``quiet`` set (a DDP
    process other than rank 0) nothing is said, and :meth:`name` says it later.

    Example (the package's four example images, cycled through an epoch of 10 samples):
        >>> from importlib.resources import files
        >>> ds = NaturalImages(files("defusion") / "examples", crop=64, length=10)
        >>> len(ds.files), len(ds), ds[7][0].shape
        (4, 10, torch.Size([3, 64, 64]))
    """

    def __init__(self, root: str | Path, crop: int = 256, seed: int = 0, length: int | None = None,
                 grey_prob: float = 0.0, crop_scale: tuple[float, float] = DEFAULT_CROP_SCALE,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.files = find_images(root)
        if not self.files:
            raise FileNotFoundError(f"no images found under {root}")
        if length is not None and length < 1:
            raise DataConfigError(f"length must be positive, got {length}")
        if not 0.0 <= grey_prob <= 1.0:
            raise DataConfigError(f"grey_prob must be in [0, 1], got {grey_prob}")
        self.crop = crop
        self.grey_prob = grey_prob
        self.crop_scale = crop_scale
        self.max_pixels = max_pixels
        self.seed = seed
        self.length = length or len(self.files)
        self.epoch = 0
        #: Say nothing (a DDP process other than rank 0, which names what they find: :meth:`name`).
        self.quiet = False
        # Flags per file, each set once its line is said (or, quiet, would have been): in shared
        # memory, so that the data workers of every epoch (fresh processes) see what earlier ones
        # already reported. Skipped as unreadable; read with something to say; smaller than the crop.
        self._warned, self._noted, self._small = (torch.zeros(len(self.files), dtype=torch.uint8) for _ in range(3))
        self._stretched = torch.zeros(1, dtype=torch.uint8)  # one flag: the stretch is said once per run
        for flags in (self._warned, self._noted, self._small, self._stretched):
            try:
                flags.share_memory_()
            except (RuntimeError, OSError):  # no shared memory here: then once per process
                pass
        # Two workers reading the same file at once must not both see it unnamed.
        self._warned_lock = multiprocessing.Lock()

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        """Make crops depend on (seed, epoch, index): resumable and worker-independent."""
        self.epoch = epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, bool]:
        rng = random.Random(f"{self.seed}:{self.epoch}:{index}")
        file_index = index % len(self.files)
        try:
            image = self._read(file_index)
            array = self._stretch(file_index, image, self._crop(image, rng))
        except Exception as exc:  # noqa: BLE001 - any decode failure is a skipped sample
            self._warn_skipped(file_index, exc)
            return torch.zeros(3, self.crop, self.crop), False
        return torch.from_numpy(array).permute(2, 0, 1).contiguous(), True

    def upsampled(self, file_index: int) -> bool:
        """Whether the file is smaller than the crop (known once this process tree has read it)."""
        return bool(self._small[file_index])

    def name(self, file_index: int) -> None:
        """Name a file that another process tree (a DDP rank other than 0) skipped or found smaller
        than the crop, unless this one already did: read it again here for what to say."""
        if self._warned[file_index] or self._small[file_index]:
            return
        try:
            self._read(file_index)
        except Exception as exc:  # noqa: BLE001 - as in __getitem__
            self._warn_skipped(file_index, exc)

    def _read(self, file_index: int) -> np.ndarray:
        """The file's pixels (:func:`read_image`), its lines said once, worded for training;
        ImageTooSmallError for an image too small to train on, a warning for one smaller than the crop."""
        path = self.files[file_index]
        with collecting() as lines, reading_for("training"):  # in a spawned data worker too
            image = read_image(path, max_pixels=self.max_pixels)
        self._say_once(self._noted, file_index, [f"defusion: {for_training(line)}" for line in lines])
        height, width = image.shape[:2]
        least = math.ceil(self.crop * MIN_SIDE_FRACTION)
        if min(height, width) < least:
            raise ImageTooSmallError(f"{path}: {width}x{height} is too small to train on: its shorter side is under "
                                     f"{least} pixels, {MIN_SIDE_FRACTION:g} of the {self.crop}-pixel crop")
        if min(height, width) < self.crop:
            self._say_once(self._small, file_index, [
                f"defusion: warning: {path} is {width}x{height}, smaller than the {self.crop}x{self.crop} crop: "
                "its crops are up-sampled (blurrier than the others)"])
        return image

    def _stretch(self, file_index: int, image: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """``crop`` of ``image`` stretched as ``defusion fuse`` stretches a raw sensor frame (``stretch``
        ``auto``: :func:`~defusion.fusion.stretch.measure_stretch` of the whole image, alone), else as it is;
        the first stretched file of the run is named with its values, once."""
        fixed = measure_stretch([image])  # None at once for 8-bit and float images
        if fixed is None:
            return crop
        said = describe_fixed([str(self.files[file_index])], fixed)
        self._say_once(self._stretched, 0, [f"defusion: note: {for_training(line)}" for line in said])
        return stretch_sources([image], [crop], fixed)[0][0]

    def _crop(self, image: np.ndarray, rng: random.Random) -> np.ndarray:
        """A random resized crop of ``read_image``'s HxW or HxWx3 uint8/uint16 pixels, flipped and
        made grey as drawn: (crop, crop, 3) float32 in [0, 1]."""
        height, width = image.shape[:2]
        box = random_resized_crop_box(width, height, rng, scale=self.crop_scale)
        flip = rng.random() < 0.5
        grey = bool(self.grey_prob) and rng.random() < self.grey_prob
        size = (self.crop, self.crop)
        if image.dtype == np.uint8:  # Pillow's 8-bit resampling: fast, and the crops of earlier versions
            im = Image.fromarray(image).resize(size, Image.BICUBIC, box=box)
            if grey and im.mode == "RGB":
                im = im.convert("L")  # PIL's L is BT.601 luma, as in fusion
            crop = to_float(np.asarray(im))
        else:  # 16 bits: each plane resampled as floats (Pillow's "F"), keeping the precision
            planes, box = _around_box(image[..., None] if image.ndim == 2 else image, box, self.crop)
            crop = np.stack([np.asarray(Image.fromarray(to_float(planes[..., c])).resize(size, Image.BICUBIC, box=box))
                             for c in range(planes.shape[2])], axis=2)
            crop = np.clip(crop, 0.0, 1.0)  # bicubic overshoots at edges; 8-bit data clips the same way
            if grey and crop.shape[2] == 3:
                crop = luminance(crop)
        if flip:
            crop = crop[:, ::-1]
        return np.ascontiguousarray(as_rgb(crop), dtype=np.float32)

    def _warn_skipped(self, file_index: int, exc: Exception) -> None:
        """Name an unreadable file and why on stderr, the first time any process reads it."""
        path = self.files[file_index]
        # a reader's own line; over max_pixels, with how to raise it (--max-pixels: read for "training")
        reason = str(exc) if isinstance(exc, ImageReadError) else f"{path}: {type(exc).__name__}: {exc}"
        self._say_once(self._warned, file_index, [f"defusion: warning: skipping {reason}"])

    def _say_once(self, flags: torch.Tensor, file_index: int, messages: list[str]) -> None:
        """Say ``messages`` on stderr unless ``flags`` says that some process already said them."""
        if not messages:
            return
        with self._warned_lock:
            if flags[file_index]:
                return
            flags[file_index] = 1
        if self.quiet:
            return
        for message in messages:
            self._say(message)

    @staticmethod
    def _say(message: str) -> None:
        if get_worker_info() is None:
            tqdm.write(message, file=sys.stderr)  # above this process's progress bar, if it shows one
        else:  # a data worker: not tqdm's lock, which a worker killed while holding it would keep
            print(message, file=sys.stderr, flush=True)
