"""The base of the library's own errors, without dependencies (the standard library only): the
light error modules derive from it, and ``import defusion`` exports it. Also the categories of its
warnings (:class:`DefusionWarning`, :class:`DefusionNote`) and the wording errors share
(:func:`channels_first_hint`)."""

from __future__ import annotations

import os
import re
import sys
import traceback
from types import FrameType, TracebackType


class DefusionError(Exception):
    """Defusion refused its input or could not do what was asked; the message says what and how to fix it.

    Catch it to handle any of the library's own errors with one clause: a refused image, unusable
    weights, a rig, video, raw file, folder of shots or pairs, export or ONNX file, a training stop.
    Each also keeps the builtin it has always been (``ValueError`` for a refused input, ``TypeError``
    for an argument of the wrong type, ...), so ``except ValueError`` still works.

    Example:
        >>> from defusion import Fuser  # doctest: +SKIP
        >>> try:  # doctest: +SKIP
        ...     Fuser.from_pretrained().fuse(image)  # one image: refused
        ... except DefusionError as exc:
        ...     print(exc)
        fusion needs at least two images
        >>> from defusion import DefusionError
        >>> from defusion.io.errors import ImageReadError
        >>> issubclass(ImageReadError, DefusionError) and issubclass(ImageReadError, ValueError)
        True
    """


class DefusionWarning(UserWarning):
    """What defusion says to a Python caller where the result may not be what they expect (an image
    fused nearly flat, alpha ignored, a file left out): a warning, so that ``warnings`` filters it.
    The base of every warning defusion makes (:class:`DefusionNote` included), so one filter silences
    them all; a ``UserWarning``, so a filter of those does too. The ``defusion`` command says the same
    as ``defusion: warning: ...`` lines on stderr instead (:mod:`defusion.io.notes`).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():
        ...     warnings.filterwarnings("ignore", category=DefusionWarning)  # none of defusion's, notes included
        ...     warnings.warn("x.png has transparent pixels (alpha); alpha is ignored", DefusionWarning)
        >>> issubclass(DefusionNote, DefusionWarning) and issubclass(DefusionWarning, UserWarning)
        True
    """


class DefusionNote(DefusionWarning):
    """What defusion says to a Python caller that is only worth knowing, nothing to fix (only the
    first frame of a file read, a stretch measured): ``warnings.filterwarnings("ignore",
    category=DefusionNote)`` keeps the :class:`DefusionWarning` s and silences these. The ``defusion``
    command says them as ``defusion: note: ...`` lines."""


def channels_first_hint(shape: tuple[int, ...], channels: tuple[int, ...]) -> str:
    """The clause an error about an image's shape ends with where ``shape`` looks channels-first
    (``CxHxW``, or a batch of one, ``1xCxHxW``, with C in ``channels`` and the last axis no channel
    count), saying how to pass it channels-last; ``""`` otherwise. One wording for every function that
    takes pixel arrays; none transposes by guess.

    Example:
        >>> channels_first_hint((3, 240, 320), (1, 3))
        ', which looks channels-first (CxHxW): pass np.moveaxis(x, 0, -1), or x.permute(1, 2, 0) for a tensor'
        >>> channels_first_hint((240, 320, 5), (1, 3))
        ''
    """
    if len(shape) == 3 and shape[0] in channels and shape[2] not in channels:
        return ", which looks channels-first (CxHxW): pass np.moveaxis(x, 0, -1), or x.permute(1, 2, 0) for a tensor"
    if len(shape) == 4 and shape[0] == 1 and shape[1] in channels and shape[3] not in channels:
        return (", which looks like a batch of one channels-first image (1xCxHxW): pass np.moveaxis(x[0], 0, -1), "
                "or x[0].permute(1, 2, 0) for a tensor")
    return ""


#: The folder of the defusion package: a warning names the first caller outside it (:func:`caller_stacklevel`).
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def caller_stacklevel() -> int:
    """The ``stacklevel`` for ``warnings.warn`` of the first frame outside the defusion package, counted
    from the function calling this one: a warning then names the user's line, however deep in the
    library it is made (the metrics' and fusion's warnings of 8-bit values in 16 bits).

    Example:
        >>> caller_stacklevel() >= 1
        True
    """
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    return level


#: The environment variable that asks for the traceback of every error defusion says in a line: a
#: command's error, a folder run's pair skipped, a method that failed on a benchmark pair. Set to 1, a
#: one-line error (a bug said as a refusal, say) shows where it was raised, for a bug report.
TRACEBACK_VARIABLE = "DEFUSION_TRACEBACK"
#: The values of :data:`TRACEBACK_VARIABLE` that ask for tracebacks (any case); anything else, "0",
#: "false" or "off" included, asks for none.
TRACEBACK_ON = ("1", "true", "yes", "on")
#: The folders pip installs third-party packages into (``site-packages``; Debian's Python: ``dist-packages``).
_THIRD_PARTY_DIRS = ("site-packages", "dist-packages")
#: The library's packages, whose refusals are all :class:`DefusionError` s (tests/test_errors_contract.py
#: holds it): a builtin error raised in their code is a bug. The front ends (cli, serving, ui) say their
#: refusals in their own ways, builtins among them.
LIBRARY_PACKAGES = ("io", "metrics", "model", "fusion", "baselines", "data", "benchmark", "training")
#: What the line of an error that may be a bug ends with, after where it was raised.
_BUG_TAIL = f"if the input looks fine, this may be a defusion bug: {TRACEBACK_VARIABLE}=1 shows where; please report it"


def tracebacks_asked() -> bool:
    """Whether :data:`TRACEBACK_VARIABLE` asks for the traceback of each error said.

    Example:
        >>> import os
        >>> os.environ.get(TRACEBACK_VARIABLE) is not None or not tracebacks_asked()
        True
    """
    return os.environ.get(TRACEBACK_VARIABLE, "").strip().lower() in TRACEBACK_ON


def say_traceback() -> None:
    """Print the traceback of the error being handled on stderr (above any progress bar) where
    :data:`TRACEBACK_VARIABLE` asks for it: for an error said in a line and gone on from (a pair skipped,
    a method that failed on a pair), as the command's own errors print theirs."""
    if not tracebacks_asked():
        return
    text = traceback.format_exc().rstrip("\n")
    tqdm = sys.modules.get("tqdm")  # loaded where a bar may be drawn: its write keeps the bar below
    if tqdm is not None:
        tqdm.tqdm.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr)


def said_gone_on(exc: BaseException, refusals: tuple[type[BaseException], ...] = ()) -> str:
    """What a line saying that one item of many was left out on ``exc`` gives as the reason (a folder
    run's pair skipped, a method that failed on a benchmark pair): its message and :func:`bug_hint`'s
    clause; its traceback printed first where :data:`TRACEBACK_VARIABLE` asks (:func:`say_traceback`).

    Example:
        >>> said_gone_on(ValueError("sizes differ"))
        'sizes differ'
    """
    say_traceback()
    return f"{exc}{bug_hint(exc, refusals)}"


def raised_inside(tb: TracebackType | None) -> str | None:
    """The top-level name of the third-party package (``numpy``, ``torch``, ``cv2``, ``PIL``) whose
    code raised the error whose traceback is ``tb``: the innermost frame's file lies in a
    ``site-packages`` folder, outside defusion's own. None where defusion's code, the standard library's,
    or a C function called from them raised it (a C function adds no frame: its caller's is innermost).

    Example:
        >>> raised_inside(None) is None
        True
    """
    frame = _innermost(tb)
    if frame is None:
        return None
    path = os.path.abspath(frame.f_code.co_filename)
    if path.startswith(_PACKAGE_DIR + os.sep) or not set(_THIRD_PARTY_DIRS) & set(path.split(os.sep)):
        return None
    module = frame.f_globals.get("__name__") or os.path.basename(path)
    return str(module).split(".")[0]


def _innermost(tb: TracebackType | None) -> FrameType | None:
    """The frame where the error whose traceback is ``tb`` was raised (a C function's caller's)."""
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame


def bug_hint(exc: BaseException, refusals: tuple[type[BaseException], ...] = ()) -> str:
    """The clause a line saying ``exc`` ends with where ``exc`` may be a bug, not bad input: an error a
    third-party library raised (:func:`raised_inside`), or a builtin error raised in the code of the
    library's packages (:data:`LIBRARY_PACKAGES`), whose refusals are :class:`DefusionError` s (so a
    builtin there is a bug: a compiled call's, numpy's broadcasting, say). ``""`` for a
    :class:`DefusionError`, an OSError or running out of memory (the user's file or machine speaking)
    and ``refusals`` (a front end's own), and for an error raised elsewhere (a caller's code).

    Example:
        >>> bug_hint(DefusionError("a.png: cannot decode"))
        ''
    """
    if isinstance(exc, (OSError, MemoryError, DefusionError, *refusals)) or runtime_out_of_memory(exc):
        return ""  # the machine's memory speaking is no bug either
    library = raised_inside(exc.__traceback__)
    if library:
        return f" (raised inside {library}: {_BUG_TAIL})"
    frame = _innermost(exc.__traceback__)
    if frame is not None and _in_library(os.path.abspath(frame.f_code.co_filename)):
        return f" (raised in defusion's code, not as a refusal: {_BUG_TAIL})"
    return ""


def _in_library(path: str) -> bool:
    """Whether the file ``path`` is code of one of the :data:`LIBRARY_PACKAGES`."""
    return any(path.startswith(os.path.join(_PACKAGE_DIR, package) + os.sep) for package in LIBRARY_PACKAGES)


#: How the runtimes say they ran out of memory without a MemoryError: PyTorch's CPU allocator
#: ("DefaultCPUAllocator: can't allocate memory"), CUDA ("CUDA out of memory"), onnxruntime's arena
#: ("Failed to allocate memory").
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|out of memory|failed to allocate memory", re.IGNORECASE)


def runtime_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a runtime's way of saying it ran out of memory other than a MemoryError:
    torch.OutOfMemoryError, or a RuntimeError or onnxruntime error saying so. Asked of torch only
    where it is already imported (a CLI or an ONNX Runtime server may run without it).

    Example:
        >>> runtime_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory"))
        True
        >>> runtime_out_of_memory(RuntimeError("shape mismatch"))
        False
    """
    torch = sys.modules.get("torch")
    oom_type = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    runtime_error = isinstance(exc, RuntimeError) or type(exc).__module__.startswith("onnxruntime")  # not RuntimeErrors
    return runtime_error and bool(_OUT_OF_MEMORY.search(str(exc)))


__all__ = ["DefusionError", "DefusionNote", "DefusionWarning", "LIBRARY_PACKAGES", "TRACEBACK_ON", "TRACEBACK_VARIABLE",
           "bug_hint", "caller_stacklevel", "channels_first_hint", "raised_inside", "runtime_out_of_memory",
           "said_gone_on", "say_traceback", "tracebacks_asked"]
