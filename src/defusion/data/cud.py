"""The CUD pretext (common and unique decomposition, paper eq. 1).

From a clean batch x, make two views x^i = M_i * x + (1 - M_i) * n_i. Each mask is the
product of a coarse and a fine random grid mask; cells that neither view sees are split
between the views, so M1 + M2 > 0 everywhere (the cover constraint). Everything runs on
x's device in one batched pass, so a GPU never waits for mask making.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from defusion.data.errors import DataConfigError
from defusion.fusion.values import is_integer, is_number

#: The worse renditions of an image that :func:`degrade` can draw.
DEGRADATIONS = ("blur", "exposure", "flat")

# How :func:`degrade` makes each rendition: this project's choices for ``degrade_prob`` > 0 (the
# paper's pretext has no degraded renditions), so changing one changes what such a training learns.
#: ``blur``: x averaged over 2^k x 2^k blocks and scaled back up, k drawn from low..high (inclusive):
#: blocks of 2, 4 or 8 pixels, a defocused source.
BLUR_OCTAVES = (1, 3)
#: ``exposure``: the chance that an image is made too dark (else too bright) ...
DARK_PROB = 0.5
#: ... the range its gain is drawn from when too dark (U(low, high): 2-4x too dark) ...
DARK_GAIN = (0.25, 0.5)
#: ... and when too bright (2-4x too bright; clipped to [0, 1]), a bracket's wrong exposure.
BRIGHT_GAIN = (2.0, 4.0)
#: ``flat``: the range its contrast (about its mean) is scaled by, U(low, high): 20-60% of it, a
#: low-information source.
FLAT_CONTRAST = (0.2, 0.6)


@dataclass(frozen=True)
class CUDConfig:
    """Mask statistics. Cells are counted per image side, as in the authors' code, so a cell
    of a 128x128 crop is half as many pixels across as at the paper's 256x256.

    The defaults are close to the authors' pretext (DecompositionForFusion,
    ``data/self_mixpretrain_dataset.py``) but not the same: the cell ranges here are inclusive
    (13 or 14 coarse, 26 to 28 fine cells), where the authors' ``torch.randint(13, 14)`` and
    ``torch.randint(26, 28)`` exclude the upper bound and draw 13 and 26 or 27; ``keep_prob`` is
    U(0.1, 0.99), theirs 0.1 + U(0, 1) / 1.12 (up to 0.993). The shipped weights were trained with
    these defaults, so they stay. :func:`make_masks` splits uncovered cells differently too.
    """

    coarse_cells: tuple[int, int] = (13, 14)
    fine_cells: tuple[int, int] = (26, 28)
    keep_prob: tuple[float, float] = (0.1, 0.99)
    #: Probability that a sample's unseen parts show a degraded copy of x (blurred, badly exposed
    #: or flattened: what a worse source of a real pair looks like) instead of noise. 0 is the
    #: paper's pretext; above 0 the fused head also learns to prefer the better of two renditions.
    degrade_prob: float = 0.0
    #: Which renditions :func:`degrade` draws from (any of ``DEGRADATIONS``).
    degrade_kinds: tuple[str, ...] = DEGRADATIONS

    def __post_init__(self) -> None:
        """Refuse what would fail only once training has started (an empty range of cells, a
        probability of 5, a lone number where a pair belongs), all problems in one line."""
        problems = []
        for name in ("coarse_cells", "fine_cells"):
            cells = _pair(getattr(self, name), whole=True)
            if cells is None or not 1 <= cells[0] <= cells[1]:
                problems.append(f"{name} must be two whole numbers of cells per image side, 1 <= low <= high, "
                                f"got {getattr(self, name)!r}")
            else:
                object.__setattr__(self, name, cells)
        keep = _pair(self.keep_prob, whole=False)
        if keep is None or not 0.0 <= keep[0] <= keep[1] <= 1.0:
            problems.append(f"keep_prob must be two probabilities 0 <= low <= high <= 1, got {self.keep_prob!r}")
        else:
            object.__setattr__(self, "keep_prob", keep)
        if not _is_number(self.degrade_prob) or not 0.0 <= self.degrade_prob <= 1.0:
            problems.append(f"degrade_prob must be in [0, 1], got {self.degrade_prob!r}")
        else:
            object.__setattr__(self, "degrade_prob", _python_number(self.degrade_prob))
        kinds = self.degrade_kinds
        if isinstance(kinds, str) or not isinstance(kinds, (list, tuple)) or not kinds \
                or any(k not in DEGRADATIONS for k in kinds):
            problems.append(f"degrade_kinds must name some of {', '.join(DEGRADATIONS)}, got {kinds!r}")
        else:
            object.__setattr__(self, "degrade_kinds", tuple(kinds))
        if problems:
            raise DataConfigError("; ".join(problems))


def _is_number(value: object, whole: bool = False) -> bool:
    """Whether ``value`` is a finite number (a whole one if ``whole``), NumPy's scalars included (as
    :mod:`defusion.fusion.values` counts them, so that a sweep over ``np.arange`` works); a bool is none.

    Example:
        >>> _is_number(np.float32(0.5)), _is_number(np.int64(3), whole=True), _is_number(True), _is_number(np.nan)
        (True, True, False, False)
    """
    if whole:
        return is_integer(value)
    return is_number(value) and math.isfinite(value)


def _python_number(value: object) -> object:
    """A NumPy scalar as the Python number it stands for (configs are saved as JSON); anything else as it is.

    Example:
        >>> type(_python_number(np.int64(3))).__name__, _python_number(0.5)
        ('int', 0.5)
    """
    return value.item() if isinstance(value, np.generic) else value


def _pair(value: object, whole: bool) -> tuple | None:
    """``value`` as a (low, high) tuple of numbers (whole ones if ``whole``; NumPy scalars as Python
    numbers), or None if it is not two.

    Example:
        >>> _pair([np.int64(13), 14], whole=True), _pair((0.1,), whole=False)
        ((13, 14), None)
    """
    if not isinstance(value, (list, tuple)) or len(value) != 2 or not all(_is_number(v, whole) for v in value):
        return None
    return tuple(_python_number(v) for v in value)


class CUDViews(NamedTuple):
    """Two degraded views of x and their masks (B, 1, H, W) in {0, 1}."""

    x1: torch.Tensor
    x2: torch.Tensor
    mask1: torch.Tensor
    mask2: torch.Tensor


class CUDTargets(NamedTuple):
    """What each projection head must reproduce: x restricted to its region."""

    common: torch.Tensor
    unique1: torch.Tensor
    unique2: torch.Tensor
    full: torch.Tensor


def grid_mask(batch: int, cells: int, size: tuple[int, int], keep: torch.Tensor,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """A (B, 1, H, W) mask of ``cells`` x ``cells`` blocks, each kept with probability ``keep``.

    Example:
        >>> m = grid_mask(2, 4, (16, 16), torch.full((2, 1, 1, 1), 0.5))
        >>> m.shape, bool(((m == 0) | (m == 1)).all())
        (torch.Size([2, 1, 16, 16]), True)
    """
    coarse = torch.rand(batch, 1, cells, cells, device=keep.device, generator=generator) < keep
    return F.interpolate(coarse.float(), size=size, mode="nearest")


def make_masks(batch: int, size: tuple[int, int], cfg: CUDConfig, device: torch.device | str = "cpu",
               generator: torch.Generator | None = None,
               cells_rng: random.Random | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Random masks (M1, M2) with M1 + M2 > 0 at every pixel.

    Each mask is a coarse grid times a fine grid, both drawn with the sample's keep probability
    (one per sample, for both views); the grid sizes are shared by the batch and both views.
    Cells that neither mask keeps go to M1 where a third, fine grid (its own size drawn from
    ``fine_cells``) at probability 0.5 is set, else to M2. The authors' code splits them by a
    grid at the sample's keep probability instead: the masks' coarse grid size, their fine grid
    size or a fine size drawn anew, with chances 0.33, 0.33 and 0.34.

    ``cells_rng`` draws the grid sizes on the host, so that making masks on a GPU never waits
    for the GPU (drawing them from a CUDA ``generator`` would synchronise three times a step).
    """

    def randint(lo: int, hi: int) -> int:
        """A whole number in lo..hi (inclusive), from ``cells_rng`` if given, else from ``generator``."""
        if cells_rng is not None:
            return cells_rng.randint(lo, hi)
        return int(torch.randint(lo, hi + 1, (1,), generator=generator, device=device).item())

    lo, hi = cfg.keep_prob
    keep = lo + (hi - lo) * torch.rand(batch, 1, 1, 1, device=device, generator=generator)
    coarse, fine = randint(*cfg.coarse_cells), randint(*cfg.fine_cells)
    m1 = grid_mask(batch, coarse, size, keep, generator) * grid_mask(batch, fine, size, keep, generator)
    m2 = grid_mask(batch, coarse, size, keep, generator) * grid_mask(batch, fine, size, keep, generator)
    uncovered = (m1 == 0) & (m2 == 0)
    half = torch.full_like(keep, 0.5)
    to_first = grid_mask(batch, randint(*cfg.fine_cells), size, half, generator).bool()
    m1 = torch.where(uncovered & to_first, torch.ones_like(m1), m1)
    m2 = torch.where(uncovered & ~to_first, torch.ones_like(m2), m2)
    return m1, m2


def make_views(x: torch.Tensor, cfg: CUDConfig = CUDConfig(), generator: torch.Generator | None = None,
               cells_rng: random.Random | None = None) -> CUDViews:
    """Degrade x (B, C, H, W) in [0, 1] into two CUD views.

    The unseen part of each view is |N(0, 1)| clipped to [0, 1] (as in the authors' code; the
    paper says Gaussian noise), independent per view, so what one view alone shows cannot be
    predicted from the other.
    """
    b, _, h, w = x.shape
    m1, m2 = make_masks(b, (h, w), cfg, device=x.device, generator=generator, cells_rng=cells_rng)
    m1, m2 = m1.to(x.dtype), m2.to(x.dtype)

    def noise() -> torch.Tensor:
        fill = torch.randn(x.shape, device=x.device, generator=generator, dtype=x.dtype).abs().clamp(0, 1)
        if cfg.degrade_prob > 0:
            chosen = torch.rand(b, 1, 1, 1, device=x.device, generator=generator) < cfg.degrade_prob
            fill = torch.where(chosen, degrade(x, generator, cfg.degrade_kinds), fill)
        return fill

    x1 = m1 * x + (1 - m1) * noise()
    x2 = m2 * x + (1 - m2) * noise()
    return CUDViews(x1, x2, m1, m2)


def degrade(x: torch.Tensor, generator: torch.Generator | None = None,
            kinds: tuple[str, ...] = DEGRADATIONS) -> torch.Tensor:
    """A worse rendition of each image of x (B, C, H, W) in [0, 1]: per sample, one of ``kinds``:
    ``blur`` (a defocused source), ``exposure`` too dark or too bright with clipping (a bracket's
    wrong exposure) or ``flat``, its contrast cut (a low-information source); how much of each:
    ``BLUR_OCTAVES``, ``DARK_PROB``, ``DARK_GAIN``, ``BRIGHT_GAIN``, ``FLAT_CONTRAST``.

    Example:
        >>> x = torch.rand(4, 3, 32, 32)
        >>> y = degrade(x)
        >>> y.shape == x.shape, bool(((y >= 0) & (y <= 1)).all())
        (True, True)
    """
    b, _, h, w = x.shape

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, 1, 1, 1, device=x.device, generator=generator, dtype=x.dtype)

    low, high = BLUR_OCTAVES
    factor = 2 ** int(torch.randint(low, high + 1, (1,), generator=generator, device=x.device).item())
    small = F.avg_pool2d(x, factor, ceil_mode=True)
    blurred = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    gain = torch.where(uniform(0, 1) < DARK_PROB, uniform(*DARK_GAIN), uniform(*BRIGHT_GAIN))
    exposed = (x * gain).clamp(0, 1)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    flat = mean + (x - mean) * uniform(*FLAT_CONTRAST)
    renditions = [{"blur": blurred, "exposure": exposed, "flat": flat}[k] for k in kinds]
    kind = torch.randint(0, len(renditions), (b, 1, 1, 1), device=x.device, generator=generator)
    out = renditions[0]
    for i, rendition in enumerate(renditions[1:], start=1):
        out = torch.where(kind == i, rendition, out)
    return out.clamp(0, 1)


def region_masks(mask1: torch.Tensor, mask2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The partition of the CUD targets: (M1∩M2, M1 without M2, M2 without M1).

    Example:
        >>> m1, m2 = torch.tensor([1., 1., 0.]), torch.tensor([1., 0., 1.])
        >>> [r.tolist() for r in region_masks(m1, m2)]
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    return mask1 * mask2, mask1 * (1 - mask2), (1 - mask1) * mask2


def make_targets(x: torch.Tensor, mask1: torch.Tensor, mask2: torch.Tensor) -> CUDTargets:
    """Targets on the partition M1∩M2, M1\\M2, M2\\M1 (zero outside each region)."""
    common, unique1, unique2 = region_masks(mask1, mask2)
    return CUDTargets(common=x * common, unique1=x * unique1, unique2=x * unique2, full=x)
