"""Natural-image folders for self-supervised CUD training."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch.utils.data import Dataset

#: File suffixes (lower case) treated as images when scanning a training folder.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
#: Range of a random resized crop's area as fractions of its image: the usual RandomResizedCrop's.
DEFAULT_CROP_SCALE: tuple[float, float] = (0.08, 1.0)


def find_images(root: str | Path) -> list[Path]:
    """All image files under ``root`` (recursive), sorted for reproducible order."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def random_resized_crop_box(
    width: int, height: int, rng: random.Random, scale=DEFAULT_CROP_SCALE, ratio=(3 / 4, 4 / 3)
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


class NaturalImages(Dataset):
    """Random resized crops of every image under a folder, as (3, crop, crop) in [0, 1].

    ``length`` (default: the number of images) makes one pass ("epoch") that many samples,
    cycling through the images with a fresh crop each time: a small folder can then follow a
    schedule written for a large dataset (the paper's epochs are 50k COCO images), and a fast
    GPU does not restart its data workers every few seconds.

    ``grey_prob`` turns that fraction of the crops into grey RGB (R = G = B = the BT.601 luma Y,
    the plane :mod:`defusion.fusion.color` feeds the network when it fuses luminance), so that a
    network trained for the product's default colour mode sees inputs like the ones it fuses.
    ``crop_scale`` is the range of each crop's area as a fraction of its image.

    An unreadable file yields ``valid=False`` and a zero image instead of raising, so a
    training run counts and skips it rather than dying hours in.

    Example (the package's four example images, cycled through an epoch of 10 samples):
        >>> from importlib.resources import files
        >>> ds = NaturalImages(files("defusion") / "examples", crop=64, length=10)
        >>> len(ds.files), len(ds), ds[7][0].shape
        (4, 10, torch.Size([3, 64, 64]))
    """

    def __init__(self, root: str | Path, crop: int = 256, seed: int = 0, length: int | None = None,
                 grey_prob: float = 0.0, crop_scale: tuple[float, float] = DEFAULT_CROP_SCALE) -> None:
        self.files = find_images(root)
        if not self.files:
            raise FileNotFoundError(f"no images found under {root}")
        if length is not None and length < 1:
            raise ValueError(f"length must be positive, got {length}")
        if not 0.0 <= grey_prob <= 1.0:
            raise ValueError(f"grey_prob must be in [0, 1], got {grey_prob}")
        self.crop = crop
        self.grey_prob = grey_prob
        self.crop_scale = crop_scale
        self.seed = seed
        self.length = length or len(self.files)
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        """Make crops depend on (seed, epoch, index): resumable and worker-independent."""
        self.epoch = epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, bool]:
        rng = random.Random(f"{self.seed}:{self.epoch}:{index}")
        try:
            with Image.open(self.files[index % len(self.files)]) as im:
                im = ImageOps.exif_transpose(im).convert("RGB")
                box = random_resized_crop_box(im.width, im.height, rng, scale=self.crop_scale)
                im = im.resize((self.crop, self.crop), Image.BICUBIC, box=box)
                if rng.random() < 0.5:
                    im = im.transpose(Image.FLIP_LEFT_RIGHT)
                if self.grey_prob and rng.random() < self.grey_prob:
                    im = im.convert("L").convert("RGB")  # PIL's L is BT.601 luma, as in fusion
                array = np.asarray(im, dtype=np.float32) / 255.0
        except Exception:  # noqa: BLE001 - any decode failure is a skipped sample
            return torch.zeros(3, self.crop, self.crop), False
        return torch.from_numpy(array).permute(2, 0, 1).contiguous(), True
