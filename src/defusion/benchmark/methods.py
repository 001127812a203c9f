"""The built-in methods a benchmark runs: DeFusion's variants and the baselines, as callables.

Each method fuses two decoded images and returns the result in the sources' type, as the Fuser
does; :func:`defusion_run_id` says what DeFusion's scores depend on, so that a resumed run knows
when to recompute them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal, Union

import numpy as np

from defusion.benchmark.errors import BenchmarkError
from defusion.benchmark.scored_images import in_eight_bits
from defusion.io.formats import JPEG_MATCH  # each pair's published results' encoding (bench --jpeg-quality)
from defusion.fusion.fuser import PAPER_OPTIONS

#: Built-in DeFusion variants: FuseOptions on top of the task's defaults (``defusion``, what
#: ``defusion fuse --task`` runs). ``-network`` is the network's reconstruction at the task's gains
#: and the default scale (for ``--task mff``, which takes the pixels from the sources, the paper's
#: fusion; for the other tasks the same as ``defusion``); ``-sources`` picks the pixels from the
#: sources (FuseOptions.pixels), at scale 1 unless ``-x2``. The others are variants of the
#: reconstruction: the colour mode (see defusion.fusion.color), the inference scale
#: (defusion.fusion.resample) or the unique gain (FuseOptions.unique_gain; ``defusion-g1`` is the
#: paper's Pr) and the detail gain (FuseOptions.detail_gain: ``-dD``; without it, the one that goes
#: with the unique gain). ``defusion-paper`` is the paper's inference with the shipped weights: Pr of
#: RGB sources at scale 1, unique and detail gain 1.
DEFUSION_VARIANTS: dict[str, dict] = {
    "defusion": {}, "defusion-network": {"pixels": "network"},
    "defusion-paper": PAPER_OPTIONS,
    "defusion-rgb": {"pixels": "network", "color": "rgb"}, "defusion-ycbcr": {"pixels": "network", "color": "ycbcr"},
    **{f"defusion-x{s}": {"pixels": "network", "scale": s} for s in (1, 2, 3)},
    **{f"defusion-g{g:g}": {"pixels": "network", "unique_gain": g} for g in (1.0, 1.25, 1.5, 1.75, 2.0)},
    "defusion-sources": {"pixels": "sources"}, "defusion-sources-x2": {"pixels": "sources", "scale": 2},
    **{f"defusion-g{g:g}-d{d:g}": {"pixels": "network", "unique_gain": g, "detail_gain": d}
       for g, d in ((1.0, 1.25), (1.0, 1.5), (1.0, 1.75), (1.0, 2.0), (1.25, 1.25), (1.25, 2.0))},
}

FuseFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
JpegQuality = Union[int, Literal["match"], None]


def builtin_method(name: str, weights: str | Path | None = None, device: str = "auto",
                   runtime: str = "auto", threads: int | None = None, task: str | None = None) -> FuseFn:
    """A callable fusing two decoded images (uint8/uint16) with a built-in method; every method
    returns the fused image in the sources' type, as the Fuser does.

    ``runtime`` is DeFusion's inference engine (see :mod:`defusion.fusion.runtime`);
    ``threads`` bounds its onnxruntime threads. DeFusion's variants start from ``task``'s
    options (``FuseOptions.for_task``: what ``defusion fuse --task`` does), then their own.

    Example:
        >>> average = builtin_method("average")  # a baseline: no weights to load
        >>> fused = average(np.full((2, 3), 100, np.uint8), np.full((2, 3), 200, np.uint8))
        >>> fused.dtype, fused.tolist()
        (dtype('uint8'), [[150, 150, 150], [150, 150, 150]])
    """
    if name in DEFUSION_VARIANTS:
        from defusion.fusion.fuser import Fuser, task_options

        fuser = Fuser.from_pretrained(weights, device=device, runtime=runtime, threads=threads,
                                      **task_options(task, **DEFUSION_VARIANTS[name]))
        return fuser.fuse
    from defusion.baselines import BASELINES

    if name not in BASELINES:
        raise BenchmarkError(f"unknown method {name!r}; built-in methods: {', '.join([*DEFUSION_VARIANTS, *BASELINES])}")
    baseline = BASELINES[name]

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from defusion.fusion import color

        fa, fb = color.to_float(a), color.to_float(b)
        if not (color.is_grey(fa) and color.is_grey(fb)):
            fa, fb = color.as_rgb(fa), color.as_rgb(fb)
        elif fa.ndim == 3:
            fa, fb = color.luminance(fa), color.luminance(fb)
        elif fb.ndim == 3:
            fb = color.luminance(fb)
        fused = baseline(fa.astype(np.float32), fb.astype(np.float32))
        return color.from_float(fused, color.output_dtype(a, b))  # as DeFusion's: the sources' depth

    return run


def builtin_methods(names: list[str], weights: str | Path | None = None, device: str = "auto",
                    runtime: str = "auto", threads: int | None = None, task: str | None = None,
                    jpeg_quality: JpegQuality = None) -> dict[str, FuseFn]:
    """{name: :func:`builtin_method`} for ``names``; with ``functools.partial`` a picklable
    recipe that lets each worker of ``run_benchmark(jobs=N)`` build its own methods.

    ``jpeg_quality``: each result then passes through a JPEG file of that quality (8 bits, 4:2:0;
    :func:`~defusion.io.jpeg.jpeg_round_trip`), as published results stored as JPEG did, so that
    both are scored after the same loss (VIFB's are quality 75); :data:`JPEG_MATCH`: each pair's
    results are stored as most of that pair's published results are (MFIFB's: JPEG of quality 75 where
    its sources are JPEG, PNG where they are PNG)."""
    methods = {name: builtin_method(name, weights, device, runtime, threads, task) for name in names}
    if jpeg_quality is None:
        return methods
    return {name: StoredAsJpeg(fn, jpeg_quality) for name, fn in methods.items()}


class StoredAsJpeg:
    """A method whose result is what a JPEG file of ``quality`` would hold of it (:func:`builtin_methods`);
    ``fuse`` is the method itself, so that a run times the fusion alone, not the encoding. With
    ``quality`` :data:`JPEG_MATCH` the quality is the pair's, given to :meth:`stored`."""

    def __init__(self, fuse: FuseFn, quality: int | Literal["match"]) -> None:
        self.fuse, self.quality = fuse, quality

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.quality == JPEG_MATCH:
            raise BenchmarkError("a method stored as the pair's published results are needs the pair's quality: "
                             "call fuse, then stored(fused, quality)")
        return self.stored(self.fuse(a, b))

    def stored(self, fused: np.ndarray, pair_quality: int | None = None) -> np.ndarray:
        """``fused`` (any type a method returns) after the JPEG round trip, in 8 bits; with
        :data:`JPEG_MATCH`, at ``pair_quality`` (the pair's published results', None: as it is, lossless).

        Example:
            >>> def mean(a, b): return ((a.astype(int) + b) // 2).astype(np.uint8)
            >>> x = np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)
            >>> matched = StoredAsJpeg(mean, JPEG_MATCH)
            >>> bool((matched.stored(x, None) == x).all()), bool((matched.stored(x, 75) == x).all())
            (True, False)
        """
        from defusion.io.jpeg import jpeg_round_trip

        quality = pair_quality if self.quality == JPEG_MATCH else self.quality
        return in_eight_bits(fused) if quality is None else jpeg_round_trip(in_eight_bits(fused), quality)


def defusion_run_id(weights: str | Path | None = None, task: str | None = None) -> str:
    """What DeFusion's scores depend on besides a variant's own options: the weights (digest),
    the task's (or default) inference scale, unique gain, detail gain (where the task sets one)
    and pixels (where they come from the sources). A resumed bench recomputes DeFusion's rows
    when it changes."""
    from defusion.fusion.fuser import FuseOptions
    from defusion.model.weights import weights_digest

    defaults = FuseOptions.for_task(task)
    detail = "" if defaults.detail_gain is None else f"-d{defaults.detail_gain:g}"
    pixels = "-sources" if defaults.pixels == "sources" else ""
    return f"{weights_digest(weights)}-x{defaults.scale}-g{defaults.unique_gain:g}{detail}{pixels}"
