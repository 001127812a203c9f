"""The web UI's logic, free of Streamlit: settings, inputs, fusion, metrics, PNG encoding.

Uploads are decoded by :func:`defusion.serving.decode.decode_image`, i.e. by exactly the rules of
:func:`defusion.io.images.read_image` (8/16-bit, EXIF orientation, alpha dropped, pixel bound
checked from the header). Every problem a user can cause raises :class:`InputError` (or an
:class:`~defusion.io.errors.ImageReadError`) with a one-line message for ``st.error``.

Example:
    >>> a, b = load_example("Multi-focus example (MFF)")
    >>> a.shape, b.shape
    ((400, 600, 3), (400, 600, 3))
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable, NamedTuple, Sequence, TypeVar
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from defusion.fusion.align import MOTIONS
from defusion.fusion.selection import PIXEL_SOURCES, source_map
from defusion.fusion.stretch import describe_stretch
from defusion.fusion.color import PALETTES, to_float, to_uint8
from defusion.fusion.calibration import Calibration, board_points, calibrate
from defusion.fusion.rig import DEFAULT_RIG_MOTION, MAX_RIG_BYTES, RIG_MOTIONS, Rig, RigError, parse_pattern, read_points
from defusion.fusion.fuser import DEFAULT_SCALE, Decomposition, FuseOptions, Fuser, default_scale
from defusion.io.images import ImageReadError, describe_float_stretch, float_span
from defusion.io.metadata import choose_metadata, embed_metadata, read_metadata
from defusion.fusion.align import describe_alignment
from defusion.fusion.deghost import deghost_focus_note, describe_ghosts
from defusion.io.notes import listed, note, warn
from defusion.io.raw import RAW_SUFFIXES
from defusion.io.resize import changes_aspect, describe_resize, resize_to_first, turned_quarter
from defusion.io.shots import (ShotSettings, bracket_advice, exif_shows, focus_stack_advice, natural_key,
                               shows_exposure_bracket, shows_one_exposure, sources_on_bracket_warning)
from defusion.serving.decode import decode_image

#: Environment variables the app reads (``defusion ui`` sets them from its options).
ENV_WEIGHTS = "DEFUSION_WEIGHTS"
ENV_DEVICE = "DEFUSION_DEVICE"
ENV_MAX_PIXELS = "DEFUSION_MAX_PIXELS"

#: The UI's default pixel bound: a web front end on a CPU should not take 100 MP jobs.
DEFAULT_UI_MAX_PIXELS = 25_000_000
#: Default upload bound in MB (Streamlit's ``server.maxUploadSize``).
DEFAULT_MAX_UPLOAD_MB = 50

#: Built-in example pairs shipped in ``defusion/examples``.
EXAMPLES: dict[str, tuple[str, str]] = {
    "Multi-exposure example (MEF)": ("mef_under.png", "mef_over.png"),
    "Multi-focus example (MFF)": ("mff_near.png", "mff_far.png"),
}
#: The infrared-image choice that lets the fusion core find it (FuseOptions.infrared None).
AUTO_INFRARED = "auto"
#: The sidebar's choice of the infrared image of a pair for a palette -> FuseOptions.infrared.
INFRARED_CHOICES = {AUTO_INFRARED: None, "A": 0, "B": 1}
#: File types offered in the upload dialogue (the decoder checks the content anyway).
UPLOAD_TYPES = ["png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "heic", "heif", *(s[1:] for s in RAW_SUFFIXES)]

#: The metrics table: a small, fast set (all from defusion.metrics).
METRIC_NAMES = ("EN", "SD", "SF", "AG", "MI", "Qabf", "SSIM-mean", "MEF-SSIM")
#: The metrics table of a bracket or stack: those defined for any number of sources
#: (defusion.metrics.ANY_SOURCE_METRICS).
STACK_METRIC_NAMES = ("EN", "SD", "SF", "AG", "Qabf", "MEF-SSIM")
#: The smallest width and height the metrics take (defusion.metrics refuses smaller images: "image
#: too small"): a fused image under it is still shown and offered, its metrics all n/a.
MIN_METRIC_SIDE = 2
#: Most images one bracket or focus stack upload may hold (N images take N - 1 fusions).
MAX_STACK_IMAGES = 8
#: What "image 1", "image 2" in the fusion core's messages (alignment, a camera rig) are on a pair's page.
PAIR_LABELS = ("image A", "image B")

#: Colour modes and tile sizes offered in the sidebar.
COLOR_MODES = ("auto", "rgb", "ycbcr")
TILE_CHOICES = ("auto", "off", 256, 512, 768, 1024)
#: Registration motions offered; the first, "none", is the default (sources taken as registered).
ALIGN_CHOICES = MOTIONS
#: Where the fused pixels come from, the fusion core's default first (focus stacks start at the
#: sources: default_pixels).
PIXEL_CHOICES = PIXEL_SOURCES
#: Inference scales offered, smallest first, the fusion core's default among them (1 is the paper's,
#: 4x faster than 2; pixels from the sources start at 1: default_scale).
SCALE_CHOICES = tuple(sorted({DEFAULT_SCALE, 1, 2, 3}))
#: The unique-gain slider: (min, max, step); its default is the fusion core's for the kind of images.
UNIQUE_GAIN_RANGE = (0.0, 3.0, 0.25)
#: The detail-gain slider: (min, max, step); its default goes with the kind of images and unique gain.
DETAIL_GAIN_RANGE = (0.0, 5.0, 0.25)
#: Kinds of images offered for uploads, and the fusion core's task for each (FuseOptions.for_task).
KINDS: dict[str, str | None] = {"general": None, "infrared + visible": "ivf", "exposure bracket": "mef",
                                "focus stack": "mff"}
#: The task of each example pair.
EXAMPLE_TASKS: dict[str, str] = {"Multi-exposure example (MEF)": "mef", "Multi-focus example (MFF)": "mff"}
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


def told_apart(names: Sequence[str]) -> list[str]:
    """Upload names as notes say them: as given, or numbered in upload order where two share a name
    (two phones' ``image.jpg``), so that "aligned image.jpg onto image.jpg" cannot happen.

    Example:
        >>> told_apart(["image.jpg", "image.jpg", "ir.png"])
        ['image.jpg (1)', 'image.jpg (2)', 'ir.png (3)']
        >>> told_apart(["vis.jpg", "ir.png"])
        ['vis.jpg', 'ir.png']
    """
    names = list(names)
    return names if len(set(names)) == len(names) else [f"{name} ({i})" for i, name in enumerate(names, start=1)]


def exif_advice(settings: Sequence[ShotSettings], names: Sequence[str], options: FuseOptions,
                task: str | None) -> tuple[list[str], list[str]]:
    """(warnings, notes) on the kind of images chosen (``task``) that the uploads' EXIF
    (``settings``, :func:`defusion.io.shots.upload_settings` of each, named ``names``) speaks
    against, as ``defusion fuse`` says them: pixels from the sources on an exposure bracket; a
    bracket or a focus stack fused as general images. None for an infrared + visible pair or a
    rig's cameras (a palette, an infrared image or a rig chosen), each exposing for its own sensor,
    nor where the kind's own warning says it (pixels from the sources on "exposure bracket")."""
    if options.palette != "none" or options.infrared is not None or options.rig is not None:
        return [], []
    bracket = shows_exposure_bracket(settings)
    if options.pixels == "sources" and bracket and task != "mef":
        given = 'the kind "focus stack"' if task == "mff" else "pixels from the sources"
        return [sources_on_bracket_warning(exif_shows(names, "an exposure bracket"), given,
                                           choose_kind("mef"))], []
    if task is not None:
        return [], []
    if bracket:
        return [], [bracket_advice(exif_shows(names, "an exposure bracket"), choose_kind("mef"))]
    if options.pixels == default_pixels(task) and shows_one_exposure(settings):
        return [], [focus_stack_advice(exif_shows(names, "one exposure"), choose_kind("mff"))]
    return [], []


def registration_notes(names: Sequence[str], found: Decomposition | FusedStack, motion: str) -> list[str]:
    """What alignment and deghosting found in a fusion (``found``: its ``warps``, ``ghosts``,
    ``frame`` and ``fused``; ``names`` in the order given), as ``defusion fuse`` says it: a line each."""
    lines = (describe_alignment(names, found.warps, found.frame, found.fused.shape[:2], motion),
             describe_ghosts(names, found.ghosts))
    return [line for line in lines if line]


def option_warnings(task: str | None, pixels: str, align: str, deghost: bool = False) -> list[str]:
    """Options the kind of images does not suit, as the docs measured them; ``deghost`` (Remove
    ghosts) on a focus stack or with pixels from the sources, whose focus changes it takes for motion.

    Example:
        >>> option_warnings("ivf", "sources", "none")[0][:40]
        'Pixels from the sources takes each regio'
        >>> option_warnings("mff", "sources", "none", deghost=True)[0][:45]
        '*Remove ghosts* takes a focus change for moti'
    """
    warnings = []
    if pixels == "sources" and task in ("ivf", "mef"):
        warnings.append("Pixels from the sources takes each region from one image: right for focus stacks, but "
                        f"{'an infrared + visible pair' if task == 'ivf' else 'an exposure bracket'} needs both "
                        "mixed (docs/benchmarks.md, \"Pixels from the sources\"); *network* is the default.")
    if align != "none" and task == "ivf":
        warnings.append("Align registers images of one camera by their content; an infrared and a visible image "
                        "do not match in content: for two cameras side by side, upload their rig file instead.")
    focus = deghost_focus_note("*Remove ghosts*", task, pixels) if deghost else None
    if focus:
        warnings.append(f"{focus}.")
    return warnings


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


class InputError(ValueError):
    """Inputs that cannot be fused as given (too large, different sizes)."""


@dataclass(frozen=True)
class Settings:
    """Server-side settings: weights file (None: shipped), device, pixel bound."""

    weights: str | None = None
    device: str = "auto"
    max_pixels: int = DEFAULT_UI_MAX_PIXELS

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        raw = env.get(ENV_MAX_PIXELS, "").strip()
        try:
            max_pixels = int(raw) if raw else DEFAULT_UI_MAX_PIXELS
        except ValueError:
            raise InputError(f"{ENV_MAX_PIXELS}={raw!r} is not a whole number") from None
        return cls(env.get(ENV_WEIGHTS) or None, env.get(ENV_DEVICE) or "auto", max_pixels)


def tile_option(choice: str | int) -> int | None:
    """Sidebar tile choice -> ``FuseOptions.tile`` (None: automatic, 0: never tile)."""
    if choice == "auto":
        return None
    if choice == "off":
        return 0
    return int(choice)


def load_example(name: str, max_pixels: int = DEFAULT_UI_MAX_PIXELS) -> tuple[np.ndarray, np.ndarray]:
    """The two images of a built-in example, read by the upload rules."""
    files = EXAMPLES[name]
    folder = resources.files("defusion") / "examples"
    return tuple(decode_image((folder / f).read_bytes(), f, max_pixels) for f in files)  # type: ignore[return-value]


def decode_pair(data_a: bytes, name_a: str, data_b: bytes, name_b: str,
                max_pixels: int = DEFAULT_UI_MAX_PIXELS,
                max_bytes: int | None = None, rig: Rig | None = None,
                resize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Decode two uploads and check that they can be fused together: one size (B of another size
    resized to A's with ``resize``, and noted: :func:`resized_to_first`), or with a camera ``rig``
    the sizes it was calibrated at (the rig maps B onto A: no resizing)."""
    for data, name in ((data_a, name_a), (data_b, name_b)):
        check_upload_size(data, name, max_bytes)
    a = decode_image(data_a, name_a, max_pixels)
    b = decode_image(data_b, name_b, max_pixels)
    name_a, name_b = told_apart([name_a, name_b])
    if rig is None and resize:
        a, b = resized_to_first([a, b], [name_a, name_b])
    elif rig is None:
        check_same_size(a, name_a, b, name_b, rig_hint=True)
    else:
        try:
            rig.check_images([a, b])
        except RigError as exc:  # "image 1 is 256x192, but ...": the page calls the images A and B
            raise InputError(f"camera rig: {name_images(str(exc), PAIR_LABELS)}") from None
    return a, b


def parse_rig(data: bytes, name: str = "rig") -> Rig:
    """The camera rig of an uploaded rig file (``defusion calibrate``'s JSON); InputError if unusable."""
    if len(data) > MAX_RIG_BYTES:
        raise InputError(f"{name}: {len(data)} bytes is too large for a rig file")
    try:
        return Rig.loads(data, name)
    except RigError as exc:
        raise InputError(str(exc)) from None


class RigUpload(NamedTuple):
    """A rig calibrated from two uploads: the fit, its check picture (HxWx3 float) and the rig file's bytes."""

    calibration: Calibration
    check: np.ndarray
    rig_file: bytes


def parse_board(text: str) -> tuple[int, int]:
    """A chessboard's inner corners from "COLSxROWS" text (the core's parse_pattern); InputError otherwise."""
    try:
        return parse_pattern(text)
    except RigError as exc:
        raise InputError(str(exc)) from None


def calibrate_uploads(data_a: bytes, name_a: str, data_b: bytes, name_b: str, motion: str = DEFAULT_RIG_MOTION,
                      board: tuple[int, int] | None = None, points: bytes | None = None,
                      max_pixels: int = DEFAULT_UI_MAX_PIXELS, max_bytes: int | None = None) -> RigUpload:
    """A camera rig from one upload per camera and a chessboard's size or a points CSV, by the
    core's calibration (as ``defusion calibrate``); InputError for what the user can fix."""
    for data, name in ((data_a, name_a), (data_b, name_b)):
        check_upload_size(data, name, max_bytes)
    images = [decode_image(data_a, name_a, max_pixels), decode_image(data_b, name_b, max_pixels)]
    try:
        if board is not None:
            pairs = board_points(images, board, motion, [name_a, name_b])
            sources = [f"the board in {name_b}"]
        else:
            if points is None or len(points) > MAX_RIG_BYTES:
                raise InputError("upload the marked points as a CSV file (at most 64 KiB), or use a chessboard")
            pairs = [read_points(points.decode("utf-8", "replace"), "the points file")]
            sources = ["the points file"]
        result = calibrate(images, pairs, motion, sources)
    except RigError as exc:
        raise InputError(str(exc)) from None
    check = result.rig.check_image([to_float(im) for im in images], result.points)
    return RigUpload(result, check, result.rig.dumps([name_a, name_b], [fit.rms_px for fit in result.fits]).encode())


def in_name_order(uploads: list[tuple[bytes, str]]) -> list[tuple[bytes, str]]:
    """A stack's ``(data, file name)`` uploads in natural file-name order (f2 before f10), as the
    CLI takes a folder's frames: a focus stack's order is its focal distance, and shots are numbered.

    Example:
        >>> [name for _, name in in_name_order([(b"", "f10.png"), (b"", "f2.png"), (b"", "f1.png")])]
        ['f1.png', 'f2.png', 'f10.png']
    """
    return sorted(uploads, key=lambda upload: natural_key(Path(upload[1])))


def decode_stack(uploads: list[tuple[bytes, str]], max_pixels: int = DEFAULT_UI_MAX_PIXELS,
                 max_bytes: int | None = None, resize: bool = False) -> list[np.ndarray]:
    """Decode a bracket or focus stack uploaded as ``(data, file name)``, in natural file-name
    order (:func:`in_name_order`), and check that the images can be fused together: 2 to
    ``MAX_STACK_IMAGES`` of them, each within the bounds, one size (with ``resize``, the others
    resized to the first's: :func:`resized_to_first`)."""
    if not 2 <= len(uploads) <= MAX_STACK_IMAGES:
        raise InputError(f"{len(uploads)} image{'s' if len(uploads) != 1 else ''} given; a bracket or stack "
                         f"takes 2 to {MAX_STACK_IMAGES}")
    uploads = in_name_order(uploads)
    for data, name in uploads:
        check_upload_size(data, name, max_bytes)
    images = [decode_image(data, name, max_pixels) for data, name in uploads]
    names = told_apart([name for _, name in uploads])
    if resize:
        return resized_to_first(images, names)
    turned = turned_advice(names, [image.shape[:2] for image in images])
    if turned:
        raise InputError(turned)
    for image, name in zip(images[1:], names[1:]):
        check_same_size(images[0], names[0], image, name)
    return images


def name_images(message: str, labels: Sequence[str]) -> str:
    """``message`` with the fusion core's "image N" (1 the first given) put as the page calls that
    image: ``PAIR_LABELS`` for a pair (A, B), the file names for a stack (the page numbers a stack's
    images in the order they are fused, not the order given). For the core's messages about
    arrays, not a decoder's, which name the files (one may be called "image 1.png").

    Example:
        >>> name_images("cannot register image 2 to image 1 (affine): ...", PAIR_LABELS)
        'cannot register image B to image A (affine): ...'
    """
    def label(found: re.Match) -> str:
        number = int(found.group(1))
        return labels[number - 1] if 1 <= number <= len(labels) else found.group(0)

    return re.sub(r"\bimage (\d+)\b", label, message)


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


def check_upload_size(data: bytes, name: str, max_bytes: int | None) -> None:
    """Refuse an upload over ``max_bytes`` (None: no bound) before decoding it."""
    if max_bytes is not None and len(data) > max_bytes:
        raise InputError(f"{name}: {len(data) / 2**20:.1f} MB is over the upload limit of {max_bytes / 2**20:.0f} MB")


def check_same_size(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str, rig_hint: bool = False) -> None:
    """Refuse images of different sizes, with the way out: turning one turned a quarter against the
    other (:func:`turned_advice`), else resizing one camera's shots and, with ``rig_hint`` (a pair,
    which takes a rig file), calibrating two cameras side by side."""
    if a.shape[:2] == b.shape[:2]:
        return
    turned = turned_advice([name_a, name_b], [a.shape[:2], b.shape[:2]])
    if turned:  # as defusion fuse refuses it: turning is the way out, not resizing nor a rig
        raise InputError(turned)
    rig = (f"; two cameras side by side (infrared + visible): calibrate them once on the *{CALIBRATE_PAGE}* "
           "page and upload its rig file" if rig_hint else "")
    raise InputError(f"the images differ in size: {name_a} is {a.shape[1]}x{a.shape[0]}, {name_b} is "
                     f"{b.shape[1]}x{b.shape[0]} (WxH); fusion needs registered images of one size: one "
                     f"camera's shots, tick *{RESIZE_CHOICE}* in the sidebar{rig}")


def turned_advice(names: Sequence[str], sizes: Sequence[tuple[int, int]]) -> str | None:
    """The refusal of images of which some are turned a quarter against the others
    (:func:`turned_quarter`: most often a shot the camera tagged as rotated, EXIF orientation,
    unlike the others), in ``defusion fuse``'s words; None where the sizes differ otherwise. Resizing
    would stretch such an image into a turned ghost, so it is not suggested.

    Example:
        >>> turned_advice(["a.png", "b.jpg"], [(106, 160), (160, 106)])[:60]
        'b.jpg is turned a quarter against a.png: read upright it is '
    """
    found = turned_quarter(sizes)
    if found is None:
        return None
    (h, w), turned = found
    others = [name for i, name in enumerate(names) if i not in turned]
    one = len(turned) == 1
    it = "it" if one else "them"
    return (f"{listed([names[i] for i in turned])} {'is' if one else 'are'} turned a quarter against "
            f"{listed(others)}: read upright {'it is' if one else 'they are'} {h}x{w}, "
            f"{others[0] if len(others) == 1 else 'the others'} {w}x{h} (WxH); turn {it} to match (or set "
            f"{'its' if one else 'their'} EXIF orientation tag to the others') and upload {it} again: "
            f"*{RESIZE_CHOICE}* would stretch {it}, not turn {it}")


def resized_to_first(images: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """``images`` with the others resized to the first's size (:func:`defusion.io.resize.resize_to`,
    as ``defusion fuse --resize``), a note naming those resized and from what size, and a warning
    for each whose aspect ratio that changes (stretched, not cropped: :func:`aspect_warnings`)."""
    said = describe_resize(names, images)
    if said:
        note(f"{RESIZE_CHOICE}: {said}")
    for line in aspect_warnings(images, names):
        warn(line)
    return resize_to_first(images)


def aspect_warnings(images: Sequence[np.ndarray], names: Sequence[str]) -> list[str]:
    """One line per image that resizing to the first's size stretches to another aspect ratio (by
    more than :data:`~defusion.io.resize.ASPECT_TOLERANCE`, as ``defusion fuse --resize`` says it),
    saying when it is the first turned a quarter.

    Example:
        >>> aspect_warnings([np.zeros((30, 40)), np.zeros((15, 20)), np.zeros((40, 30))], ["a", "b", "c"])[0][:58]
        "Resize to the first image changes c's aspect ratio (from 3"
    """
    h, w = images[0].shape[:2]
    lines = []
    for name, image in zip(names[1:], images[1:]):
        ih, iw = image.shape[:2]
        if not changes_aspect(ih, iw, h, w):
            continue
        turned = (f"; it is turned a quarter against {names[0]}: untick it and turn {name} to match instead"
                  if (ih, iw) == (w, h) else "")
        lines.append(f"{RESIZE_CHOICE} changes {name}'s aspect ratio (from {iw}x{ih} to {w}x{h}, WxH): it is "
                     f"stretched, not cropped{turned}")
    return lines


def digest(*arrays: np.ndarray) -> str:
    """A content hash of arrays (shape, dtype and every byte): the fusion cache key."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


#: How many fusions the app keeps for re-runs (an option changed back, a download).
RESULTS_KEPT = 16
#: Most bytes of arrays the kept fusions may hold together: a result keeps float32 sources and
#: components, about 38 bytes per input pixel (1 GB for a 25 MP pair), so a count alone is no bound.
RESULTS_MAX_BYTES = 2 * 2**30

Result = TypeVar("Result")


def array_bytes(value: object) -> int:
    """Bytes of the numpy arrays in ``value`` (an array, or tuples, lists and dicts of them, as
    FusedPair and FusedStack are), each array counted once: what keeping it costs.

    Example:
        >>> image = np.zeros((4, 5), np.float32)
        >>> array_bytes((image, [image, np.zeros(3, np.uint8)], {"EN": 1.0}))
        83
    """
    seen: set[int] = set()

    def count(item: object) -> int:
        if isinstance(item, np.ndarray):
            if id(item) in seen:
                return 0
            seen.add(id(item))
            return item.nbytes
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, (tuple, list)):
            return sum(count(part) for part in item)
        return 0

    return count(value)


class ResultCache:
    """Fusions already made, shared by all sessions: key -> result, the newest ``max_entries`` kept
    within ``max_bytes`` of arrays (oldest dropped first). The newest is kept whatever its size, so
    that the re-run a download button makes does not fuse again. Thread-safe: sessions run in threads."""

    def __init__(self, max_entries: int = RESULTS_KEPT, max_bytes: int = RESULTS_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of arrays the kept results hold."""
        return self._bytes

    def remember(self, key: Hashable, compute: Callable[[], Result]) -> Result:
        """``compute()``'s result, made once per ``key`` while kept (computed outside the lock:
        another session's fusion does not wait for this one)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if key in self._entries:  # another session made it meanwhile
                self._bytes -= self._entries.pop(key)[1]
            size = array_bytes(value)
            self._entries[key] = (value, size)
            self._bytes += size
            while len(self._entries) > 1 and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._bytes -= self._entries.popitem(last=False)[1][1]
        return value


def input_order_for(task: str | None) -> str:
    """The fusion core's input order for ``task`` (exposures sorted by brightness, else as given).

    Example:
        >>> input_order_for("mef"), input_order_for("mff")
        ('exposure', 'given')
    """
    return FuseOptions.for_task(task).order


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


class FusedPair(NamedTuple):
    """A pair fused, for showing."""

    parts: Decomposition
    #: The metrics table's values, against ``sources``.
    values: dict[str, float]
    #: The sources as the fuser fused them (stretched, mapped by the rig, aligned, deghosted),
    #: float in [0, 1]: what the page shows beside the fused image (the one aligned onto: ``parts.frame``).
    sources: list[np.ndarray]


def fuse_and_score(fuser: Fuser, a: np.ndarray, b: np.ndarray,
                   on_tile: Callable[[], None] | None = None) -> FusedPair:
    """One network pass: fused image, components, and the metrics table's values (against the
    sources as the fuser fused them: aligned, a raw thermal frame stretched, ...)."""
    parts = fuser.decompose(a, b, on_tile=on_tile)
    return FusedPair(parts, score(parts.fused, *parts.sources), parts.sources)


def passes(fuser: Fuser, images: list[np.ndarray]) -> int:
    """How many network passes fusing ``images`` takes (tiles, times the pairwise fusions): the
    progress bar's length."""
    return fuser.tiles_for(*images[0].shape[:2]) * (len(images) - 1)


def alt_text(what: str, names: Sequence[str] = (), palette: str = "none") -> str:
    """An image's alt text on the page, for a screen reader or a page that did not load its images:
    ``what`` it is, of which uploads (``names``), and the thermal palette that coloured it (none:
    unsaid).

    Example:
        >>> alt_text("fused image", ["vis.png", "ir.png"], "inferno")
        'fused image of vis.png and ir.png, inferno palette'
        >>> alt_text("source image B, ir.png")
        'source image B, ir.png'
        >>> alt_text("fused image", ["f1.png", "f2.png", "f3.png"])
        'fused image of f1.png, f2.png and f3.png'
    """
    said = list(names)
    of = f" of {', '.join(said[:-1])} and {said[-1]}" if len(said) > 1 else f" of {said[0]}" if said else ""
    return f"{what}{of}" + (f", {palette} palette" if palette != "none" else "")


def palette_note(fuser: Fuser, images: list[np.ndarray], names: list[str]) -> str | None:
    """Which image a palette colours, where the core had to guess (as ``defusion fuse`` notes it)."""
    if fuser.options.palette == "none":
        return None
    index, why = fuser.infrared_source(*images)
    if why is None:
        return None
    return (f"The palette colours {names[index]} as the infrared image ({why}, so it had to guess): pick the "
            "infrared image in the sidebar if it is another.")


def score(fused: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The UI's metrics on 8-bit data (the metrics take 0..255 arrays: fused first, then the sources)."""
    return _each_metric(to_uint8(fused), [to_uint8(a), to_uint8(b)], METRIC_NAMES)


def _each_metric(fused: np.ndarray, sources: list[np.ndarray], names) -> dict[str, float]:
    """``names``; one a small image cannot take (MS-SSIM, SSIM's window) is NaN, shown as n/a, so
    the fused image is still shown; all of them for an image under ``MIN_METRIC_SIDE``, which the
    metrics refuse as a whole (``defusion fuse`` fuses it all the same)."""
    from defusion.metrics import compute_each

    if min(fused.shape[:2]) < MIN_METRIC_SIDE:
        return dict.fromkeys(names, float("nan"))
    values, _ = compute_each(fused, sources, names)
    return {name: values.get(name, float("nan")) for name in names}


class FusedStack(NamedTuple):
    """A bracket or stack fused, for showing."""

    fused: np.ndarray
    #: The metrics table's values.
    values: dict[str, float]
    #: The order the images were fused in (indices into the images given), for showing them so.
    order: list[int]
    #: With pixels from the sources: which image each pixel came from, HxW in [0, 1], 0 the first
    #: in ``order`` and 1 the last (a focus stack's depth map); None for the network's reconstruction.
    source_map: np.ndarray | None = None
    #: The sources as the fuser fused them (float in [0, 1], in the order given), as in FusedPair.
    sources: list[np.ndarray] | None = None
    #: The image the others were aligned onto (an index into the images given; Fusion.frame).
    frame: int = 0
    #: What registration found, in the order given (Fusion.warps, Fusion.ghosts): for
    #: :func:`registration_notes`.
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()


def fuse_stack_and_score(fuser: Fuser, images: list[np.ndarray],
                         on_tile: Callable[[], None] | None = None) -> FusedStack:
    """A bracket or stack fused (pairwise, in the fuser's stack order) and scored against the
    sources as fused (aligned, stretched, ...)."""
    result = fuser.fusion(*images, on_tile=on_tile)
    depth = None if result.weights is None else source_map([result.weights[k] for k in result.order])
    return FusedStack(result.fused, score_stack(result.fused, result.sources), result.order, depth, result.sources,
                      result.frame, result.warps, result.ghosts)


def score_stack(fused: np.ndarray, images: list[np.ndarray]) -> dict[str, float]:
    """``STACK_METRIC_NAMES`` on 8-bit data: the no-reference ones, Qabf and MEF-SSIM over every source."""
    return _each_metric(to_uint8(fused), [to_uint8(im) for im in images], STACK_METRIC_NAMES)


def metric_rows(values: dict[str, float]) -> list[dict[str, str]]:
    """Rows for the metrics table: name, value, direction, meaning."""
    from defusion.metrics import METRICS

    return [{"metric": name, "value": f"{value:.4f}" if np.isfinite(value) else "n/a (image too small)",
             "better": "higher" if METRICS[name].higher_is_better else "lower",
             "meaning": METRICS[name].description} for name, value in values.items()]


def stretch_notes(images: list[np.ndarray], names: list[str], shared: bool | None = None) -> list[str]:
    """One line per mapping the fusion core stretches raw 16-bit sources by (thermal counts, a raw
    bracket when ``shared``: ``FuseOptions.stretch_shared``), in ``defusion fuse``'s words."""
    return [f"{said}, and shown so." for said in describe_stretch(names, images, shared)]


def float_range(data: bytes) -> tuple[float, float] | None:
    """The lowest and highest value of an upload's float pixels (a 32-bit float TIFF's first page,
    from its bytes: :func:`defusion.io.images.float_span`), or None for integer pixels or a file
    that cannot be read (decoding says what is wrong). Asked of uploads already decoded, within the
    page's own pixel limit (``DEFUSION_MAX_PIXELS``), so it sets none of its own: every upload that
    was fused gets its note."""
    return float_span(data, max_pixels=sys.maxsize)


def float_note(name: str, span: tuple[float, float] | None) -> str | None:
    """What reading did to an upload of float pixels whose values ``span`` lie outside [0, 1] (a
    radiometric thermal frame in degrees): stretched from its minimum to its maximum onto the full
    range (:func:`defusion.io.images.read_image`, as ``defusion fuse`` reads it, and says in the same
    words: :func:`defusion.io.images.describe_float_stretch`), whatever *Stretch raw thermal frames*
    says; None for floats in [0, 1], read as they are, and for integer pixels.

    Example:
        >>> float_note("ir.tif", (20.5882, 44.902))
        'ir.tif holds float values 20.59 to 44.9 (not 0 to 1: a radiometric thermal frame in degrees, say): \
stretched from its minimum to its maximum onto the full range when read, as defusion fuse reads it, and shown so \
(Stretch raw thermal frames does not apply to float frames)'
    """
    said = describe_float_stretch(name, span)
    if said is None:
        return None
    return (f"{said}, as defusion fuse reads it, and shown so (Stretch raw thermal frames does not apply to float "
            "frames)")


def png_bytes(image: np.ndarray, sources: list[bytes] | None = None) -> bytes:
    """Encode HxW or HxWx3 uint8/uint16 RGB as PNG (16-bit stays 16-bit); with ``sources`` (the
    uploaded files, in order) it carries their colour profile and the first one's EXIF, as
    ``defusion fuse`` does."""
    if image.dtype not in (np.uint8, np.uint16):
        image = to_uint8(image)
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", bgr)
    if not ok:  # pragma: no cover - cv2 encodes any uint8/uint16 array
        raise OSError("PNG encoding failed")
    if not sources:
        return encoded.tobytes()
    metadata = choose_metadata([read_metadata(data) for data in sources], colour=image.ndim == 3)
    return embed_metadata(encoded.tobytes(), ".png", metadata)


def download_name(name_a: str, name_b: str, *more: str, part: str = "fused") -> str:
    """``fused_<a>_<b>.png``; a bracket or stack is named by its first and last image (give them in
    the order the page shows them, the order fused); ``part`` names another image of the result
    (``common``, ``unique_a``, ...).

    Example:
        >>> download_name("ir.png", "vis.jpg"), download_name("ev-2.jpg", "ev0.jpg", "ev+2.jpg")
        ('fused_ir_vis.png', 'fused_ev-2_to_ev+2.png')
        >>> download_name("ir.png", "vis.jpg", part="common")
        'common_ir_vis.png'
    """
    stem = lambda n: Path(n).stem or "image"  # noqa: E731
    if more:
        return f"{part}_{stem(name_a)}_to_{stem(more[-1])}.png"
    return f"{part}_{stem(name_a)}_{stem(name_b)}.png"


__all__ = [
    "AUTO_INFRARED", "COLOR_MODES", "EXAMPLES", "INFRARED_CHOICES", "PAIR_LABELS", "PALETTES", "MAX_STACK_IMAGES", "METRIC_NAMES", "SCALE_CHOICES", "STACK_METRIC_NAMES", "TILE_CHOICES",
    "UPLOAD_TYPES", "FusedStack", "ImageReadError", "InputError", "Settings", "check_same_size", "check_upload_size",
    "RESULTS_KEPT", "RESULTS_MAX_BYTES", "ResultCache", "array_bytes", "in_name_order", "name_images",
    "stack_infrared_choices",
    "decode_pair", "decode_stack", "digest", "download_name", "fuse_and_score", "fuse_stack_and_score", "FusedPair",
    "palette_note", "alt_text", "passes", "option_warnings",
    "input_order_for", "load_example", "fuse_options", "metric_rows", "parse_board", "parse_rig", "png_bytes",
    "RigUpload", "calibrate_uploads", "RIG_MOTIONS", "DEFAULT_RIG_MOTION",
    "score", "score_stack", "MIN_METRIC_SIDE", "float_range", "float_note", "turned_quarter", "turned_advice",
    "aspect_warnings", "stretch_notes", "tile_option", "to_uint8", "default_pixels", "default_scale",
    "RESIZE_CHOICE", "CALIBRATE_PAGE", "choose_kind", "exif_advice", "registration_notes", "resized_to_first",
]
