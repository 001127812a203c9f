"""What a fusion is asked to do: :class:`FuseOptions`, validated on construction, with the
defaults, the kinds of pair's presets (``TASK_OPTIONS``, defined with the other choices the command
line offers in :mod:`defusion.fusion.choices`) and the paper's (``PAPER_OPTIONS``)."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Iterable, Mapping

from defusion.fusion import color
from defusion.fusion.align import Motion, check_motion
# the choices, bounds and defaults the command line offers too, defined once without PyTorch
from defusion.fusion.choices import (AUTO_TILE_PIXELS, AUTO_TILE_SIZE, DEFAULT_OVERLAP, DEFAULT_UNIQUE_GAIN,
                                     INPUT_ORDERS, MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN, MIN_TILE, STACK_ORDERS,
                                     TASK_OPTIONS, TASKS, InputOrder, Palette, StackOrder, Task, smallest_tile)
from defusion.fusion.errors import OptionsError, UnknownOptionError
from defusion.fusion.rig import Rig
from defusion.fusion.resample import check_scale
from defusion.fusion.selection import PixelSource, check_pixel_source
from defusion.fusion.stretch import FixedStretch, Stretch, check_stretch
from defusion.fusion.values import is_integer, is_number
from defusion.model.denet import default_detail_gain

#: The network runs at twice the sources' sampling unless told otherwise (FuseOptions.scale).
DEFAULT_SCALE = 2
#: The paper's inference (ECCV 2022, and the authors' code): Pr(f_c + f_u1 + f_u2) of the RGB
#: sources at the network's own scale, no gain; what this toolkit's defaults depart from, and why, is
#: in docs/model-card.md ("Deviations from the paper"). ``FuseOptions.paper()``.
PAPER_OPTIONS: dict = {"pixels": "network", "scale": 1, "unique_gain": 1.0, "color": "rgb"}
#: The inference scale that pixels from the sources run at unless told otherwise: the decision map
#: read from the unique projections picked the same pixels at scale 1 as at 2 (MFIFB, every 7th
#: pair: Qabf 0.784 against 0.785), at a quarter of the compute.
SOURCES_SCALE = 1


#: The FuseOptions fields a task sets (FuseOptions.with_task).
TASK_FIELDS: tuple[str, ...] = tuple(sorted({name for options in TASK_OPTIONS.values() for name in options}))


def _check_gain(gain: float, name: str, largest: float) -> None:
    if not is_number(gain) or not 0 <= gain <= largest:
        raise OptionsError(f"{name} must be a number from 0 to {largest:g}, got {gain!r}")


def check_unique_gain(gain: float) -> None:
    """Refuse unique gains that are not a number in [0, MAX_UNIQUE_GAIN]."""
    _check_gain(gain, "unique gain", MAX_UNIQUE_GAIN)


def check_detail_gain(gain: float | None) -> None:
    """Refuse detail gains that are not None or a number in [0, MAX_DETAIL_GAIN]."""
    if gain is not None:
        _check_gain(gain, "detail gain", MAX_DETAIL_GAIN)


@dataclass(frozen=True)
class FuseOptions:
    """How images are fed to the network and what becomes of its output; each field's comment
    says what it does and why its default.

    A field out of its range or choices raises :class:`~defusion.fusion.errors.OptionsError` (a
    ValueError, and a :class:`defusion.DefusionError`) on construction, and a keyword that names
    no field :class:`~defusion.fusion.errors.UnknownOptionError` (an OptionsError and a TypeError),
    saying which field it may mean.

    Example:
        >>> from defusion import FuseOptions
        >>> FuseOptions(sclae=1)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.UnknownOptionError: FuseOptions got an unknown option sclae (did you mean scale?); ...
    """

    #: Tile size in network input pixels. None tiles automatically: inputs over ``auto_tile_pixels``
    #: go through ``auto_tile_size`` tiles, smaller ones in one pass. 0 never tiles; any other tile is
    #: at least :func:`~defusion.fusion.choices.smallest_tile` of the overlap (over twice it, and
    #: MIN_TILE or more).
    tile: int | None = None
    #: Pixels by which neighbouring tiles overlap; see DEFAULT_OVERLAP.
    overlap: int = DEFAULT_OVERLAP
    #: With ``tile=None``, network inputs of more pixels than this are tiled; see AUTO_TILE_PIXELS.
    auto_tile_pixels: int = AUTO_TILE_PIXELS
    #: The tile size of automatic tiling; see AUTO_TILE_SIZE.
    auto_tile_size: int = AUTO_TILE_SIZE
    #: Which planes the network fuses and how colour comes back (COLOR_MODES, :mod:`defusion.fusion.color`).
    color: color.ColorMode = "auto"
    #: How more than two images are combined by a network that fuses pairs: ``balanced`` fuses the
    #: first and second halves of the list separately and then the two results (neighbours first, so
    #: keep a bracket in exposure or focus order; each image passes through about log2(N) fusions),
    #: ``sequential`` folds left, ((a, b), c), ... (the last image weighs as much as all before it).
    #: ``benchmarks/multi_input.py`` compares them.
    stack: StackOrder = "balanced"
    #: Sorts the inputs before they are fused (INPUT_ORDERS): ``given`` keeps the caller's order (the
    #: default: infrared-visible pairs, and focus stacks, whose order is the focal distance);
    #: ``bright-first`` and ``dark-first`` sort by mean brightness (stable); ``exposure`` puts a pair
    #: darker first and more images brightest first, the orders that scored higher with exposures
    #: (``for_task("mef")``), so a bracket fuses the same whatever order its files come in.
    order: InputOrder = "given"
    #: Runs the network on the sources up-sampled by this factor and averages its output back down
    #: (:mod:`defusion.fusion.resample`): the network's reconstruction blur shrinks by the factor, at
    #: ``scale**2`` times the compute. 1 is the paper's scale; with the shipped weights the default
    #: (DEFAULT_SCALE, 2) scored higher on 14 of 17 TNO metrics and 13 of 17 VIFB ones at the ivf
    #: task's gain (docs/benchmarks.md). Tiling decides on the up-sampled size, so memory stays bounded.
    scale: int = DEFAULT_SCALE
    #: Weighs the unique embeddings in the fused one (:meth:`DeNet.forward`): 1 is the paper's
    #: Pr(f_c + f_u^1 + f_u^2), as the network was trained; above 1 what only one source shows
    #: (infrared targets, the exposed or focused part) comes through more, its local mean weighed g
    #: and its fine detail 2g - 1; below 1 less, down to the common part alone at 0. With the shipped
    #: weights the default (DEFAULT_UNIQUE_GAIN, 1.25) scored higher than the paper's 1 on 14 of the
    #: model card's 18 metric-benchmark pairs and on 35 of 57 over the full benchmarks
    #: (docs/training-history.md, "Unique gain"); infrared-visible pairs take 1.5 (``for_task("ivf")``).
    unique_gain: float = DEFAULT_UNIQUE_GAIN
    #: Weighs that fine detail apart from the local mean (None: 2g - 1 above 1, else g). Exposure and
    #: focus pairs take unique gain 1 and detail gain 1.5 (``for_task("mef")``, ``for_task("mff")``,
    #: the latter for its reconstruction, ``pixels="network"``): the sources' brightness as the
    #: paper's Pr keeps it, sharper detail.
    detail_gain: float | None = None
    #: Registers every source onto one before anything else (:mod:`defusion.fusion.align`: ECC, blind
    #: to exposure; one of choices.MOTIONS), for brackets and focus stacks shot by hand; the fused
    #: image is in that source's frame: the first with ``order="given"``, else (brackets sorted by
    #: brightness) the best exposed, whatever the files' order. "none", the default, takes the
    #: sources as registered.
    align: Motion = "none"
    #: Where the fused image's pixels come from (PIXEL_SOURCES): ``network``, the paper's Pr
    #: reconstruction (the default), or ``sources``, the sources' own pixels weighed by a decision map
    #: read from the network's unique projections (:mod:`defusion.fusion.selection`): for focus
    #: stacks, where the reconstruction is softer than the sharper source (``for_task("mff")`` takes
    #: it, at scale 1). Not for infrared-visible pairs or exposures, whose fused image must mix the
    #: sources rather than pick between them.
    pixels: PixelSource = "network"
    #: ``auto`` (of STRETCHES) maps grey 16-bit sources whose values span little of the 16-bit range, as raw thermal
    #: frames do, onto the full range before fusing (:mod:`defusion.fusion.stretch`), one sensor's
    #: frames by one mapping (a bracket, a focus stack: they keep their relation), two cameras' each
    #: by its own (an infrared and a visible camera's raw frames lie in bands of their own):
    #: ``stretch_shared`` says which; ``none`` takes every value as it is. ``auto`` measures each
    #: call's images; for a stream (frames of a video or a camera loop) measure once, a FixedStretch
    #: ``fixed = stretch.measure_stretch([a0, b0], options.stretch_shared)`` on the first frames as
    #: they are fused, and fuse every frame with ``replace(fuser, options=replace(fuser.options,
    #: stretch=fixed or "none"))`` (``dataclasses.replace``), so a hot object entering the view
    #: cannot change the brightness of the rest (``defusion video`` does so, on the first frames
    #: that hold a raw one).
    stretch: Stretch | FixedStretch = "auto"
    #: Removes ghosts of what moved between the sources, after registration
    #: (:mod:`defusion.fusion.deghost`): each source's moving parts are replaced by the best-exposed
    #: source's view of them, mapped into its exposure, so they are fused once (brackets with people
    #: or leaves moving); off by default: registered benchmark pairs have nothing moving.
    deghost: bool = False
    #: Maps the images of a calibrated camera rig (an infrared and a visible camera side by side;
    #: :mod:`defusion.fusion.rig`, ``defusion calibrate``) onto the first camera's pixel grid before
    #: anything else, so sources of different sizes and fields of view fuse; ``align`` and
    #: ``deghost`` come after it.
    rig: Rig | None = None
    #: False colour (PALETTES; ``none``, the default: the sources' own colours): the infrared image
    #: shown in false colour with the fused image's fine detail over it, as thermal cameras show their
    #: fusion (:func:`defusion.fusion.color.with_detail`). With a ``rig``, where the infrared camera
    #: sees nothing the fused image is left uncoloured, and the range is measured on what it sees.
    palette: Palette = "none"
    #: Which source is the infrared image, for the palette: 0-based, as Python counts (0 the first image
    #: given, 1 the second; the command line's ``--infrared`` counts from 1); None: the one raw thermal
    #: frame (stretched), else the only grey source, else the last grey one, else the last (pairs come visible first).
    infrared: int | None = None
    #: The infrared values (low, high: as fused, floats in [0, 1], after the stretch) the palette
    #: spans; None: the 1st to 99th percentile of each call's infrared image
    #: (:func:`defusion.fusion.color.palette_range`). For a stream measure it once on the first
    #: frames, ``fuser.measure_palette(a0, b0)`` (with the stretch fixed first), so that a hot object
    #: entering the view cannot recolour the rest (``defusion video`` does so).
    palette_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        check_scale(self.scale)
        check_unique_gain(self.unique_gain)
        check_detail_gain(self.detail_gain)
        for name in ("tile", "overlap", "auto_tile_pixels", "auto_tile_size"):
            value = getattr(self, name)
            if not (value is None and name == "tile") and (not is_integer(value) or value < 0):
                raise OptionsError(f"{name} must be a whole number of pixels, 0 or more"
                                   f"{' (or None: automatic)' if name == 'tile' else ''}, got {value!r}")
        if self.tile and self.tile < smallest_tile(self.overlap):  # tiny tiles take forever
            raise OptionsError(f"tile ({self.tile}) must be 0 (never tile) or at least {smallest_tile(self.overlap)} "
                               f"pixels: over twice the overlap ({self.overlap}), and at least {MIN_TILE}")
        if self.auto_tile_size < MIN_TILE:  # its overlap is cut to under half a tile; tile=0 turns tiling off
            raise OptionsError(f"auto_tile_size must be at least {MIN_TILE} pixels, got {self.auto_tile_size}")
        color.check_color_mode(self.color)
        # NumPy scalars as Python numbers, so that the options print and compare as given
        for name in ("scale", "tile", "overlap", "auto_tile_pixels", "auto_tile_size", "infrared"):
            if is_integer(getattr(self, name)):
                object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("unique_gain", "detail_gain"):
            if is_number(getattr(self, name)) and not isinstance(getattr(self, name), int):
                object.__setattr__(self, name, float(getattr(self, name)))
        if self.stack not in STACK_ORDERS:
            raise OptionsError(f"unknown stack order {self.stack!r}; use one of {', '.join(STACK_ORDERS)}")
        if self.order not in INPUT_ORDERS:
            raise OptionsError(f"unknown input order {self.order!r}; use one of {', '.join(INPUT_ORDERS)}")
        check_motion(self.align)
        check_pixel_source(self.pixels)
        check_stretch(self.stretch)
        if not isinstance(self.deghost, bool):
            raise OptionsError(f"deghost must be True or False, got {self.deghost!r}")
        color.check_palette(self.palette)
        if self.infrared is not None and (not is_integer(self.infrared) or self.infrared < 0):
            raise OptionsError(f"infrared must be a source's index (0 the first), got {self.infrared!r}")
        if self.palette_range is not None:
            span = tuple(self.palette_range) if isinstance(self.palette_range, (tuple, list)) else ()
            if len(span) != 2 or not all(is_number(v) and 0.0 <= v <= 1.0 for v in span) or not span[0] < span[1]:
                raise OptionsError(f"palette_range is the infrared values (low, high) the palette spans, 0 <= low < "
                                   f"high <= 1, got {self.palette_range!r}")
            object.__setattr__(self, "palette_range", (float(span[0]), float(span[1])))
        if self.palette != "none" and self.pixels == "sources":
            raise OptionsError("a thermal palette colours the network's fusion; pixels='sources' keeps the sources' "
                               "own pixels and colours: use one or the other")
        if self.rig is not None and not isinstance(self.rig, Rig):
            raise OptionsError(f"rig must be a defusion.fusion.rig.Rig (Rig.load(path)), got {type(self.rig).__name__}")

    @classmethod
    def for_task(cls, task: Task | None = None, **overrides: Any) -> "FuseOptions":
        """The options for a kind of pair (``TASKS``; None: the general defaults), with
        ``overrides`` on top (``None`` values leave the task's or the default's).

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions.for_task("ivf").unique_gain
            1.5
            >>> FuseOptions.for_task("ivf", unique_gain=1.0).unique_gain
            1.0
        """
        check_option_names(overrides, "FuseOptions.for_task")
        return cls(**task_options(task, **overrides))

    @classmethod
    def paper(cls, **overrides: Any) -> "FuseOptions":
        """The paper's inference (:data:`PAPER_OPTIONS`), ``overrides`` on top: for reproducing the
        paper's figures with any weights (``defusion bench``'s ``defusion-paper``).

        Example:
            >>> from defusion import FuseOptions
            >>> paper = FuseOptions.paper()
            >>> paper.scale, paper.unique_gain, paper.color, paper.pixels  # detail gain: the unique one's, 1
            (1, 1.0, 'rgb', 'network')
        """
        check_option_names(overrides, "FuseOptions.paper")
        return cls(**{**PAPER_OPTIONS, **overrides})

    @classmethod
    def from_record(cls, options: Mapping[str, Any]) -> "FuseOptions":
        """The options a fused image's record names (its ``options``: the fields that differ from the
        defaults, as JSON holds them, :meth:`defusion.fusion.provenance.MadeBy.record`): a rig from its
        file's JSON (:meth:`Rig.from_json`), a fixed stretch from its fields, lists as tuples. An option
        the record left out as too long for it (``"..."``) is an OptionsError naming it, as is a rig or
        stretch that cannot be rebuilt.

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions.from_record({"unique_gain": 1.7, "palette": "inferno", "palette_range": [0.1, 0.9]})
            ... # doctest: +ELLIPSIS
            FuseOptions(..., unique_gain=1.7, ..., palette='inferno', infrared=None, palette_range=(0.1, 0.9))
            >>> FuseOptions.from_record({"stretch": {"sources": [1], "low": 0.1, "high": 0.2}}).stretch
            FixedStretch(sources=(1,), low=0.1, high=0.2)
            >>> FuseOptions.from_record({"rig": "..."})
            Traceback (most recent call last):
            ...
            defusion.fusion.errors.OptionsError: the record left out rig (too long for it): rebuild the others without it and set it yourself, replace(FuseOptions.from_record(others), rig=Rig.load(path))
        """
        from defusion.fusion.provenance import LEFT_OUT
        from defusion.fusion.rig import RigError

        if not isinstance(options, Mapping):
            raise OptionsError(f"a record's options are a JSON object of FuseOptions fields, got "
                               f"{type(options).__name__}; pass record['options']")
        check_option_names(options, "FuseOptions.from_record")
        values = dict(options)
        for name, value in values.items():
            if value == LEFT_OUT:
                given = {"rig": "Rig.load(path)", "stretch": "FixedStretch(sources, low, high)"}.get(name, "...")
                raise OptionsError(f"the record left out {name} (too long for it): rebuild the others without it "
                                   f"and set it yourself, replace(FuseOptions.from_record(others), {name}={given})")
        if isinstance(values.get("rig"), Mapping):
            try:
                values["rig"] = Rig.from_json(dict(values["rig"]), "the record's rig")
            except RigError as exc:
                raise OptionsError(str(exc)) from None
        if isinstance(values.get("stretch"), Mapping):
            stretch = values["stretch"]
            if set(stretch) != {f.name for f in fields(FixedStretch)}:
                raise OptionsError(f"the record's stretch is neither auto, none nor a fixed stretch's sources, low "
                                   f"and high: got {sorted(stretch)}")
            values["stretch"] = FixedStretch(**stretch)
        if isinstance(values.get("palette_range"), list):
            values["palette_range"] = tuple(values["palette_range"])
        return cls(**values)

    def with_task(self, task: Task, pixels: PixelSource | None = None) -> "FuseOptions":
        """These options with the fields a task governs (``TASK_FIELDS``: gains, order, pixels) set
        as ``task`` sets them, ``pixels`` (None: the task's) on top; the rest (tiling, colour) stay.
        For a server started with its own options that fuses one request as another kind of image.

        The scale stays, unless it is the default for where these options take their pixels from
        (DEFAULT_SCALE for the reconstruction, SOURCES_SCALE for the sources) and the task takes
        them from the other: then it is the default for the task's (a server at the defaults fuses
        ``mff`` from the sources at scale 1; one started for ``mff`` fuses ``ivf`` at scale 2). A
        task that takes the pixels from the sources drops a palette (it colours the network's
        fusion; a focus stack has no infrared image).

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions(scale=1).with_task("ivf")
            FuseOptions(tile=None, overlap=64, auto_tile_pixels=1048576, auto_tile_size=768, color='auto', stack='balanced', order='given', scale=1, unique_gain=1.5, detail_gain=None, align='none', pixels='network', stretch='auto', deghost=False, rig=None, palette='none', infrared=None, palette_range=None)
            >>> FuseOptions(unique_gain=2.0).with_task("mff").unique_gain
            1.0
            >>> mff = FuseOptions().with_task("mff")
            >>> mff.pixels, mff.scale, mff.with_task("ivf").scale
            ('sources', 1, 2)
        """
        preset = FuseOptions.for_task(task, pixels=pixels)
        fields = {name: getattr(preset, name) for name in TASK_FIELDS}
        fields["scale"] = self.scale_for(preset.pixels)
        if preset.pixels == "sources":
            fields.update(palette="none", infrared=None)
        return replace(self, **fields)

    def scale_for(self, pixels: PixelSource) -> int:
        """The scale these options run at with their pixels from ``pixels``: their own, unless it is
        the default for where they take their pixels from now and ``pixels`` is the other source;
        then the default for ``pixels`` (:func:`default_scale`).

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions().scale_for("sources"), FuseOptions(scale=3).scale_for("sources")
            (1, 3)
        """
        if pixels != self.pixels and self.scale == default_scale(self.pixels):
            return default_scale(pixels)
        return self.scale

    @property
    def stretch_shared(self) -> bool | None:
        """Whether raw frames share one stretch (:func:`defusion.fusion.stretch.measure_stretch`):
        True where ``order`` sorts the sources by exposure (``for_task("mef")``: one sensor's
        bracket keeps its exposures' relation); False with a thermal palette, a camera rig or a
        named infrared image (two cameras, whose raw bands are their own); else None, decided by
        the frames' values (one mapping only where their bands nest, as a focus stack's do:
        :func:`~defusion.fusion.stretch.bands_nested`).

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions().stretch_shared, FuseOptions.for_task("mef").stretch_shared
            (None, True)
            >>> FuseOptions(palette="inferno").stretch_shared
            False
        """
        if self.order != "given":
            return True
        if self.palette != "none" or self.rig is not None or self.infrared is not None:
            return False
        return None

    @property
    def resolved_detail_gain(self) -> float:
        """The detail gain the network runs: ``detail_gain``, else the unique gain's default.

        Example:
            >>> from defusion import FuseOptions
            >>> FuseOptions(unique_gain=1.25).resolved_detail_gain
            1.5
        """
        return default_detail_gain(self.unique_gain) if self.detail_gain is None else float(self.detail_gain)

    def tile_for(self, height: int, width: int) -> int:
        """Tile size for a network input of this size (0: one pass)."""
        if self.tile is None:
            return self.auto_tile_size if height * width > self.auto_tile_pixels else 0
        return self.tile


def _refusing_unknown_names(generated: Callable[..., None]) -> Callable[..., None]:
    """FuseOptions' generated ``__init__``, refusing a keyword that names no field as
    :func:`check_option_names` does (UnknownOptionError, "did you mean scale?"), rather than with
    Python's bare TypeError about ``__init__``: ``FuseOptions(sclae=2)`` is refused as
    ``Fuser.from_pretrained(sclae=2)`` is. Its signature and docstring stay the generated ones."""

    @functools.wraps(generated)
    def __init__(self, *args: Any, **values: Any) -> None:
        check_option_names(values, "FuseOptions")
        generated(self, *args, **values)

    return __init__


FuseOptions.__init__ = _refusing_unknown_names(FuseOptions.__init__)  # type: ignore[method-assign]


def option_names() -> tuple[str, ...]:
    """The names of the FuseOptions fields, in their order."""
    return tuple(f.name for f in fields(FuseOptions))


def check_option_names(names: Iterable[str], caller: str, others: tuple[str, ...] = ()) -> None:
    """Refuse keyword arguments to ``caller`` that name no FuseOptions field (nor one of its own
    parameters, ``others``): an OptionsError naming ``caller``, each unknown name, its likely intended
    one, and the fields, where Python's own would be a TypeError about ``FuseOptions.__init__``
    (UnknownOptionError is both an OptionsError and a TypeError).

    ``task``, the first thing a user reaches for, is no field but a preset of them: its refusal says the
    way that works, :func:`_task_hint`.

    Example:
        >>> check_option_names(["uniq_gain"], "Fuser.from_pretrained")
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.UnknownOptionError: Fuser.from_pretrained got an unknown option uniq_gain (did you mean unique_gain?); FuseOptions fields: tile, overlap, auto_tile_pixels, auto_tile_size, color, stack, order, scale, unique_gain, detail_gain, align, pixels, stretch, deghost, rig, palette, infrared, palette_range
        >>> check_option_names({"task": "mef"}, "Fuser.with_options")
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.UnknownOptionError: Fuser.with_options got task='mef', which is no option but a preset of them: fuser.with_task('mef') makes a copy for that task that shares the network
    """
    known = option_names()
    unknown = [str(name) for name in names if name not in known]
    if not unknown:
        return
    parts = []
    if "task" in unknown:
        unknown.remove("task")
        given = names["task"] if isinstance(names, Mapping) else None
        parts.append(f"{caller} got task{'' if given is None else f'={given!r}'}, which is no option but a preset of "
                     f"them: {_task_hint(caller, given)}")
    if unknown:
        guesses = {g for n in unknown for g in difflib.get_close_matches(n, [*known, *others], n=1)}
        message = f"{caller} got an unknown option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}"
        if guesses:
            message += f" (did you mean {' or '.join(sorted(guesses))}?)"
        parts.append(f"{message}; FuseOptions fields: {', '.join(known)}")
    raise UnknownOptionError("; ".join(parts))


def _task_hint(caller: str, task: object) -> str:
    """How to fuse for ``task`` (None: not known) where ``caller`` was given it as an option: a Fuser's
    copy for it (:meth:`Fuser.with_task`), else the options for it (:meth:`FuseOptions.for_task`, or
    :meth:`FuseOptions.with_task` keeping other options).

    Example:
        >>> _task_hint("FuseOptions", "ivf")
        "FuseOptions.for_task('ivf') makes the options for it (options.with_task('ivf') sets it on other options)"
    """
    shown = "task" if task is None else repr(task)
    if caller.startswith("Fuser."):
        return f"fuser.with_task({shown}) makes a copy for that task that shares the network"
    return f"FuseOptions.for_task({shown}) makes the options for it (options.with_task({shown}) sets it on other " \
           "options)"


def default_scale(pixels: PixelSource) -> int:
    """The inference scale pixels from ``pixels`` run at unless told otherwise: SOURCES_SCALE from
    the sources (as good there and 4x faster), else DEFAULT_SCALE.

    Example:
        >>> default_scale("sources"), default_scale("network")
        (1, 2)
    """
    return SOURCES_SCALE if pixels == "sources" else DEFAULT_SCALE


def task_options(task: Task | None = None, **overrides: Any) -> dict:
    """FuseOptions fields for a kind of pair: its ``TASK_OPTIONS``, then the ``overrides`` that are
    not None. A unique gain given without a detail gain brings its own default detail gain, not
    the task's; pixels from the sources (given, or the task's: ``mff``) without a scale bring
    SOURCES_SCALE. Raises OptionsError (a ValueError) for an unknown task, or a palette with a task
    that takes the pixels from the sources unless pixels="network" is given.

    Example:
        >>> task_options("mff")["scale"], task_options("mff", pixels="network").get("scale")
        (1, None)
    """
    if task is not None and task not in TASK_OPTIONS:
        raise OptionsError(f"unknown task {task!r}; use one of {', '.join(TASKS)}")
    preset = dict(TASK_OPTIONS[task]) if task is not None else {}
    given = {name: value for name, value in overrides.items() if value is not None}
    if "unique_gain" in given and "detail_gain" not in given:
        preset.pop("detail_gain", None)
    options = {**preset, **given}
    if preset.get("pixels") == "sources" and "pixels" not in given and given.get("palette", "none") != "none":
        raise OptionsError(f"task {task!r} takes the pixels from the sources, which a palette cannot colour (it "
                           "colours the network's fusion): give pixels='network' with a palette")
    if options.get("pixels") == "sources" and "scale" not in given:
        options["scale"] = SOURCES_SCALE
    return options


__all__ = ["StackOrder", "STACK_ORDERS", "InputOrder", "INPUT_ORDERS", "DEFAULT_SCALE", "DEFAULT_UNIQUE_GAIN",
           "MAX_UNIQUE_GAIN", "MAX_DETAIL_GAIN", "Task", "TASKS", "TASK_OPTIONS", "PAPER_OPTIONS", "SOURCES_SCALE",
           "MIN_TILE", "smallest_tile", "TASK_FIELDS", "check_unique_gain", "check_detail_gain", "FuseOptions",
           "default_scale", "task_options", "option_names", "check_option_names"]
