"""What a command says of the folders its outputs need: the one it makes where it is missing, so that
a mistyped folder does not pass unseen (``defusion fuse -o``, ``defusion export -o``)."""

from __future__ import annotations

import os
from pathlib import Path


def said_made(folders: list[Path]) -> str:
    """What a run ends its last line with for the folders it made (``-o``'s, and --source-map's or
    --components' in folder modes): none, one or several.

    Example:
        >>> said_made([]), said_made([Path("out")]), said_made([Path("out"), Path("maps")])
        ('', ' (made the folder out, which did not exist)', ' (made the folders out and maps, which did not exist)')
    """
    if not folders:
        return ""
    if len(folders) == 1:
        return f" (made the folder {folders[0]}, which did not exist)"
    return f" (made the folders {', '.join(map(str, folders[:-1]))} and {folders[-1]}, which did not exist)"


def missing_folder(path: Path, itself: bool = False) -> Path | None:
    """The outermost folder of ``path``'s (``path`` too, where ``itself`` is the folder written into)
    that does not exist yet (writing makes it): said, so that a mistyped folder does not pass unseen;
    None where the folder is there."""
    missing = None
    absolute = path.absolute()
    for folder in ((absolute,) if itself else ()) + tuple(absolute.parents):
        if folder.exists():
            break
        missing = folder
    return None if missing is None else Path(os.path.relpath(missing)) if not path.is_absolute() else missing


__all__ = ["missing_folder", "said_made"]
