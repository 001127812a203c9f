"""Command lines printed for the user to paste (a resume, a fusion with a rig just calibrated),
quoted for the shell of the machine they run on: a path with a space must stay one argument.

Example:
    >>> command_line(["defusion", "train", "--data", "my images"], windows=False)
    "defusion train --data 'my images'"
"""

from __future__ import annotations

import os
import shlex
import subprocess


def _on_windows(windows: bool | None) -> bool:
    return os.name == "nt" if windows is None else windows


def shell_word(text: str, windows: bool | None = None) -> str:
    """``text`` quoted where needed to be one argument: POSIX shells' quoting, or on Windows
    (``windows``; None: this machine's OS) the C runtime's double quotes (cmd has no single quotes;
    PowerShell takes both).

    Example:
        >>> shell_word("ir.png"), shell_word("my shots/ir.png", windows=False)
        ('ir.png', "'my shots/ir.png'")
        >>> shell_word("my shots/ir.png", windows=True)
        '"my shots/ir.png"'
    """
    return subprocess.list2cmdline([text]) if _on_windows(windows) else shlex.quote(text)


def command_line(words: list[str], windows: bool | None = None) -> str:
    """``words`` as one command line to paste, each quoted as :func:`shell_word` quotes it.

    Example:
        >>> command_line(["ls", "my runs/r1"], windows=False), command_line(["dir", "my runs/r1"], windows=True)
        ("ls 'my runs/r1'", 'dir "my runs/r1"')
    """
    return subprocess.list2cmdline(words) if _on_windows(windows) else shlex.join(words)


__all__ = ["command_line", "shell_word"]
