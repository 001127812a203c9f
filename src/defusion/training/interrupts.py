"""How a run stops early and still keeps its steps: SIGTERM's handler (said as "terminated"), the
guard that holds an interrupt until the step it lands in is counted, and the one-line gist of a
failure with what it left to resume from.
"""

from __future__ import annotations

import re
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any, Callable, NoReturn

import torch

from defusion.io.commands import command_line
from defusion.training.checkpoint import checkpoint_step
from defusion.training.errors import Terminated


def interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    """SIGTERM's handler in training (a scheduler's or `kill`'s stop): saves a checkpoint like Ctrl-C,
    and is said as "terminated" (exit status 143, not Ctrl-C's 130)."""
    raise Terminated


class StepGuard:
    """Counts the optimizer updates begun, and holds interrupts while one is under way.

    ``begun`` lets a failure tell whether the model and the optimizer are still exactly those of the
    last completed step (no update begun since). An interrupt (Ctrl-C, SIGTERM, the data loader's
    error for a worker that died, which torch raises from its SIGCHLD handler) that lands between the
    start of a step's update and the end of its bookkeeping would save step N+1's weights and
    optimizer labelled step N, and a resume would train that step twice; so from the update's start
    (an optimizer pre-hook) until :meth:`done`, the handlers of the signals :meth:`route` sends here
    are held, and run when the step is counted. Before the update (loading data, forward, backward,
    compiling) an interrupt acts at once: nothing of the step is in the model or the optimizer yet."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.begun = 0
        self._updating = False
        self._held: list[tuple[Callable, int]] = []
        self._previous: dict[int, object] = {}
        optimizer.register_step_pre_hook(self._begin)

    def _begin(self, optimizer: torch.optim.Optimizer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.begun += 1
        self._updating = True

    def route(self, signum: int, action: Callable | None = None) -> None:
        """Pass ``signum`` through the hold to ``action`` (default: its handler now, if Python's);
        once per signal, and only in the main thread (the only one that may set handlers)."""
        if signum in self._previous or threading.current_thread() is not threading.main_thread():
            return
        action = action or signal.getsignal(signum)
        if not callable(action):  # the default action or ignored: nothing in Python to hold
            return

        def arrived(number: int, frame: FrameType | None) -> None:
            if self._updating:
                self._held.append((action, number))
            else:
                action(number, frame)

        self._previous[signum] = signal.signal(signum, arrived)

    def done(self) -> None:
        """The step is complete and counted: run the handlers held meanwhile (an interrupt raises here)."""
        self._updating = False
        held, self._held = self._held, []
        for action, signum in held:
            action(signum, None)

    def ignore(self, signum: int) -> None:
        """Ignore ``signum`` from now until :meth:`restore`, if it is routed here."""
        if signum in self._previous:
            signal.signal(signum, signal.SIG_IGN)

    def restore(self) -> None:
        """Give every routed signal back its handler from before."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()


def first_sentence(exc: BaseException) -> str:
    """The gist of an error for a one-line message: its first sentence, without the source location
    that gloo puts first ("[.../pair.cc:553] Connection closed by peer ...")."""
    line = (str(exc).strip().splitlines() or [""])[0]
    line = re.sub(r"^\[[^\]]*\]\s*", "", line).split(". ")[0]
    return line or type(exc).__name__


def resume_command(data: str | Path, out: str | Path) -> str:
    """The command that goes on with the run in ``out`` on ``data`` from its checkpoint, to paste
    (:func:`~defusion.io.commands.command_line`: quoted for this machine's shell).

    Example:
        >>> import os
        >>> resume_command("data/my images", "runs/r1") if os.name != "nt" else None
        "defusion train --data 'data/my images' --out runs/r1 --resume"
    """
    return command_line(["defusion", "train", "--data", str(data), "--out", str(out), "--resume"])


def kept_checkpoint(ckpt_path: Path, resume: str = "--resume") -> str:
    """What is left of a run that stopped without saving: its last checkpoint, if any, and how to go
    on from it (``resume``: the command, :func:`resume_command`)."""
    try:
        step = checkpoint_step(ckpt_path) if ckpt_path.is_file() else None
    except (OSError, ValueError):
        step = None
    if step is None:
        return "no checkpoint was written yet"
    return f"the run's checkpoint at step {step} is kept (go on with {resume})"
