"""Command lines printed for the user to paste (a resume, a fusion with a rig just calibrated),
quoted for the shell of the machine they run on: a path with a space must stay one argument.

Example:
    >>> command_line(["defusion", "train", "--data", "my images"], windows=False)
    "defusion train --data 'my images'"
"""

from __future__ import annotations

import os
import re
import shlex

#: Words cmd and PowerShell both take as they are: anything else (a space, ``&``, ``;``, ``%``, ``$``,
#: ``(``, a quote) is double-quoted on Windows.
_WINDOWS_SAFE = re.compile(r"[\w\-.:\\/=+@,]+")


def _on_windows(windows: bool | None) -> bool:
    return os.name == "nt" if windows is None else windows


def _windows_quoted(text: str) -> str:
    """``text`` in double quotes as the C runtime parses them back (a quote escaped, backslashes
    before one doubled; cmd and PowerShell then take ``&``, ``;``, ``|`` inside them literally)."""
    out, backslashes = ['"'], 0
    for ch in text:
        if ch == "\\":
            backslashes += 1
            continue
        out.append("\\" * (2 * backslashes + 1) + '"' if ch == '"' else "\\" * backslashes + ch)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def shell_word(text: str, windows: bool | None = None) -> str:
    """``text`` quoted where needed to be one argument: POSIX shells' quoting, or on Windows
    (``windows``; None: this machine's OS) double quotes around any word with more than letters,
    digits and path characters (cmd has no single quotes; PowerShell takes both).

    Example:
        >>> shell_word("ir.png"), shell_word("my shots/ir.png", windows=False)
        ('ir.png', "'my shots/ir.png'")
        >>> shell_word("my shots/ir.png", windows=True), shell_word(r"D:\\R&D\\ir.png", windows=True)
        ('"my shots/ir.png"', '"D:\\\\R&D\\\\ir.png"')
        >>> shell_word("C:\\\\data\\\\", windows=True), shell_word('say "hi"', windows=True)
        ('C:\\\\data\\\\', '"say \\\\"hi\\\\""')
    """
    if not _on_windows(windows):
        return shlex.quote(text)
    return text if _WINDOWS_SAFE.fullmatch(text) else _windows_quoted(text)


def command_line(words: list[str], windows: bool | None = None) -> str:
    """``words`` as one command line to paste, each quoted as :func:`shell_word` quotes it.

    Example:
        >>> command_line(["ls", "my runs/r1"], windows=False), command_line(["dir", "my runs/r1"], windows=True)
        ("ls 'my runs/r1'", 'dir "my runs/r1"')
    """
    return " ".join(shell_word(word, windows) for word in words)


__all__ = ["command_line", "shell_word"]
