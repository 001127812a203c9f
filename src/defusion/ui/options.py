"""The sidebar's choices, their starting values for each kind of images, and the FuseOptions they make."""

from __future__ import annotations

from defusion.fusion.align import MOTIONS
from defusion.fusion.choices import COLOR_MODES
from defusion.fusion.fuser import DEFAULT_SCALE, FuseOptions, default_scale
from defusion.fusion.rig import Rig
from defusion.fusion.selection import PIXEL_SOURCES
from defusion.ui.upload_names import told_apart

#: The infrared-image choice that lets the fusion core find it (FuseOptions.infrared None).
AUTO_INFRARED = "auto"
#: The sidebar's choice of the infrared image of a pair for a palette -> FuseOptions.infrared.
INFRARED_CHOICES = {AUTO_INFRARED: None, "A": 0, "B": 1}
#: Tile sizes offered in the sidebar (its colour modes: the fusion core's COLOR_MODES).
TILE_CHOICES = ("auto", "off", 256, 512, 768, 1024)
#: Registration motions offered; the first, "none", is the default (sources taken as registered).
ALIGN_CHOICES = MOTIONS
#: Where the fused pixels come from, the fusion core's default first (focus stacks start at the
#: sources: default_pixels).
PIXEL_CHOICES = PIXEL_SOURCES
#: Inference scales offered, smallest first, the fusion core's default among them (1 is the paper's,
#: 4x faster than 2; pixels from the sources start at 1: default_scale).
SCALE_CHOICES = tuple(sorted({DEFAULT_SCALE, 1, 2, 3}))
#: The unique-gain slider's top, under the fusion core's MAX_UNIQUE_GAIN (4): the gains measured (1 to 2;
#: past 1.5 the scores fall and images wash out: docs/training-history.md, "Unique gain") and the kinds'
#: defaults (1 to 1.5), with room above; ``--unique-gain`` and Python still take up to 4. docs/ui.md
#: ("What it shows") documents the slider's 0 to 3.
UI_MAX_UNIQUE_GAIN = 3.0
#: The detail-gain slider's top, by MAX_DETAIL_GAIN's rule (2g - 1): the default detail gain at the
#: slider's top unique gain, so that moving the unique gain there starts the detail slider inside its
#: range (5; docs/ui.md says 0 to 5).
UI_MAX_DETAIL_GAIN = 2 * UI_MAX_UNIQUE_GAIN - 1
#: The gain sliders' step.
GAIN_STEP = 0.25
#: The unique-gain slider: (min, max, step); its default is the fusion core's for the kind of images.
UNIQUE_GAIN_RANGE = (0.0, UI_MAX_UNIQUE_GAIN, GAIN_STEP)
#: The detail-gain slider: (min, max, step); its default goes with the kind of images and unique gain.
DETAIL_GAIN_RANGE = (0.0, UI_MAX_DETAIL_GAIN, GAIN_STEP)
#: Kinds of images offered for uploads, and the fusion core's task for each (FuseOptions.for_task).
KINDS: dict[str, str | None] = {"general": None, "infrared + visible": "ivf", "exposure bracket": "mef",
                                "focus stack": "mff"}
#: The sidebar's choice that resizes uploads of another size to the first's (the CLI's --resize),
#: and the page that calibrates two cameras side by side, as the page names them.
RESIZE_CHOICE = "Resize to the first image"
CALIBRATE_PAGE = "Calibrate a camera rig"


def choose_kind(task: str) -> str:
    """How the page tells the user to pick the kind of images for ``task`` (the CLI's --task).

    Example:
        >>> choose_kind("mef")
        'choose "exposure bracket" under Kind of images'
    """
    kind = next(name for name, value in KINDS.items() if value == task)
    return f'choose "{kind}" under Kind of images'


def default_pixels(task: str | None) -> str:
    """The "Pixels from" choice's starting value: the fusion core's for ``task`` (the sources for
    focus stacks, else the network's reconstruction).

    Example:
        >>> default_pixels("mff"), default_pixels("ivf"), default_pixels(None)
        ('sources', 'network', 'network')
    """
    return FuseOptions.for_task(task).pixels


def default_unique_gain(task: str | None) -> float:
    """The slider's starting value: the fusion core's unique gain for ``task``.

    Example:
        >>> from defusion.fusion.options import DEFAULT_UNIQUE_GAIN
        >>> default_unique_gain("ivf"), default_unique_gain(None) == DEFAULT_UNIQUE_GAIN
        (1.5, True)
    """
    return FuseOptions.for_task(task).unique_gain


def default_detail_gain(task: str | None, unique_gain: float) -> float:
    """The detail slider's starting value: the fusion core's for ``task`` at this unique gain (the
    task's own at the task's unique gain, else the one that goes with the gain, 2g - 1 above 1).

    Example:
        >>> default_detail_gain("ivf", 1.5), default_detail_gain("ivf", 1.0)
        (2.0, 1.0)
    """
    preset = FuseOptions.for_task(task)
    if unique_gain == preset.unique_gain:
        return preset.resolved_detail_gain
    return FuseOptions.for_task(task, unique_gain=unique_gain).resolved_detail_gain


def input_order_for(task: str | None) -> str:
    """The fusion core's input order for ``task`` (exposures sorted by brightness, else as given).

    Example:
        >>> input_order_for("mef"), input_order_for("mff")
        ('exposure', 'given')
    """
    return FuseOptions.for_task(task).order


def tile_option(choice: str | int) -> int | None:
    """Sidebar tile choice -> ``FuseOptions.tile`` (None: automatic, 0: never tile).

    Example:
        >>> tile_option("auto"), tile_option("off"), tile_option(512)
        (None, 0, 512)
    """
    if choice == "auto":
        return None
    if choice == "off":
        return 0
    return int(choice)


def fuse_options(*, task: str | None = None, color: str = "auto", tile: str | int = "auto",
                 scale: int | None = None, unique_gain: float | None = None, detail_gain: float | None = None,
                 align: str = "none", pixels: str | None = None, deghost: bool = False, palette: str = "none",
                 infrared: int | None = None, rig: Rig | None = None, stretch: str = "auto") -> FuseOptions:
    """The fusion core's options from the sidebar's choices, each by name: ``task`` (the kind of
    images, ``KINDS``; it sets the input order: :func:`input_order_for`), ``color``
    (``COLOR_MODES``), ``tile`` (``TILE_CHOICES``: :func:`tile_option`), ``scale``, the
    ``unique_gain`` and ``detail_gain`` sliders, ``align``, ``pixels`` (where the fused pixels come
    from), ``deghost``, ``palette``, ``infrared`` (the infrared source's index, None: auto), a
    camera ``rig`` and ``stretch`` (raw thermal frames: ``auto`` or ``none``). A choice left at None takes the sidebar's starting value for ``task``
    (:func:`default_pixels`, :func:`default_scale`, :func:`default_unique_gain`,
    :func:`default_detail_gain`). One frozen, hashable value: what the page hands the Fuser, and
    part of its results' cache key.

    Example:
        >>> options = fuse_options(task="mef", tile="off", unique_gain=1.5)
        >>> options.order, options.tile, options.unique_gain, options.detail_gain, options.scale
        ('exposure', 0, 1.5, 2.0, 2)
    """
    pixels = default_pixels(task) if pixels is None else pixels
    unique_gain = default_unique_gain(task) if unique_gain is None else unique_gain
    return FuseOptions(tile=tile_option(tile), color=color, scale=default_scale(pixels) if scale is None else scale,
                       unique_gain=unique_gain,
                       detail_gain=default_detail_gain(task, unique_gain) if detail_gain is None else detail_gain,
                       order=input_order_for(task), align=align, pixels=pixels, deghost=deghost, rig=rig,
                       palette=palette, infrared=infrared, stretch=stretch)


def stack_infrared_choices(names: list[str]) -> dict[str, int | None]:
    """The sidebar's choice of a stack's infrared image for a palette -> FuseOptions.infrared:
    auto, then each file by its name (the page shows a bracket in the order it is fused, so a
    number would not point at the image the page numbers so); names given twice are told apart by
    their place in file-name order, as the captions and notes tell them (:func:`told_apart`).

    Example:
        >>> stack_infrared_choices(["ir.png", "vis.png"])
        {'auto': None, 'ir.png': 0, 'vis.png': 1}
    """
    choices: dict[str, int | None] = {AUTO_INFRARED: None}
    for index, name in enumerate(told_apart(names)):
        choices[name if name not in choices else f"{name} ({index + 1})"] = index
    return choices


__all__ = [
    "AUTO_INFRARED", "INFRARED_CHOICES", "COLOR_MODES", "TILE_CHOICES", "ALIGN_CHOICES", "PIXEL_CHOICES",
    "SCALE_CHOICES", "UNIQUE_GAIN_RANGE", "DETAIL_GAIN_RANGE", "KINDS", "RESIZE_CHOICE", "CALIBRATE_PAGE",
    "choose_kind", "default_pixels", "default_unique_gain", "default_detail_gain", "input_order_for",
    "tile_option", "fuse_options", "stack_infrared_choices",
]
