"""The fusion core: every front end (CLI, Python, server, UI) calls :class:`Fuser`.

Its steps live beside it: the images checked (:mod:`~defusion.fusion.inputs`), the device
(:mod:`~defusion.fusion.device`), the sources registered and prepared (:mod:`~defusion.fusion.prepared`),
a stack's order (:mod:`~defusion.fusion.stacking`), the network's pass (:mod:`~defusion.fusion.network_pass`)
and what it returns (:mod:`~defusion.fusion.results`); the names they define that were defined here
are still importable from here.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import inspect
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import numpy as np
import torch

from defusion.fusion import color
from defusion.fusion.align import align_images, describe_correlation
from defusion.fusion.deghost import deghost, reference_index
from defusion.fusion.device import check_half, resolve_device
# defined there: the CLI names them without PyTorch
from defusion.fusion.errors import FusionInputError, FusionTypeError, OptionsError, SizeMismatchError, UnknownOptionError
from defusion.fusion.inputs import checked_images
from defusion.fusion.network_pass import PROJECTIONS, Projections, project
# the options, defined there (what a fusion is asked to do), and still importable from here
from defusion.fusion.options import (DEFAULT_SCALE, DEFAULT_UNIQUE_GAIN, INPUT_ORDERS, MAX_DETAIL_GAIN,
                                     MAX_UNIQUE_GAIN, MIN_TILE, PAPER_OPTIONS, SOURCES_SCALE, STACK_ORDERS,
                                     TASK_FIELDS, TASK_OPTIONS, TASKS, FuseOptions, InputOrder, StackOrder, Task,
                                     check_detail_gain, check_option_names, check_unique_gain, default_scale,
                                     option_names, smallest_tile, task_options)
from defusion.fusion.prepared import Anchors, Prepared, Registered
from defusion.fusion.results import Decomposition, Fusion, Selection
from defusion.fusion.runtime import DEFAULT_RUNTIME, Runtime, check_runtime, is_onnx_export, load_network
from defusion.fusion.selection import pair_guide, pair_weights, sharper_choice, soften_choice, weighted_sum
from defusion.fusion.stacking import Stacked, flat_warning, input_ranking, split_point, unrank, without_flat
from defusion.fusion.stretch import stretch_sources
from defusion.fusion.tiling import TileSize, passes_for, tile_layout
from defusion.io.front_end import current_front_end
from defusion.io.notes import note, warn
from defusion.io.progress import pass_progress
from defusion.model.denet import DeNet
from defusion.model.weights import check_model_path


def _resolve_options(task: Task | None, options: FuseOptions | None, fields: dict[str, object]) -> FuseOptions:
    """The options :meth:`Fuser.from_pretrained` fuses with: ``task``'s defaults
    (:meth:`FuseOptions.for_task`) or ``options``, with ``fields`` on top (a ``None`` field leaves
    the option as it was); OptionsError for ``task`` and ``options`` both, FusionTypeError for
    ``options`` that are no FuseOptions. Checks before anything loads.

    Example:
        >>> from defusion.fusion.fuser import FuseOptions, _resolve_options
        >>> _resolve_options("ivf", None, {"scale": 1}) == FuseOptions.for_task("ivf", scale=1)
        True
        >>> _resolve_options(None, FuseOptions(scale=1), {"unique_gain": 2.0, "tile": None}).unique_gain
        2.0
    """
    if options is not None and task is not None:
        raise OptionsError("give task= or options=, not both (FuseOptions.for_task(task) makes the options)")
    if options is not None and not isinstance(options, FuseOptions):
        raise FusionTypeError(f"options must be a FuseOptions, got {type(options).__name__}")
    if options is not None:  # fields on top, None leaving the option as for_task does
        return replace(options, **{k: v for k, v in fields.items() if v is not None})
    return FuseOptions.for_task(task, **fields)


_Result = TypeVar("_Result")


def _checked_keywords(method: Callable[..., _Result]) -> Callable[..., _Result]:
    """``method`` (a Fuser call) refusing a keyword it does not take with a library error that says where
    the name belongs (:func:`_misplaced`), rather than Python's bare TypeError: ``fuse(a, b, scale=2)``
    names the options' place, ``fuse(a, b, on_tiles=f)`` guesses ``on_tile``; and an ``on_tile`` that
    is not callable before any work (:func:`_check_on_tile`). Its signature and docstring stay the
    method's (``help``, ``inspect.signature``)."""
    parameters = inspect.signature(method).parameters.values()
    taken = tuple(p.name for p in parameters if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    images = any(p.kind is p.VAR_POSITIONAL for p in parameters)

    @functools.wraps(method)
    def checked(self, *args: Any, **keywords: Any) -> _Result:
        refused = {name: value for name, value in keywords.items() if name not in taken}
        if refused:
            raise _misplaced(f"{type(self).__name__}.{method.__name__}", refused, taken, images)
        _check_on_tile(f"{type(self).__name__}.{method.__name__}", keywords.get("on_tile"))
        return method(self, *args, **keywords)

    return checked


def _check_on_tile(caller: str, on_tile: object) -> None:
    """Refuse an ``on_tile`` that is neither None nor callable (FusionTypeError, a TypeError) before
    ``caller`` runs: it is called after each network pass, and a number there once failed only after the
    first pass, as Python's bare "'int' object is not callable".

    Example:
        >>> from defusion.fusion.fuser import _check_on_tile
        >>> _check_on_tile("Fuser.fuse", print)
        >>> _check_on_tile("Fuser.fuse", 5)
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.FusionTypeError: Fuser.fuse got on_tile=5, which is not callable: give a function of no arguments, called after each network pass (on_tile=lambda: ...), or None; progress=True shows a bar instead
    """
    if on_tile is not None and not callable(on_tile):
        raise FusionTypeError(f"{caller} got {_shown({'on_tile': on_tile})}, which is not callable: give a function "
                              "of no arguments, called after each network pass (on_tile=lambda: ...), or None; "
                              "progress=True shows a bar instead")


#: The longest repr of a refused keyword's value a message repeats (``scale=2``); a longer one (an
#: array) is shown as ``...``, so that the message stays one line.
_SHOWN_VALUE = 40


def _shown(keywords: dict[str, Any]) -> str:
    """``keywords`` as a call would write them: ``scale=2, unique_gain=1.5``.

    Example:
        >>> import numpy as np
        >>> from defusion.fusion.fuser import _shown
        >>> _shown({"scale": 2, "rig": np.zeros((9, 9)), "color": "rgb"})
        "scale=2, rig=..., color='rgb'"
    """
    def value(v: Any) -> str:
        text = repr(v)
        return text if len(text) <= _SHOWN_VALUE and "\n" not in text else "..."

    return ", ".join(f"{name}={value(v)}" for name, v in keywords.items())


def _misplaced(caller: str, refused: dict[str, Any], taken: tuple[str, ...], images: bool = True
               ) -> UnknownOptionError:
    """The error for keywords ``caller`` does not take (it takes ``taken``, and with ``images`` the images
    as arguments): FuseOptions fields are set on the Fuser (:meth:`Fuser.from_pretrained`, or a copy,
    :meth:`Fuser.with_options`); the Fuser's own settings (device, runtime, task, ...) when it is made;
    another name is guessed at. An UnknownOptionError: an OptionsError, a TypeError as Python's own
    refusal was, a DefusionError.

    Example:
        >>> from defusion.fusion.fuser import _misplaced
        >>> print(_misplaced("Fuser.fuse", {"scale": 2}, ("on_tile", "progress")))  # doctest: +ELLIPSIS
        Fuser.fuse got scale=2, an option of the Fuser, not of a call: make it with Fuser.from_pretrained(scale=2), ...
        >>> print(_misplaced("Fuser.fuse", {"on_tiles": print}, ("on_tile", "progress")))
        Fuser.fuse got an unknown keyword on_tiles (did you mean on_tile?); it takes the images, on_tile, progress
    """
    fields = option_names()
    options = {name: v for name, v in refused.items() if name in fields}
    settings = {name: v for name, v in refused.items() if name not in options and name in _FUSER_SETTINGS}
    unknown = [name for name in refused if name not in options and name not in settings]
    parts = []
    call = caller.rsplit(".", 1)[-1]
    if options:
        some = "an option" if len(options) == 1 else "options"
        parts.append(f"{_shown(options)}, {some} of the Fuser, not of a call: make it with "
                     f"Fuser.from_pretrained({_shown(options)}), or {call} with a copy that shares its network, "
                     f"fuser.with_options({_shown(options)}).{call}(...)")
    if settings:
        task = f", or a copy for the task that shares its network, fuser.with_task({settings['task']!r})" \
            if "task" in settings else ""
        parts.append(f"{_shown(settings)}, what a Fuser is made with: "
                     f"Fuser.from_pretrained({_shown(settings)}){task}")
    if unknown:
        guesses = {g for name in unknown for g in difflib.get_close_matches(name, [*taken, *fields, *_FUSER_SETTINGS],
                                                                            n=1)}
        guess = f" (did you mean {' or '.join(sorted(guesses))}?)" if guesses else ""
        parts.append(f"an unknown keyword{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}{guess}; "
                     f"it takes {', '.join(['the images'] * images + list(taken))}")
    return UnknownOptionError(f"{caller} got " + "; ".join(parts))


@dataclass
class Fuser:
    """Fuses registered images with a DeNet.

    Colour images are RGB, as Pillow and :func:`defusion.io.images.read_image` give them; OpenCV's
    ``cv2.imread`` gives BGR: convert it first (``cv2.cvtColor(image, cv2.COLOR_BGR2RGB)``), and a
    fused colour image back before ``cv2.imwrite``.

    Threads: :meth:`fuse`, :meth:`fusion`, :meth:`decompose` and the other calls read the Fuser and
    never change it, so one Fuser may fuse from several threads at once with the ``torch`` and
    ``onnxruntime`` runtimes (an audit ran 2 threads x 20 fusions on one: no errors, each result
    bit-identical to the serial one). With ``compile`` runtimes fuse each new image size once
    before sharing (``torch.compile`` compiles on first use). Do not assign ``options`` while
    others fuse: make a copy, :meth:`with_options` (``dataclasses.replace(fuser, options=...)``), which
    shares the network. PyTorch's thread count is process-wide (:meth:`from_pretrained`'s ``threads``).

    The options are the Fuser's, not each call's: ``fuse(a, b, scale=1)`` is refused
    (:class:`~defusion.fusion.errors.UnknownOptionError`, a TypeError), saying to set them in
    :meth:`from_pretrained` or on a copy, ``fuser.with_options(scale=1)``. A long fusion shows its
    progress with ``progress=True``, or reports each network pass to ``on_tile`` (:meth:`fuse`).

    Processes: a Fuser pickles and deep-copies (``copy.deepcopy``, a process pool) with the ``torch`` and
    ``onnxruntime`` runtimes. A PyTorch network travels with its weights; an ONNX Runtime one as its export's
    absolute path and SHA-256 (a session cannot be pickled), refused where that file is gone or has other
    bytes, on the same machine: a process opens a session once per export (about 1.2 s for the shipped
    weights' export on a 2-core CPU) and its further copies run it, fusing bit-identically to the original.
    Send a pool's workers the Fuser once, from a spawn or forkserver context,
    ``ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"), initializer=keep,
    initargs=(fuser,))`` (``keep`` puts it in a global the jobs fuse with), rather than with each task
    (``map(job, [fuser] * n, ...)``): that pickles and unpickles it per task, which a PyTorch network's
    weights make slow too. Not a fork context (Linux's default before Python 3.14): ONNX Runtime does not
    survive a fork once the parent has run a session, and the pool hangs; a forked child only starts with
    none of the parent's kept sessions (:mod:`defusion.fusion.onnx_runtime`), which does not prevent that.

    ``repr(fuser)`` is one line: the weights (``'shipped'``, a file's name, ``<custom module>`` for a
    network handed over), the runtime, the device and the options that differ from the defaults.

    Example:
        >>> import numpy as np
        >>> from defusion import Fuser, create_model
        >>> fuser = Fuser(create_model("defusion-tiny"))  # Fuser.from_pretrained(): the shipped weights
        >>> a = np.zeros((20, 30), dtype=np.uint8); b = np.full((20, 30), 255, dtype=np.uint8)
        >>> out = fuser.fuse(a, b)
        >>> out.shape, out.dtype
        ((20, 30), dtype('uint8'))
    """

    model: DeNet = field(repr=False)  # repr(fuser): its weights, runtime, device and options on one line
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    half: bool = False
    options: FuseOptions = field(default_factory=FuseOptions)
    #: The weights file ``model`` was loaded from, for the repr, as the network says: :meth:`from_pretrained`
    #: marks the network it loads (its ``loaded_from``; the shipped ones by their path), so the name follows
    #: the model (``dataclasses.replace(fuser, model=other)`` names the other's, not these). None where a
    #: network was handed over and they are not known. Set from ``model``, not given.
    weights: str | Path | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        if not (callable(self.model) and hasattr(self.model, "to") and hasattr(self.model, "eval")):
            raise FusionTypeError(f"model must be a network (create_model(name, pretrained=True), or "
                                  f"defusion.model.weights.load_weights(path)), got {type(self.model).__name__}; "
                                  "Fuser.from_pretrained() loads the shipped one")
        if not isinstance(self.options, FuseOptions):
            raise FusionTypeError(f"options must be a FuseOptions (FuseOptions(**fields) or "
                                  f"FuseOptions.for_task(task)), got {type(self.options).__name__}")
        self.device = resolve_device(self.device)
        check_half(self.half, self.device)
        self.model = self.model.to(self.device).eval()
        if self.half:
            self.model = self.model.half()
        self.weights = getattr(self.model, LOADED_FROM, None)

    def __repr__(self) -> str:
        """One line that tells two Fusers apart: the weights, the runtime
        (:func:`~defusion.fusion.provenance.runtime_name`), the device, fp16 where on, and only the options
        that differ from FuseOptions' defaults (:func:`~defusion.fusion.provenance.changed_options`, as a
        fused image's record lists them; a long value, a rig, as ``...``).

        Example:
            >>> from defusion import Fuser, FuseOptions, create_model
            >>> Fuser(create_model("defusion-tiny"), options=FuseOptions.for_task("ivf", scale=1))
            Fuser(weights=<custom module>, runtime='torch', device='cpu', options=FuseOptions(scale=1, unique_gain=1.5))
        """
        from defusion.fusion.provenance import changed_options, runtime_name

        changed = {name: getattr(self.options, name) for name in changed_options(self.options)}
        return (f"{type(self).__name__}(weights={self._weights_name()}, runtime={runtime_name(self.model)!r}, "
                f"device={str(self.device)!r}{', half=True' if self.half else ''}, "
                f"options=FuseOptions({_shown(changed)}))")

    def _weights_name(self) -> str:
        """The weights as the repr names them: ``'shipped'``, their file's name (never a path: where the user
        keeps files is theirs; :attr:`MadeBy.weights_name`), an ONNX network's file name where the Fuser was
        handed the network alone, else ``<custom module>``."""
        from defusion.fusion.provenance import MadeBy

        if self.weights is not None:
            return repr(MadeBy(self.options, self.weights).weights_name)
        path = getattr(self.model, "path", None)  # an OnnxDeNet knows its file
        return repr(Path(path).name) if isinstance(path, (str, Path)) else CUSTOM_MODULE

    @classmethod
    def from_pretrained(cls, weights: str | Path | None = None, device: str = "auto", half: bool = False,
                        runtime: Runtime = DEFAULT_RUNTIME, threads: int | None = None, task: Task | None = None,
                        options: FuseOptions | None = None, onnx: bool | None = None, **fields: Any) -> "Fuser":
        """A Fuser with the shipped weights (or ``weights``: a ``.safetensors`` file, or an ONNX
        export run by ONNX Runtime: a ``.onnx`` file, or any file with ``onnx=True``), ready on ``device``.

        ``runtime`` picks the inference engine (:mod:`defusion.fusion.runtime`): ``auto`` (default:
        ONNX Runtime on a CPU, PyTorch on a GPU), ``torch``, ``onnxruntime`` (exported once and
        cached; 2.3x PyTorch eager on a CPU, same output to rounding),
        ``compile`` or ``compile-bf16`` (``torch.compile``; the fastest on a CPU once compiled).
        ``threads`` bounds the CPU threads of inference: onnxruntime's intra-op threads for this
        Fuser, and PyTorch's (``torch.set_num_threads``: the PyTorch runtimes, and the up-sampling
        at ``scale`` 2 on any runtime), which is process-wide: every PyTorch call in the process
        then runs on ``threads``, until something sets it again.
        ``task`` (``"ivf"``, ``"mef"``, ``"mff"``) starts the options from that kind of images'
        defaults (:meth:`FuseOptions.for_task`), or ``options`` from a whole :class:`FuseOptions`;
        ``fields`` (FuseOptions fields, e.g. ``scale=1``) go on top.

        Refused options (a field, an unknown field name, the task, device, runtime, threads or
        precision) raise :class:`~defusion.fusion.errors.OptionsError` (a ValueError), ``options``
        that are no FuseOptions FusionTypeError (a TypeError), ``weights`` that cannot be loaded
        (missing, a folder: a training run's names its weights file) WeightsError (a ValueError): all
        :class:`defusion.DefusionError`.
        """
        check_option_names(fields, "Fuser.from_pretrained", _FROM_PRETRAINED_PARAMETERS)
        check_model_path(weights)  # a folder (a training run's: its weights file named), before anything loads
        check_runtime(runtime, half, threads)
        onnx = is_onnx_export(weights) if onnx is None else onnx
        if half and onnx:
            raise OptionsError(f"fp16 (half) is for safetensors weights on PyTorch; {weights} is an ONNX export "
                               "and runs as exported (defusion export --half makes an fp16 one)")
        fuse_options = _resolve_options(task, options, fields)  # bad options fail before loading
        device = resolve_device(device)
        check_half(half, device)  # before the model loads
        runtime = "torch" if half and runtime == "auto" else runtime
        before = torch.get_num_threads()
        if threads is not None:  # before loading: an ONNX export made on first use runs on them too
            torch.set_num_threads(int(threads))
        try:
            network = load_network(weights, runtime, device, threads, onnx=onnx)
            setattr(network, LOADED_FROM, _weights_file(weights))  # the Fuser's weights, and its copies'
            return cls(network, device, half, fuse_options)
        except BaseException:  # a fuser that fails to load leaves the process as it was
            torch.set_num_threads(before)
            raise

    def with_options(self, **fields: Any) -> "Fuser":
        """A copy of this Fuser fusing with ``fields`` (FuseOptions fields, e.g. ``scale=1``) in its
        options, replaced as ``dataclasses.replace`` replaces them. The copy shares the network
        (nothing loads), and this Fuser stays as it was: the way to fuse some calls with other options,
        which :meth:`fuse` does not take (``fuse(a, b, scale=1)`` is refused), also while other
        threads fuse with this one. A keyword that names no field raises
        :class:`~defusion.fusion.errors.UnknownOptionError` (did you mean ...?), a value out of its
        range :class:`~defusion.fusion.errors.OptionsError`.

        Example:
            >>> from defusion import Fuser, create_model
            >>> fuser = Fuser(create_model("defusion-tiny"))
            >>> faster = fuser.with_options(scale=1, unique_gain=1.5)
            >>> faster.options.scale, faster.options.unique_gain, fuser.options.scale, faster.model is fuser.model
            (1, 1.5, 2, True)
        """
        check_option_names(fields, "Fuser.with_options")
        return replace(self, options=replace(self.options, **fields))

    def with_task(self, task: Task) -> "Fuser":
        """A copy of this Fuser for ``task``'s kind of images (``"ivf"``, ``"mef"``, ``"mff"``): the option
        fields a task sets (gains, order, pixels, and the scale that goes with them) as
        :meth:`FuseOptions.with_task` sets them, the others (tiling, colour, ...) kept. The copy shares the
        network, as :meth:`with_options`' does; chain that for other fields
        (``fuser.with_task("mef").with_options(align="affine")``). A task is not an option but a preset
        of them: ``with_options(task=...)`` is refused, pointing here. An unknown task raises
        :class:`~defusion.fusion.errors.OptionsError`.

        Example:
            >>> from defusion import Fuser, create_model
            >>> fuser = Fuser(create_model("defusion-tiny"))
            >>> mef = fuser.with_task("mef")
            >>> mef.options.order, mef.options.unique_gain, mef.model is fuser.model, fuser.options.order
            ('exposure', 1.0, True, 'given')
        """
        return replace(self, options=self.options.with_task(task))

    # -- public API -----------------------------------------------------------------
    @_checked_keywords
    def fuse(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None,
             progress: bool = False) -> np.ndarray:
        """Fuse two or more registered images (more than two in ``options.stack`` order), given as
        separate arguments (``fuse(*images)`` for a list).

        Each is HxW or HxWxC (C 1 to 4: grey, grey + alpha, RGB, RGBA; alpha is dropped, with a
        DefusionWarning where some pixel is transparent), uint8, uint16 or float in [0, 1]: a NumPy array, a Pillow image or a torch tensor, channels last
        (docs/features.md, "Colour and file formats"). Colour is RGB: convert OpenCV's BGR first. The
        result is a NumPy array of their size in the deepest input type (float32 for floats), HxW where
        all are grey, else RGB. Raw thermal frames are stretched first (``options.stretch``), said in a
        :class:`~defusion.errors.DefusionNote` (which image, from which counts; ``stretch='none'`` keeps them).

        Progress: a large pair runs in tiles, for minutes on a CPU (an audit's 8 MP pair, ``task="mef"``
        at ``scale`` 1: 276 s), silently by default. ``progress=True`` shows a bar over the network passes
        on stderr (tqdm: a widget in a notebook with ipywidgets, else text), closed however the call
        ends. ``on_tile``, a function of no arguments, is called after each pass, to drive a display
        of your own or to stop the fusion by raising from it: :meth:`tiles_for` passes a pair of
        images of a size (tiles, or one pass), ``len(images) - 1`` pairs in all (a stack is fused
        pairwise). The options are the Fuser's, not a call's (:meth:`with_options`).

        Raises:
            SizeMismatchError: images of different sizes (and no ``options.rig``).
            FusionInputError: fewer than two images (or one list of them), an array of no such shape or no
                pixels, floats outside [0, 1] or not finite, a bad ``infrared``, too few for a FixedStretch.
            RigError: images that do not match ``options.rig``.
            FusionTypeError: a path instead of an array, or a dtype other than uint8, uint16 or float.
            UnknownOptionError: a keyword other than ``on_tile`` and ``progress`` (an option such as
                ``scale``, set on the Fuser, or a typo); an OptionsError and a TypeError.
            The first three are ValueErrors, FusionTypeError a TypeError, all :class:`defusion.DefusionError`.

        Example:
            >>> import torch
            >>> from defusion import Fuser, create_model
            >>> a = torch.rand(16, 24, 3, dtype=torch.bfloat16, requires_grad=True)  # a model's output, say
            >>> fused = Fuser(create_model("defusion-tiny")).fuse(a, torch.rand(16, 24, 3))
            >>> type(fused).__name__, fused.shape, fused.dtype
            ('ndarray', (16, 24, 3), dtype('float32'))

            Each network pass reported (tiles of 128 network pixels here, to show them on a small pair):

            >>> import numpy as np
            >>> from defusion import FuseOptions
            >>> fuser = Fuser(create_model("defusion-tiny"), options=FuseOptions(scale=1, tile=128, overlap=16))
            >>> a, b = np.zeros((200, 300), np.uint8), np.full((200, 300), 255, np.uint8)
            >>> passes = []
            >>> fused = fuser.fuse(a, b, on_tile=lambda: passes.append(1))
            >>> len(passes), fuser.tiles_for(200, 300)
            (6, 6)
            >>> fused = fuser.fuse(a, b, progress=True)  # on stderr: fusing: 100%|##########| 6/6 [00:00<00:00, ...]
        """
        return self._fusion(images, on_tile, keep_sources=False, progress=progress).fused

    @_checked_keywords
    def fuse_with_weights(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None,
                          progress: bool = False) -> Selection:
        """Like :meth:`fuse` with pixels="sources", and also each source's HxW share of the result
        (which image each pixel came from: a focus stack's depth map). Needs pixels="sources".
        ``on_tile`` and ``progress`` as :meth:`fuse` takes them."""
        if self.options.pixels != "sources":
            raise OptionsError("source weights exist only with pixels='sources' (the network's reconstruction "
                               f"mixes the sources); this fuser has pixels={self.options.pixels!r}")
        result = self.fusion(*images, on_tile=on_tile, progress=progress)
        return Selection(result.fused, result.weights)

    @_checked_keywords
    def fusion(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None,
               progress: bool = False) -> Fusion:
        """:meth:`fuse`, with the sources as fused, the order they were fused in, which were stretched
        as raw thermal frames, (with pixels="sources") each one's share and what alignment and deghosting
        found (``warps``, ``ghosts``): one pass for a page that shows and scores a fusion. ``on_tile``
        (called after each network pass) and ``progress`` (a bar over them on stderr) as :meth:`fuse`
        takes them. The result's repr gives each field's shape, dtype and range, not its pixels.

        Example:
            >>> import numpy as np
            >>> from defusion import Fuser, create_model
            >>> thermal = (7000 + np.arange(64 * 64).reshape(64, 64) % 2000).astype(np.uint16)
            >>> result = Fuser(create_model("defusion-tiny")).fusion(thermal, thermal // 2 + 32768)
            >>> result.stretched, result.order
            ((0, 1), [0, 1])
            >>> fused, sources, *_ = result  # a NamedTuple
            >>> result  # doctest: +ELLIPSIS
            Fusion(
                fused=(64, 64) uint16 [...],
                sources=[(64, 64) float32 [0, 1], (64, 64) float32 [0, 1]],
                order=[0, 1],
            ...
        """
        return self._fusion(images, on_tile, progress=progress)

    def _fusion(self, images: tuple[np.ndarray, ...], on_tile: Callable[[], None] | None = None,
                keep_sources: bool = True, progress: bool = False) -> Fusion:
        """:meth:`fusion`; ``keep_sources`` False (:meth:`fuse`, which returns the fused image alone) lets
        the float sources go once the network inputs are made from them, where the result needs them no
        more (``sources`` then empty): 12 bytes a pixel of each colour source, while the network runs."""
        prepared = self._prepare(images, keep_sources, say_stretch=True)
        order = input_ranking(prepared.inputs, self.options.order)
        # a flat (misfire) shot has no focus to give, yet would win a stack's smooth areas: left out
        chosen, flat = without_flat(prepared.inputs, order) if self.options.pixels == "sources" else (order, [])
        if flat:  # said where it happens, so that fuse(), which returns the image alone, says it too
            warn(flat_warning([f"image {i + 1}" for i in range(len(order))], flat))
        ranked = [prepared.inputs[i] for i in chosen]
        prepared.inputs = []  # the network's inputs go once fused, before the fused image is made
        with self._passes(ranked, on_tile, progress) as each_pass:
            stacked = self._fuse_stack(ranked, prepared.mode, each_pass)
        del ranked
        if stacked.weights is None:
            return Fusion(prepared.finish(stacked.image), prepared.sources, order,
                          stretched=prepared.stretched, frame=prepared.frame, warps=prepared.warps,
                          ghosts=prepared.ghosts, correlations=prepared.correlations)
        weights = unrank(stacked.weights, chosen, len(order))
        return Fusion(prepared.finish_selected(weights), prepared.sources, order, weights=weights,
                      stretched=prepared.stretched, frame=prepared.frame, warps=prepared.warps,
                      ghosts=prepared.ghosts, left_out=tuple(flat), correlations=prepared.correlations)

    def _fuse_stack(self, inputs: list[np.ndarray], mode: str, on_tile: Callable[[], None] | None = None,
                    root: bool = True) -> Stacked:
        """Fuse HxWx3 network inputs pairwise in ``options.stack`` order; intermediate results
        are clipped to [0, 1] like any image before they are fused again. With pixels="sources"
        each pair is a weighed choice between its halves, and the weights multiply down the tree.
        The reconstruction's unique gain (which brightens) weighs up the final fusion only: below the
        root, unique gain 1, so that a result does not brighten again at each level (eight copies of
        one frame came out 34 grey levels brighter at gain 1.25). The detail gain stays at every level:
        without it brackets of 3-4 scored lower MEF-SSIM (benchmarks/multi_input.py --task mef)."""
        if len(inputs) == 1:
            selecting = self.options.pixels == "sources"
            # a source's whole weight in itself: ones, as a view (weighed by the pairs above, never stored)
            ones = np.broadcast_to(np.float32(1.0), inputs[0].shape[:2])
            return Stacked(inputs[0], [ones] if selecting else None)
        cut = split_point(len(inputs), self.options.stack)
        first, rest = (self._fuse_stack(part, mode, on_tile, root=False) for part in (inputs[:cut], inputs[cut:]))
        a, b = (_unit_range(part.image) for part in (first, rest))
        selecting = self.options.pixels == "sources"
        out = self._project(a, b, on_tile, unique_gain=root or selecting,
                            keep=("unique1", "unique2") if selecting else ("fused",))
        if selecting:  # pair_weights, each step's inputs let go once it has run
            planes = [unique.mean(axis=2) for unique in (out.unique1, out.unique2)]
            del out
            choice = sharper_choice(*planes)
            del planes
            w = soften_choice(choice, pair_guide(a, b))
            del choice
            weights = [w * x for x in first.weights] + [(1 - w) * x for x in rest.weights]
            # the root's image is the sources' own pixels weighed (Prepared.finish_selected), not this
            return Stacked(None if root else weighted_sum([w, 1 - w], [a, b]), weights)
        fused = out.fused
        return Stacked(fused if mode == "rgb" else color.grey_rgb(fused.mean(axis=2)), None)

    @contextlib.contextmanager
    def _passes(self, inputs: list[np.ndarray], on_tile: Callable[[], None] | None,
                progress: bool) -> Iterator[Callable[[], None] | None]:
        """What a fusion of ``inputs`` (network inputs, one size; a stack's left-out flat shots not among
        them) calls after each network pass: ``on_tile``, and with ``progress`` a bar over the passes it
        takes (:func:`~defusion.io.progress.pass_progress`): :meth:`tiles_for` a pair, times its pairwise
        fusions, as ``defusion fuse`` and the web UI count them, so that it ends at its total."""
        total = self._pass_count(inputs[0].shape[:2], len(inputs)) if progress else 0  # arrays checked already
        with pass_progress(total, on_tile, bool(progress)) as each_pass:
            yield each_pass

    @_checked_keywords
    def input_order(self, *images: np.ndarray) -> list[int]:
        """The indices of ``images`` in the order :meth:`fuse` stacks them (``options.order``)."""
        return input_ranking(self._prepare(images).inputs, self.options.order)

    @_checked_keywords
    def decompose(self, *images: np.ndarray, on_tile: Callable[[], None] | None = None,
                  progress: bool = False) -> Decomposition:
        """The fused image of a pair ``a, b`` and its common and unique projections (paper Fig.
        7/8), and with pixels="sources" the decision map; ``unique_a`` is ``a``'s whichever order
        ``options.order`` runs the pair in. ``on_tile`` (called after each of the :meth:`tiles_for`
        network passes) and ``progress`` (a bar over them on stderr) as :meth:`fuse` takes them.

        Example:
            >>> import numpy as np
            >>> from defusion import Fuser, create_model
            >>> a, b = np.zeros((20, 30), np.uint8), np.full((20, 30), 255, np.uint8)
            >>> fused, common, unique_a, unique_b, *_ = Fuser(create_model("defusion-tiny")).decompose(a, b)
            >>> common.shape, unique_a.dtype  # as the sources: grey, 8 bits
            ((20, 30), dtype('uint8'))
        """
        if len(images) != 2:
            raise FusionInputError(f"decompose takes a pair of images, got {len(images)}: the network decomposes "
                                   "two sources at a time (fuse takes any number)")
        prepared = self._prepare(images, say_stretch=True)
        first, second = input_ranking(prepared.inputs, self.options.order)
        with self._passes(prepared.inputs, on_tile, progress) as each_pass:
            out = self._project(prepared.inputs[first], prepared.inputs[second], each_pass)
        unique_a, unique_b = (out.unique1, out.unique2) if first == 0 else (out.unique2, out.unique1)
        parts = (prepared.component(p) for p in (out.common, unique_a, unique_b))
        if self.options.pixels == "sources":
            w = pair_weights(out.unique1, out.unique2, prepared.inputs[first], prepared.inputs[second])
            weights = unrank([w, 1 - w], [first, second])
            return Decomposition(prepared.finish_selected(weights), *parts, weight_a=weights[0],
                                 sources=prepared.sources, frame=prepared.frame, warps=prepared.warps,
                                 ghosts=prepared.ghosts, correlations=prepared.correlations)
        return Decomposition(prepared.finish(out.fused), *parts, sources=prepared.sources, frame=prepared.frame,
                             warps=prepared.warps, ghosts=prepared.ghosts, correlations=prepared.correlations)

    @_checked_keywords
    def tiles_for(self, height: int, width: int) -> int:
        """How many network passes fusing a pair of images of this size takes
        (:func:`~defusion.fusion.tiling.passes_for`): the calls of ``on_tile`` a pair makes, times
        ``len(images) - 1`` for more images (:meth:`fuse`); 1 where it runs in one pass.

        Example:
            >>> from defusion import FuseOptions, Fuser, create_model
            >>> fuser = Fuser(create_model("defusion-tiny"), options=FuseOptions(scale=1))
            >>> fuser.tiles_for(480, 640), fuser.tiles_for(3000, 4000)
            (1, 30)
        """
        return passes_for(self.options, height, width)

    @_checked_keywords
    def passes(self, *images: np.ndarray) -> int:
        """How many network passes fusing ``images`` (of one size) takes: :meth:`tiles_for` a pair,
        times its pairwise fusions; what a progress bar over them counts (``defusion fuse``, the web UI,
        ``progress=True``). A focus stack's flat (misfire) shots, left out, take fewer.

        Example:
            >>> import numpy as np
            >>> from defusion import FuseOptions, Fuser, create_model
            >>> fuser = Fuser(create_model("defusion-tiny"), options=FuseOptions(scale=1))
            >>> fuser.passes(*[np.zeros((3000, 4000), np.uint8)] * 3)
            60
        """
        images = checked_images(images, self.options.rig)  # as fuse takes them: Pillow images, tensors, ...
        return self._pass_count(images[0].shape[:2], len(images))

    def _pass_count(self, size: tuple[int, ...], count: int) -> int:
        """:meth:`passes` of ``count`` images of ``size`` (height, width)."""
        return self.tiles_for(*size[:2]) * (count - 1)

    @_checked_keywords
    def tile_layout(self, height: int, width: int) -> tuple[TileSize, int]:
        """Tile size and overlap in image pixels (:func:`~defusion.fusion.tiling.tile_layout`)."""
        return tile_layout(self.options, height, width)

    # -- steps ----------------------------------------------------------------------
    @_checked_keywords
    def registered(self, *images: np.ndarray) -> list[np.ndarray]:
        """The sources as this fuser fuses them, float32 in [0, 1] in the order given: raw thermal
        frames stretched, mapped by the rig, aligned, deghosted. What to show beside the fused
        image and to score it against (the files as given may not line up with it)."""
        return self._registered(checked_images(images, self.options.rig)).floats

    @_checked_keywords
    def infrared_source(self, *images: np.ndarray) -> tuple[int, str | None]:
        """Which source the palette colours as the infrared image (``options.infrared``, else the one
        raw thermal frame, else the only grey source, else the last grey one, or the last) and, where
        that was a guess, why (``"all are grey"``, ``"none is grey"``, ``"2 of the 3 are grey"``):
        worth telling the user; None when certain."""
        images = checked_images(images, self.options.rig)
        if self.options.infrared is not None:
            _check_infrared(self.options.infrared, len(images))
            return self.options.infrared, None
        _, stretched = stretch_sources(images, [color.to_float(im) for im in images], self.options.stretch,
                                       self.options.stretch_shared)
        index, certain = color.thermal_source(images, stretched)
        if certain:
            return index, None
        greys = sum(color.is_grey(im) for im in images)
        return index, ("all are grey" if greys == len(images) else "none is grey" if not greys
                       else f"{greys} of the {len(images)} are grey")

    def _registered(self, images: list[np.ndarray], say_stretch: bool = False) -> Registered:
        """:meth:`registered`'s floats, the indices of the sources stretched as raw thermal frames,
        and the source the others were registered onto (``say_stretch``: :meth:`_mapped`)."""
        floats, stretched = self._mapped(images, say_stretch)
        anchors = self._anchors(floats)
        warps: dict[int, np.ndarray] = {}
        chain = None if self.options.order == "given" else input_ranking(floats, self.options.order)
        correlations: dict[int, float] = {}
        floats = align_images(floats, self.options.align, reference=anchors.frame, on_warp=warps.__setitem__,
                              chain=chain,  # a bracket registered along its brightness, not its files' order
                              on_correlation=correlations.__setitem__)
        unlike = describe_correlation([f"image {i + 1}" for i in range(len(floats))],
                                      [correlations.get(i) for i in range(len(floats))], anchors.frame)
        if unlike:  # maybe another scene: a note, as ECC's correlation cannot tell (docs/features.md)
            note(unlike)
        replaced: dict[int, float] = {}
        if self.options.deghost:
            floats = deghost(floats, reference=anchors.reference, on_replaced=replaced.__setitem__)
        aligned = self.options.align != "none"
        return Registered(floats, tuple(stretched), anchors.frame,
                          tuple(warps.get(i) for i in range(len(floats))) if aligned else (),
                          tuple(replaced.get(i, 0.0) for i in range(len(floats))) if self.options.deghost else (),
                          tuple(correlations.get(i) for i in range(len(floats))) if aligned else ())

    def _mapped(self, images: list[np.ndarray], say_stretch: bool = False) -> tuple[list[np.ndarray], list[int]]:
        """The sources as floats in [0, 1], raw thermal frames stretched and mapped by the rig (not
        yet registered), and the indices of those stretched. ``say_stretch``: tell a Python caller of the
        stretch (a fusion's entry points ask it; measure_palette and the like, run on the same frames, not)."""
        floats, stretched = stretch_sources(images, [color.to_float(im) for im in images], self.options.stretch,
                                            self.options.stretch_shared, say=say_stretch)
        if self.options.rig is not None:
            floats = self.options.rig.apply(floats)
        return floats, stretched

    def _anchors(self, floats: list[np.ndarray]) -> Anchors:
        """The source the others are registered onto and deghost's reference. With order "given"
        the first (pairs and rigs: its pixel grid is the output's), and deghost picks its own; else
        (brackets sorted by brightness) the best exposed for both, so the files' order does not move
        the framing. Measured once, and only when align or deghost needs it (it reads every source)."""
        if self.options.order == "given" or (self.options.align == "none" and not self.options.deghost):
            return Anchors()
        best = reference_index(floats)
        return Anchors(best, best)

    @_checked_keywords
    def measure_palette(self, *images: np.ndarray) -> tuple[float, float] | None:
        """The infrared values (low, high) the palette spans for ``images`` as :meth:`fuse` measures
        them (:func:`defusion.fusion.color.palette_range`; on what a rig's infrared camera sees), to
        keep for a stream: ``replace(fuser, options=replace(fuser.options, palette_range=...))``;
        None for a flat infrared image (a shutter frame), which spans nothing."""
        registered = self._registered(checked_images(images, self.options.rig))
        low, high = color.palette_range(*self._thermal(registered.floats, registered.stretched))
        return (low, high) if high > low else None

    def _thermal(self, floats: list[np.ndarray], stretched: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray | None]:
        """The infrared image the palette colours (:meth:`_infrared_index`) and, where a rig's infrared
        camera does not see all of the first camera's view, the HxW weight of its own view
        (:meth:`Rig.seen`; None: it sees all, or it is the first camera)."""
        infrared = self._infrared_index(floats, stretched)
        rig = self.options.rig
        return floats[infrared], rig.seen()[infrared - 1] if rig is not None and infrared > 0 else None

    def _infrared_index(self, floats: list[np.ndarray], stretched: tuple[int, ...]) -> int:
        """Which source the palette colours: ``options.infrared`` (0-based, :func:`_check_infrared`), else
        :func:`color.thermal_source`'s."""
        infrared = self.options.infrared
        _check_infrared(infrared, len(floats))
        return color.thermal_source(floats, stretched)[0] if infrared is None else infrared

    def _prepare(self, images: tuple[np.ndarray, ...], keep_sources: bool = True, say_stretch: bool = False
                 ) -> Prepared:
        """The sources checked, registered and made the network's inputs, with the colour plan.
        ``keep_sources`` False: the float sources are kept only where the fused pixels are made from
        them (pixels="sources"), not for the caller (:meth:`_fusion`). Grey network inputs are one
        plane seen as three (:func:`~defusion.fusion.color.grey_rgb`), the values as :func:`as_rgb`'s."""
        images = checked_images(images, self.options.rig)
        dtype = color.output_dtype(*images)
        registered = self._registered(images, say_stretch)  # said once, by fuse, fusion and decompose
        floats, stretched, frame = registered.floats, registered.stretched, registered.frame
        # what registration found: Fusion.warps, Fusion.ghosts, Fusion.correlations
        done = {"warps": registered.warps, "ghosts": registered.ghosts, "correlations": registered.correlations}
        size = images[0].shape[:2]
        mode = color.plan_mode(floats, self.options.color, palette_sources=self.options.palette == "none")
        selecting = self.options.pixels == "sources"
        kept = floats if keep_sources or selecting else []
        if self.options.palette != "none":  # the infrared image in false colour, the fusion's detail over it
            thermal, seen = self._thermal(floats, stretched)
            index = self._infrared_index(floats, stretched)
            if not color.is_grey(images[index]):  # judged as given: a warp's resampling is off any 8-bit grid
                warn(f"image {index + 1}: {color.PALETTE_OF_COLOUR}")
            colours = color.thermal_colours(thermal, self.options.palette, self.options.palette_range, seen)
            inputs = [color.grey_rgb(color.luminance(f)) for f in floats]
            return Prepared("grey", inputs, None, dtype, size, kept, colours, stretched=stretched, frame=frame,
                            **done)
        if mode == "rgb":
            return Prepared(mode, [color.as_rgb(f) for f in floats], None, dtype, size, kept,
                            stretched=stretched, frame=frame, **done)
        inputs = [color.grey_rgb(color.luminance(f)) for f in floats]
        chroma = None
        # the blended colour is used where the fused luminance takes it: the network's reconstruction, or
        # a grey source's pixels among colour ones (Prepared.finish_selected)
        if mode == "luma" and (not selecting or any(color.is_grey(f) for f in floats)):
            # blended in the order the images are fused in: a bracket sorted by brightness then gives the
            # same pixels whatever order its files came in (a float sum's rounding depends on its order)
            chroma = color.blend_chroma([floats[i] for i in input_ranking(inputs, self.options.order)])
        return Prepared(mode, inputs, chroma, dtype, size, kept, stretched=stretched, frame=frame, **done)

    def _project(self, a: np.ndarray, b: np.ndarray, on_tile: Callable[[], None] | None = None,
                 unique_gain: bool = True, keep: tuple[str, ...] = PROJECTIONS) -> Projections:
        """Run DeNet on two HxWx3 float images; returns its four projections as HxWx3 float (those
        in ``keep``; the others None). ``unique_gain`` False: unique gain 1 whatever the options say
        (the detail gain as they say). Every network pass goes through here
        (:func:`~defusion.fusion.network_pass.project`)."""
        return project(self.model, self.options, self.device, self.half, a, b, on_tile, unique_gain, keep)


def _check_infrared(infrared: int | None, count: int) -> None:
    """Refuse ``options.infrared`` past the ``count`` images given (FusionInputError) in its user's terms
    (:func:`~defusion.io.front_end.current_front_end`): a ``defusion`` command's ``--infrared``, which
    counts from 1, under the command line; else ``infrared=``, saying that it counts from 0 (a message
    in the command line's terms misled a Python caller).

    Example:
        >>> from defusion.fusion.fuser import _check_infrared
        >>> _check_infrared(1, 2), _check_infrared(None, 2)
        (None, None)
        >>> _check_infrared(5, 2)
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.FusionInputError: infrared=5 (0-based: the 6th image) was asked for, but 2 images were given: give infrared=0 to 1 (counted from 0; the command line's --infrared counts from 1), or None to let the Fuser pick the infrared image
        >>> from defusion.io.front_end import reading_for
        >>> with reading_for("cli"):
        ...     _check_infrared(2, 2)
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.FusionInputError: --infrared 3 was asked for, but 2 images were given: give --infrared 1 to 2 (the infrared image's place among them), or leave it out to let defusion pick the infrared image
    """
    if infrared is None or infrared < count:
        return
    if current_front_end() == "cli":
        raise FusionInputError(f"--infrared {infrared + 1} was asked for, but {count} "
                               f"images were given: give --infrared 1 to {count} (the infrared image's place among "
                               "them), or leave it out to let defusion pick the infrared image")
    raise FusionInputError(f"infrared={infrared} (0-based: the {_ordinal(infrared + 1)} image) was asked for, but "
                           f"{count} images were given: give infrared=0 to {count - 1} (counted from 0; the "
                           "command line's --infrared counts from 1), or None to let the Fuser pick the "
                           "infrared image")


def _ordinal(number: int) -> str:
    """``number`` as an ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st.

    Example:
        >>> from defusion.fusion.fuser import _ordinal
        >>> [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 102, 111)]
        ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '102nd', '111th']
    """
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def _weights_file(weights: str | Path | None) -> Path:
    """The weights file :meth:`Fuser.from_pretrained` loads, absolute (a copy unpickled in another folder
    names and hashes the same file): ``weights``, else the shipped one's path."""
    from defusion.model.weights import shipped_weights_path

    return Path(weights).absolute() if weights is not None else shipped_weights_path()


def _unit_range(image: np.ndarray) -> np.ndarray:
    """``image`` clipped to [0, 1]: itself where it is within (a network input, a projection), so that no
    copy is made of what clipping leaves as it is; a clipped copy where it is not, or holds NaN.

    Example:
        >>> import numpy as np
        >>> from defusion.fusion.fuser import _unit_range
        >>> x = np.array([0.0, 0.5, 1.0], np.float32)
        >>> _unit_range(x) is x, _unit_range(x * 2).tolist()
        (True, [0.0, 1.0, 1.0])
    """
    if image.size and 0.0 <= image.min() and image.max() <= 1.0:
        return image
    return np.clip(image, 0.0, 1.0)


#: The attribute :meth:`Fuser.from_pretrained` marks the network it loads with: the weights file it loaded
#: (:attr:`OnnxDeNet.loaded_from <defusion.fusion.onnx_runtime.OnnxDeNet>` pickles it), which ``Fuser.weights``
#: reads, so that the name goes with the network and not with a Fuser given another one.
LOADED_FROM = "loaded_from"
#: How a Fuser's repr names the weights of a network handed over (``Fuser(model)``), which it cannot know.
CUSTOM_MODULE = "<custom module>"
#: Fuser.from_pretrained's own parameters, beside the FuseOptions fields it takes (``**fields``):
#: guessed at for a typo. Read from its signature, so that a new parameter is guessed at too.
_FROM_PRETRAINED_PARAMETERS = tuple(name for name, p in inspect.signature(Fuser.from_pretrained).parameters.items()
                                    if p.kind is not inspect.Parameter.VAR_KEYWORD)
#: What a Fuser is made with beside its options (from_pretrained's parameters, the dataclass's fields):
#: a call given one of them is told to make the Fuser with it (:func:`_misplaced`).
_FUSER_SETTINGS = (*_FROM_PRETRAINED_PARAMETERS, "model")

__all__ = ["Fuser", "Fusion", "Selection", "Decomposition", "resolve_device", "input_ranking", "SizeMismatchError",
           "FusionInputError", "FusionTypeError", "OptionsError",
           # re-exported from defusion.fusion.options, where they are defined
           "StackOrder", "STACK_ORDERS", "InputOrder", "INPUT_ORDERS", "DEFAULT_SCALE", "DEFAULT_UNIQUE_GAIN",
           "MAX_UNIQUE_GAIN", "MAX_DETAIL_GAIN", "Task", "TASKS", "TASK_OPTIONS", "PAPER_OPTIONS", "SOURCES_SCALE",
           "MIN_TILE", "smallest_tile", "TASK_FIELDS", "check_unique_gain", "check_detail_gain", "FuseOptions",
           "default_scale", "task_options"]
