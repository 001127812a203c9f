"""Progress on stderr that reads well wherever it goes: a tqdm bar on a terminal, and a plain line
now and then where stderr is a file, a pipe or a scheduler's log.

tqdm redraws its bar with ``\\r``: a terminal shows one line, but a log file keeps every redraw on
one "line" (kilobytes for a 40-pair folder run), and a job's log shows nothing readable until the
end. :func:`progress_bar` picks: a terminal that redraws a line gets tqdm itself, anything else (a dumb
terminal, ``TERM=dumb``, among them) a :class:`LogProgress`,
which takes tqdm's calls (iteration, ``update``, ``set_postfix``, ``close``, ``with``) and writes a
whole line at most every :data:`LINE_SECONDS` seconds, once :data:`LINE_FRACTION` of the work has
passed or :data:`QUIET_SECONDS` have (a long job's log still moves), and one at the end: ``fusing: 12/40 pairs (30%), 8 s elapsed, about 19 s left``.
A slow first step (:data:`FIRST_LINE_SECONDS`) is said at once, so a long job's log gives its time left
early, not minutes in. A library fusion's bar (``Fuser.fuse(..., progress=True)``: :func:`pass_progress`)
is picked by the same rule, and a Jupyter notebook keeps ``tqdm.auto``'s bar (its widget with ipywidgets).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterable, Iterator, TextIO, TypeVar

if TYPE_CHECKING:
    from tqdm import tqdm

#: A log line is written no more often than this many seconds...
LINE_SECONDS = 30.0
#: ...nor before this fraction of the total has passed since the last one (a short job: at most
#: 1 / LINE_FRACTION lines and the last)...
LINE_FRACTION = 0.1
#: ...unless this many seconds have passed without a line (a job of hours: a line every 5 minutes).
QUIET_SECONDS = 300.0
#: A first step that took this many seconds or more is said at once, with the time left at its pace: at
#: that pace a tenth of the work, or QUIET_SECONDS, is minutes away (an audit's 40-shot 24 MP focus stack,
#: 2106 tiles of about 23 s on a shared 2-core CPU, logged its first line after 5 min 19 s). Quicker steps
#: (a folder's small pairs, training steps) keep the usual rule.
FIRST_LINE_SECONDS = 5.0
#: Seconds in a minute and an hour, for the durations a line says.
_MINUTE, _HOUR = 60, 3600
#: The ``TERM`` of a terminal that cannot move the cursor (Emacs' shell, an editor's output pane, a serial
#: console; terminfo's ``dumb`` entry): a ``\r`` redraw there piles up as it does in a log.
DUMB_TERM = "dumb"
#: What a fusion's bar says and counts: its network passes (a pair's tiles, times a stack's pairwise
#: fusions), the one count that reaches its total for a pair, a tiled pair and a bracket alike (the web
#: UI's bar says them so too: "Fusing: 2 of 6 network passes").
FUSING, PASS_UNIT = "fusing", "pass"
#: The module a Jupyter kernel's shell runs in: ``tqdm.autonotebook`` takes it for a notebook (and draws its
#: widget there where ipywidgets is installed), and so does :func:`in_notebook`.
JUPYTER_KERNEL = "ipykernel.zmqshell"

T = TypeVar("T")


def is_terminal(stream: object) -> bool:
    """Whether ``stream`` is a terminal that redraws a line, where a tqdm bar reads well: a tty, but not
    under ``TERM=dumb`` (:data:`DUMB_TERM`), which cannot (a closed or fake stream is none either).
    ``NO_COLOR`` changes nothing here: a bar has no colour.

    Example:
        >>> import io
        >>> is_terminal(io.StringIO())
        False
    """
    try:
        tty = bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):  # no isatty, or a closed stream
        return False
    return tty and os.environ.get("TERM") != DUMB_TERM


def progress_bar(iterable: Iterable[T] | None = None, *, desc: str = "", total: float | None = None,
                 unit: str = "it", disable: bool = False, file: TextIO | None = None,
                 **bar_options: Any) -> tqdm | LogProgress[T]:
    """A progress bar over ``iterable`` (or of ``total`` steps, given by ``update``) on ``file``
    (default: stderr): tqdm where ``file`` is a terminal that redraws a line (:func:`is_terminal`;
    ``bar_options`` are tqdm's: ``leave``, ``position``, ``initial``...), else (a file, a pipe, a dumb
    terminal) a :class:`LogProgress` that writes plain lines; ``disable``:
    nothing at all (tqdm's disabled bar, the same calls doing nothing).

    Example:
        >>> import io
        >>> log = io.StringIO()
        >>> for _ in progress_bar(range(3), desc="fusing", unit="pair", file=log):
        ...     pass
        >>> log.getvalue().startswith("fusing: 3/3 pairs (100%), 0 s elapsed")
        True
    """
    file = sys.stderr if file is None else file
    if disable or is_terminal(file):
        from tqdm import tqdm

        return tqdm(iterable, desc=desc, total=total, unit=unit, disable=disable, file=file, **bar_options)
    return LogProgress(iterable, desc=desc, total=total, unit=unit, file=file,
                       initial=bar_options.get("initial", 0), leave=bar_options.get("leave", True))


class LogProgress(Generic[T]):
    """tqdm's interface, as plain lines for a log: one when at least :data:`LINE_SECONDS` seconds
    and :data:`LINE_FRACTION` of ``total`` have passed since the last, or :data:`QUIET_SECONDS`
    (time alone where there is no total), one after a first step of :data:`FIRST_LINE_SECONDS` or
    more, and one with the last count when the work ends or the bar is closed (unless ``leave``
    is False: a bar under another's, as tqdm clears it), with the ``set_postfix`` values at its end.
    No ``\\r``: each line is whole. The time left goes at the pace since the first step where
    there is one (what came before it, reading and aligning the sources, a runtime's first-pass set-up,
    is not the work's pace), else at the first step's. ``clock`` (seconds; default
    ``time.monotonic``) is for tests.

    Example:
        >>> import io
        >>> now = iter(range(0, 1000, 40))
        >>> log = io.StringIO()
        >>> with LogProgress(total=4, desc="training", unit="step", file=log, clock=lambda: next(now)) as bar:
        ...     for _ in range(4):
        ...         bar.set_postfix(loss="0.1234")
        ...         bar.update()
        >>> print(log.getvalue(), end="")
        training: 1/4 steps (25%), 40 s elapsed, about 2 min left, loss=0.1234
        training: 2/4 steps (50%), 80 s elapsed, about 80 s left, loss=0.1234
        training: 3/4 steps (75%), 2 min elapsed, about 40 s left, loss=0.1234
        training: 4/4 steps (100%), 2 min 40 s elapsed, loss=0.1234
    """

    def __init__(self, iterable: Iterable[T] | None = None, desc: str = "", total: float | None = None,
                 unit: str = "it", file: TextIO | None = None, initial: int = 0, leave: bool = True,
                 clock: Callable[[], float] | None = None) -> None:
        clock = clock or time.monotonic  # read now: a test may have replaced it
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.iterable, self.desc, self.total, self.unit = iterable, desc, total, unit
        self.file, self.leave, self.clock = file, leave, clock
        self.n = self.initial = self.said_n = initial
        self.started = self.said_at = clock()
        self.first: tuple[float, float] | None = None  # (time, count) at the first step's end
        self.postfix = ""
        self.closed = False

    def __iter__(self) -> Iterator[T]:
        if self.iterable is None:
            raise TypeError("LogProgress was given no iterable; count with update()")
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __len__(self) -> int:
        return int(self.total or 0)

    def __enter__(self) -> LogProgress[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        """Count ``n`` more; a line where it is due (the last count's at once, unless ``leave`` is False)."""
        self.n += n
        now = self.clock()
        slow_first = self.first is None and self.total is not None and now - self.started >= FIRST_LINE_SECONDS
        if self.first is None:
            self.first = (now, self.n)
        finished = self.leave and self.total is not None and self.n >= self.total
        quiet = now - self.said_at
        due = quiet >= LINE_SECONDS and (not self.total or quiet >= QUIET_SECONDS
                                          or self.n - self.said_n >= LINE_FRACTION * self.total)
        if finished or due or slow_first:
            self._say(now, last=finished)

    def set_postfix(self, ordered_dict: dict[str, object] | None = None, refresh: bool = True,
                    **values: object) -> None:
        """Values said at the end of each line (a training run's loss), as ``key=value`` as tqdm shows them."""
        values = {**(ordered_dict or {}), **values}
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        """``text`` said at the end of each line, as tqdm shows it after its bar."""
        self.postfix = text

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """What each line starts with (``desc``: the work, e.g. "fusing")."""
        self.desc = desc or ""

    def refresh(self) -> None:
        """tqdm redraws its bar; a log's lines are written when due."""

    def close(self) -> None:
        """The last count's line, where it was not said yet (and ``leave``); once however often called."""
        if self.closed:
            return
        self.closed = True
        if self.leave and self.n != self.said_n:
            self._say(self.clock(), last=True)

    def line(self, now: float, last: bool = False) -> str:
        """The line for the count as it is at ``now`` (``last``: no time left is guessed)."""
        count = f"{_number(self.n)}/{_number(self.total)}" if self.total else _number(self.n)
        noun = self.unit if (self.total or self.n) == 1 else plural_unit(self.unit)
        parts = [f"{count} {noun}" + (f" ({int(100 * self.n / self.total)}%)" if self.total else "")]
        elapsed = now - self.started
        parts.append(f"{duration(elapsed)} elapsed")
        if not last and self.total and self.n < self.total:
            pace = self._pace(now)
            if pace is not None:
                parts.append(f"about {duration(pace * (self.total - self.n))} left")
        if self.postfix:
            parts.append(self.postfix)
        return (f"{self.desc}: " if self.desc else "") + ", ".join(parts)

    def _pace(self, now: float) -> float | None:
        """Seconds a step: since the first step's end where steps have ended since, else from the start;
        None before any step."""
        if self.first is not None and self.n > self.first[1]:
            return (now - self.first[0]) / (self.n - self.first[1])
        done = self.n - self.initial
        return (now - self.started) / done if done > 0 else None

    def _say(self, now: float, last: bool) -> None:
        print(self.line(now, last), file=self.file or sys.stderr, flush=True)
        self.said_n, self.said_at = self.n, now


@contextlib.contextmanager
def pass_progress(total: int, on_tile: Callable[[], None] | None = None,
                  show: bool = False) -> Iterator[Callable[[], None] | None]:
    """What to call after each of a fusion's ``total`` network passes: ``on_tile`` itself, or with
    ``show`` a function that also moves a bar over them on stderr ("fusing", counted in passes), closed
    however the fusion ends (an error, or one ``on_tile`` raises to stop it) so that no half-drawn bar is
    left behind. The bar is picked as ``defusion fuse`` picks its own (:func:`pass_bar`): tqdm where
    stderr redraws a line, plain lines in a log, a pipe or a dumb terminal.

    Example:
        >>> import io, contextlib
        >>> passes, err = [], io.StringIO()
        >>> with contextlib.redirect_stderr(err), pass_progress(2, lambda: passes.append(1), show=True) as tick:
        ...     tick(); tick()
        >>> len(passes), err.getvalue().startswith("fusing: 2/2 passes (100%), 0 s elapsed")
        (2, True)
    """
    if not show:
        yield on_tile
        return
    bar = pass_bar(total)

    def tick() -> None:
        bar.update()
        if on_tile is not None:
            on_tile()

    try:
        yield tick
    finally:
        bar.close()


def pass_bar(total: int) -> tqdm | LogProgress[Any]:
    """A bar over a library fusion's ``total`` network passes on stderr (:func:`pass_progress`), by the
    rule of :func:`progress_bar`, which ``defusion fuse`` draws its own by: ``tqdm.auto``'s bar where stderr
    redraws a line, a terminal (:func:`is_terminal`) or a Jupyter notebook's output (:func:`in_notebook`:
    a widget where ipywidgets is installed, else text the notebook redraws, without tqdm.auto's
    "IProgress not found" warning), else (a log, a pipe,
    ``TERM=dumb``) a :class:`LogProgress`, whose whole lines a log keeps readable.

    Example:
        >>> import io, contextlib
        >>> with contextlib.redirect_stderr(io.StringIO()):
        ...     type(pass_bar(6)).__name__
        'LogProgress'
    """
    if in_notebook() and importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm as widget

        return widget(total=total, desc=FUSING, unit=PASS_UNIT, file=sys.stderr)
    if in_notebook() or is_terminal(sys.stderr):  # no ipywidgets: tqdm.auto would warn "IProgress not found"
        from tqdm.std import tqdm as text_bar

        return text_bar(total=total, desc=FUSING, unit=PASS_UNIT, file=sys.stderr)
    return LogProgress(total=total, desc=FUSING, unit=PASS_UNIT, file=sys.stderr)


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (notebook, JupyterLab, VS Code, Colab), told as
    ``tqdm.autonotebook`` tells it (:data:`JUPYTER_KERNEL` imported): its stderr is no terminal, yet its
    output area redraws a tqdm bar's line.

    Example:
        >>> in_notebook()  # a doctest runs in no kernel
        False
    """
    return JUPYTER_KERNEL in sys.modules


def plural_unit(unit: str) -> str:
    """``unit`` counted more than once, as a line says it.

    Example:
        >>> plural_unit("pair"), plural_unit("pass"), plural_unit("step")
        ('pairs', 'passes', 'steps')
    """
    return f"{unit}es" if unit.endswith(("s", "x", "ch", "sh")) else f"{unit}s"


def _number(count: float) -> str:
    """A count as said: 12, 1000000, 2.5 (tqdm counts in floats where ``update`` is given them)."""
    return str(int(count)) if float(count).is_integer() else f"{count:g}"


def duration(seconds: float) -> str:
    """``seconds`` as a line says them: seconds under two minutes, then minutes, then hours.

    Example:
        >>> duration(8.4), duration(119), duration(160), duration(3725), duration(7200)
        ('8 s', '119 s', '2 min 40 s', '1 h 2 min', '2 h')
    """
    whole = round(seconds)
    if whole < 2 * _MINUTE:
        return f"{whole} s"
    if whole < _HOUR:
        minutes, rest = divmod(whole, _MINUTE)
        return f"{minutes} min {rest} s" if rest else f"{minutes} min"
    hours, rest = divmod(whole, _HOUR)
    return f"{hours} h {rest // _MINUTE} min" if rest // _MINUTE else f"{hours} h"


__all__ = ["DUMB_TERM", "FIRST_LINE_SECONDS", "FUSING", "JUPYTER_KERNEL", "LINE_FRACTION", "LINE_SECONDS", "PASS_UNIT",
           "QUIET_SECONDS", "LogProgress", "duration", "in_notebook", "is_terminal", "pass_bar", "pass_progress",
           "plural_unit", "progress_bar"]
