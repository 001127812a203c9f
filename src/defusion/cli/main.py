"""The ``defusion`` command: one sub-command per module in this package."""

from __future__ import annotations

import argparse
import codecs
import difflib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from defusion import __version__
from defusion.cli.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, MEMORY_HINT, run_guarded, sigterm_as_interrupt
from defusion.io.front_end import reading_for
from defusion.io.notes import as_lines

#: Sub-command name -> module in defusion.cli. build_parser imports every one for its options, so they
#: import only light modules at their top (no PyTorch, OpenCV, FastAPI, ...: a fast --help and usage error,
#: tests/cli/test_main_cli.py checks) and the rest in the functions that run the command.
COMMANDS = {
    "fuse": "fuse",
    "train": "train",
    "info": "info",
    "metrics": "metrics",
    "bench": "bench",
    "serve": "serve",
    "export": "export",
    "video": "video",
    "calibrate": "calibrate",
    "ui": "ui",
}
#: What to do on running out of memory, for the commands with options that cut what they hold at once
#: (memory grows with the pixels: a 24 MP pair at --task mff peaked at 2.5 GB on a 2-core AMD EPYC CPU, and
#: :func:`defusion.cli.fuse.peak_memory` expects about 7.8 GB (--scale 1) or 5.2 GB (--scale 2) for a 96 MP
#: one, under the default bound; fuse
#: warns before the work where that is over what is available, with its own advice, fuse.PEAK_MEMORY_HINT:
#: tiles and --scale 1 bound the network's share, not the images' buffers); the others say
#: :data:`~defusion.cli.errors.MEMORY_HINT`.
_FUSING_MEMORY_HINT = ("lower --max-pixels to refuse inputs this large, fuse in tiles (--tile 512), or use "
                       "--scale 1 (the network on the sources as they are)")
MEMORY_HINTS = {"fuse": _FUSING_MEMORY_HINT + "; a stack of many images: fuse it in parts, then their results "
                        "(defusion fuse says how before the work)", "video": _FUSING_MEMORY_HINT}


#: The argument after which every argument is a positional, even one starting with '-'.
END_OF_OPTIONS = "--"
#: How output streams that cannot encode every character write the ones they cannot: ``\u2191`` for ↑,
#: where the default ("strict") stops the command with a UnicodeEncodeError.
STREAM_ERRORS = "backslashreplace"


class _Refused(Exception):
    """A usage error met while :class:`DefusionParser` tries an intermixed parse."""


class DefusionParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, for the top level and (as the class
    ``add_subparsers`` makes) every sub-command: ``defusion fuse: error: unrecognized argument
    --tsk (did you mean --task?); see defusion fuse --help``, exit status 2. The full usage
    (twenty lines for ``fuse``) buried the one line that matters; ``--help`` still shows it.

    Unrecognized arguments are blamed on the sub-command they were given to, with the closest
    option it has, not on the top level (whose usage knows no sub-command options).
    """

    #: While set, :meth:`error` raises :class:`_Refused` instead of exiting: an intermixed parse
    #: that fails is tried again the classic way, whose messages the user knows.
    _refusing = False
    #: Set while the intermixed parse runs: it calls parse_known_args itself (Python < 3.13).
    _intermixing = False

    def error(self, message: str) -> NoReturn:
        if self._refusing:
            raise _Refused(message)
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            owner = self.chosen_subparser(parsed)
            owner.error(owner.unrecognized(extras))
        return parsed

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        """Parse positionals wherever they are among the options (``fuse a.jpg -o f.png b.jpg``: an
        image appended to an edited command), as ``parse_intermixed_args`` does, for a sub-command;
        the top level (its sub-commands are a positional argparse cannot intermix) parses as usual.
        Where the intermixed parse is refused, the classic parse says why, in its usual words (both
        missing positionals and options in one line); where that one passes, the intermixed refusal
        is said. After ``--`` every argument is a positional (``fuse -o f.png -- -dash.png b.png``), which
        argparse's intermixed parse (Python 3.11) loses: see :func:`operands`."""
        args = list(sys.argv[1:] if args is None else args)
        if self._intermixing or not self.intermixable():
            return super().parse_known_args(args, namespace)
        args = operands(args)
        try:
            self._refusing = self._intermixing = True
            trial = argparse.Namespace(**vars(namespace)) if namespace is not None else None
            return self.parse_known_intermixed_args(args, trial)
        except _Refused as refused:
            message = str(refused)
        finally:
            self._refusing = self._intermixing = False
        parsed = super().parse_known_args(args, namespace)
        self.error(message)  # the classic parse refused nothing: the intermixed one's reason
        return parsed  # not reached: error() exits

    def intermixable(self) -> bool:
        """Whether positionals may be parsed among the options: a parser with positionals, none of
        them a sub-command (or argparse.REMAINDER) nor in a mutually exclusive group, which
        ``parse_intermixed_args`` refuses."""
        positionals = self._get_positional_actions()
        grouped = {id(a) for group in self._mutually_exclusive_groups for a in group._group_actions}
        return bool(positionals) and not any(
            a.nargs in (argparse.PARSER, argparse.REMAINDER) or id(a) in grouped for a in positionals)

    def chosen_subparser(self, parsed: argparse.Namespace) -> "DefusionParser":
        """The parser of the sub-command ``parsed`` ran (recursively), or this one."""
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                chosen = action.choices.get(getattr(parsed, action.dest, None))
                if isinstance(chosen, DefusionParser):
                    return chosen.chosen_subparser(parsed)
        return self

    def unrecognized(self, extras: list[str]) -> str:
        """The message for arguments this parser does not know: the options among them (else all),
        each with the closest option of this parser where one is close.

        Example:
            >>> p = DefusionParser(prog="demo")
            >>> _ = p.add_argument("--task")
            >>> p.unrecognized(["--tsk", "mef"])
            'unrecognized argument --tsk (did you mean --task?)'
        """
        named = [a for a in extras if a.startswith("-")] or extras
        known = [s for action in self._actions for s in action.option_strings]
        parts = []
        for arg in named:
            close = difflib.get_close_matches(arg.split("=", 1)[0], known, n=1) if arg.startswith("-") else []
            parts.append(f"{arg} (did you mean {close[0]}?)" if close else arg)
        return f"unrecognized argument{'s' if len(named) > 1 else ''} {', '.join(parts)}"


def operands(args: list[str]) -> list[str]:
    """A sub-command's arguments with ``--`` resolved: what follows it is a file name even where it
    starts with a dash, so it is written as one that does not (``./-dash.png``, the same file) and the
    ``--`` is dropped; the names stay positionals wherever the options are, and a misspelt option
    before ``--`` is still told as one. Every positional of the sub-commands that take them is a path.

    Example:
        >>> operands(["a.png", "-o", "f.png", "--", "-dash.png", "b.png"])
        ['a.png', '-o', 'f.png', './-dash.png', 'b.png']
    """
    if END_OF_OPTIONS not in args:
        return args
    cut = args.index(END_OF_OPTIONS)
    return args[:cut] + [f"./{a}" if a.startswith("-") else a for a in args[cut + 1:]]


def build_parser() -> argparse.ArgumentParser:
    """The ``defusion`` parser: one sub-parser (a :class:`DefusionParser` too) per command."""
    parser = DefusionParser(prog="defusion", description="DeFusion image fusion toolkit")
    parser.add_argument("--version", action="version", version=f"defusion {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"defusion.cli.{module_name}")
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def tolerate_unencodable(stream: object) -> bool:
    r"""Make ``stream`` write the characters its encoding lacks as escapes (:data:`STREAM_ERRORS`)
    rather than fail; whether it was changed. Output redirected to a file or pipe on Windows is
    encoded in the locale's code page (cp1252): a file name in Japanese, or the arrows of a benchmark
    summary (↑, ↓), once stopped ``defusion bench`` and ``defusion calibrate`` (before it saved the
    rig) with "'charmap' codec can't encode". A stream in a UTF (which encodes everything), one
    already told what to do with such characters (PYTHONIOENCODING=cp1252:replace, or :strict), or one without
    ``reconfigure`` (a test harness's) is left as it is.

    Example:
        >>> import io
        >>> stream = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
        >>> tolerate_unencodable(stream)
        True
        >>> _ = stream.write("EN \u2191"); stream.flush()
        >>> stream.buffer.getvalue()
        b'EN \\u2191'
        >>> tolerate_unencodable(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
        False
    """
    encoding = getattr(stream, "encoding", None)
    reconfigure = getattr(stream, "reconfigure", None)
    if not isinstance(encoding, str) or reconfigure is None or getattr(stream, "errors", "strict") != "strict":
        return False
    if ":" in os.environ.get("PYTHONIOENCODING", ""):  # errors chosen by the user (cp1252:strict): theirs
        return False
    try:
        if codecs.lookup(encoding).name.startswith("utf"):
            return False
        reconfigure(errors=STREAM_ERRORS)
    except (LookupError, ValueError, OSError):  # an unknown encoding; a closed or detached stream
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` names; its exit status. SIGTERM (a scheduler's, ``docker stop``'s,
    systemd's, ``timeout``'s stop) stops every command as Ctrl-C does, with its Ctrl-C message (what
    was kept, how to go on), and exit status 143 (:data:`~defusion.cli.errors.EXIT_TERMINATED`)
    where Ctrl-C's is 130. Output in an encoding that lacks a character says it as an escape
    (:func:`tolerate_unencodable`), for every command, from ``--help`` on. What the library has to
    say (:mod:`defusion.io.notes`) is said as ``defusion: warning: ...`` / ``defusion: note: ...`` lines
    on stderr, once each, not as the Python warnings a library caller gets."""
    for stream in (sys.stdout, sys.stderr):
        tolerate_unencodable(stream)
    args = build_parser().parse_args(argv)
    module = args._module
    # readers' hints name this command line's options; what the library says is said as lines on stderr
    with sigterm_as_interrupt() as term, reading_for("cli"), as_lines():
        status = run_guarded(lambda: module.run(args), getattr(module, "EXPECTED_ERRORS", ()),
                             MEMORY_HINTS.get(args.command, MEMORY_HINT), getattr(module, "FAILURE_ERRORS", ()))
    return EXIT_TERMINATED if term.received and status == EXIT_INTERRUPTED else status


if __name__ == "__main__":
    sys.exit(main())
