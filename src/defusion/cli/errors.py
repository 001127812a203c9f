"""Turning expected failures into one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import stat
import sys
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Callable

from defusion.errors import bug_hint, runtime_out_of_memory, said_gone_on, tracebacks_asked

#: Exit status for bad input or usage (argparse uses 2 as well): the command line or a file must change.
EXIT_USAGE = 2
#: Exit status for a run that failed on good input: it ran out of memory, a folder's pair was skipped,
#: the reader of its output went away. Scripts tell it from :data:`EXIT_USAGE`.
EXIT_FAILED = 1
#: Exit status of a run stopped by Ctrl-C (SIGINT): 128 + the signal's number, as a shell says it.
EXIT_INTERRUPTED = 130
#: Exit status of a run stopped by SIGTERM (a scheduler's, ``docker stop``'s, systemd's, ``timeout``'s
#: stop): 128 + 15, as a shell says it.
EXIT_TERMINATED = 128 + signal.SIGTERM
#: What to do on running out of memory, for a command that names nothing better.
MEMORY_HINT = "use smaller inputs, or close other programs to free memory"
#: Characters of the allocator's own message kept in the line said.
_MEMORY_DETAIL_CHARS = 160
#: Whether this is Windows, where writing to a pipe whose reader went away may raise OSError(EINVAL)
#: rather than BrokenPipeError (CPython gh-79935); a module constant, that tests set.
WINDOWS = os.name == "nt"


class UserError(Exception):
    """A problem the user can fix (bad file, bad option); shown without a traceback."""


def run_guarded(fn: Callable[[], int | None], expected: tuple[type[BaseException], ...] = (),
                memory_hint: str = MEMORY_HINT, failures: tuple[type[BaseException], ...] = ()) -> int:
    """Run ``fn``; user-facing errors become ``defusion: error: ...`` and exit status 2 (:data:`EXIT_USAGE`);
    running out of memory (a MemoryError, numpy's or PyTorch's) is said alike, with ``memory_hint``: what
    to do, in the command's own options, and exit status 1 (:data:`EXIT_FAILED`: the input may be fine,
    the machine had too little memory for it); so are ``failures``, the command's own errors of a run that
    failed on good input (a training job whose worker died). Anything else is a bug and keeps its traceback.
    With ``DEFUSION_TRACEBACK=1`` (:data:`defusion.errors.TRACEBACK_VARIABLE`) each error said prints its traceback
    first; one a library raised (not a defusion error) says so (:func:`error_line`)."""
    try:
        return _run_flushed(fn)
    except KeyboardInterrupt:
        close_progress_bars()
        print("defusion: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into e.g. `head`, which closed it: not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python flushes stdout again at exit
        return EXIT_FAILED
    except failures as exc:
        _say_error(error_line(exc))
        return EXIT_FAILED
    except (UserError, *expected) as exc:
        _say_error(error_line(exc))
        return EXIT_USAGE
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        _say_error(f"defusion: error: {out_of_memory_message(exc, memory_hint)}")
        return EXIT_FAILED


def _say_error(line: str) -> None:
    """Say ``line`` on stderr after the progress bars are closed, the traceback of the error being
    handled printed before it where :data:`defusion.errors.TRACEBACK_VARIABLE` asks for it."""
    close_progress_bars()
    if tracebacks_asked():
        traceback.print_exc()
    print(line, file=sys.stderr)


def error_line(exc: BaseException) -> str:
    """The one line that says ``exc``: ``defusion: error: `` and its message; for an error that is no
    refusal of defusion's own (a third-party library's, or a compiled call's in defusion's code), a hint
    that it may be a bug, and how to see where it was raised (:func:`defusion.errors.bug_hint`). An
    OSError (a file's permissions, a missing file, a full disk) is the user's file or machine speaking,
    and gets none.

    Example:
        >>> error_line(ValueError("bad value"))
        'defusion: error: bad value'
    """
    return f"defusion: error: {exc}{bug_hint(exc, (UserError,))}"


def skip_detail(exc: BaseException) -> str:
    """What a line saying that one item of many was skipped on ``exc`` (a folder run's pair) gives as
    the reason: :func:`defusion.errors.said_gone_on`, the command's :class:`UserError` a refusal too.

    Example:
        >>> skip_detail(ValueError("sizes differ"))
        'sizes differ'
    """
    return said_gone_on(exc, (UserError,))


def out_of_memory_message(exc: BaseException, hint: str = MEMORY_HINT) -> str:
    """What a command says when the machine ran out of memory (``exc``, the allocator's error): that,
    and ``hint``, what to do in the command's own options.

    Example:
        >>> out_of_memory_message(MemoryError("Unable to allocate 8 GiB"), "give a smaller --size")
        'out of memory (Unable to allocate 8 GiB); give a smaller --size'
    """
    return f"out of memory ({_memory_detail(exc)}); {hint}"


def _run_flushed(fn: Callable[[], int | None]) -> int:
    """``fn``'s exit status, standard output flushed after it (here, so that a closed pipe is caught by
    :func:`run_guarded` and not at exit); a closed pipe said in Windows' words (:func:`reader_went_away`)
    by that flush raised as the BrokenPipeError it is. Only the flush's: an EINVAL from within ``fn``
    may be anything's (a socket, a device), and stays an error said as one."""
    status = fn() or 0
    try:
        sys.stdout.flush()
    except OSError as exc:
        if not isinstance(exc, BrokenPipeError) and reader_went_away(exc):
            raise BrokenPipeError(errno.EPIPE, f"the reader of the output went away ({exc})") from exc
        raise
    return status


def reader_went_away(exc: BaseException) -> bool:
    """Whether ``exc`` says that the program reading the output (``| head``, ``| more``) closed it: a
    BrokenPipeError, or on Windows (:data:`WINDOWS`) an OSError EINVAL naming no file while standard
    output is a pipe, which is how a write to a closed pipe fails there (CPython gh-79935). A bad
    file name is EINVAL there too, but names its file: it stays an error said as one.

    Example:
        >>> bad_name = OSError(errno.EINVAL, "Invalid argument", "a?.png")
        >>> reader_went_away(BrokenPipeError()), reader_went_away(bad_name)
        (True, False)
    """
    if isinstance(exc, BrokenPipeError):
        return True
    if not (WINDOWS and isinstance(exc, OSError) and exc.errno == errno.EINVAL and exc.filename is None):
        return False
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # no stdout, or one without a file (a test's capture)
        return False


class TermSignal:
    """Whether SIGTERM arrived while :func:`sigterm_as_interrupt` was in force (``received``)."""

    received = False


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[TermSignal]:
    """While inside, SIGTERM stops the command as Ctrl-C does: it raises
    :class:`~defusion.training.errors.Terminated` (a KeyboardInterrupt) in the main thread, so that what
    each command does on Ctrl-C (say what is kept, remove a partial video, save a checkpoint) runs
    instead of the process dying mid-line; the :class:`TermSignal` yielded says it came. A second
    SIGTERM while that clean-up runs is ignored (it would cut it short with a traceback; SIGKILL still
    stops the process at once). SIGTERM's previous handler is restored after. Outside the main thread
    (which alone may set handlers) nothing changes.

    Example:
        >>> with sigterm_as_interrupt() as term:
        ...     try:
        ...         signal.raise_signal(signal.SIGTERM)
        ...     except KeyboardInterrupt:
        ...         pass
        >>> term.received
        True
    """
    from defusion.training.errors import Terminated  # light (no PyTorch): training's own SIGTERM stop

    term = TermSignal()

    def stop(signum: int, frame: FrameType | None) -> None:
        if term.received:  # a second one while the first's clean-up runs: that clean-up goes on
            return
        term.received = True
        raise Terminated

    if threading.current_thread() is not threading.main_thread():
        yield term
        return
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield term
    finally:
        signal.signal(signal.SIGTERM, previous)


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says the machine ran out of memory: a MemoryError (numpy's _ArrayMemoryError is
    one), torch.OutOfMemoryError, or a RuntimeError or onnxruntime error saying so."""
    return isinstance(exc, MemoryError) or runtime_out_of_memory(exc)


def _memory_detail(exc: BaseException) -> str:
    """The allocator's message on one line, shortened (PyTorch's runs over several), or the error's type.

    Example:
        >>> _memory_detail(MemoryError("Unable to allocate 1.11 GiB for\\n an array"))
        'Unable to allocate 1.11 GiB for an array'
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= _MEMORY_DETAIL_CHARS else text[:_MEMORY_DETAIL_CHARS - 3].rstrip() + "..."


def close_progress_bars() -> None:
    """Close the progress bars left open by an interrupt or an error, innermost first: a bar is
    drawn without a line end, so what is said next would be glued to it (``...s/tile]defusion:
    interrupted``); closed, a bar is cleared or ends its line."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is None:  # no bar was ever drawn
        return
    bars = list(getattr(tqdm.tqdm, "_instances", ()))
    for bar in sorted(bars, key=lambda bar: -abs(getattr(bar, "pos", 0))):
        bar.close()
