"""What a command says of the folders its outputs need: the one it makes where it is missing, so that
a mistyped folder does not pass unseen (``defusion fuse -o``, ``defusion export -o``)."""

from __future__ import annotations

import os
from pathlib import Path


def said_made(folders: list[Path]) -> str:
    """What a run ends its last line with for the folders it made (``-o``'s, and --source-map's or
    --components' in folder modes): none, one or several.

    A folder within another one listed is said, not the one above it: ``new/sub`` tells that ``new``
    was made too.

    Example:
        >>> said_made([]), said_made([Path("out")]), said_made([Path("out"), Path("maps")])
        ('', ' (made the folder out, which did not exist)', ' (made the folders out and maps, which did not exist)')
        >>> said_made([Path("new/sub"), Path("new")])
        ' (made the folder new/sub, which did not exist)'
    """
    folders = [folder for folder in folders
               if not any(other != folder and folder in other.parents for other in folders)]
    if not folders:
        return ""
    if len(folders) == 1:
        return f" (made the folder {folders[0]}, which did not exist)"
    return f" (made the folders {', '.join(map(str, folders[:-1]))} and {folders[-1]}, which did not exist)"


def missing_folder(path: Path, itself: bool = False) -> Path | None:
    """The folder ``path`` is written into (``path`` itself where ``itself``: the folder written into)
    where it does not exist yet (writing makes it, and any missing above it): said as a whole, ``new/sub``
    for ``-o new/sub/f.png``, so that a mistyped folder does not pass unseen; None where it is there.

    Example:
        >>> missing_folder(Path("no-such-folder/sub/f.png")).as_posix(), missing_folder(Path("f.png"))
        ('no-such-folder/sub', None)
    """
    folder = (path if itself else path.parent).absolute()
    if folder.exists():
        return None
    return folder if path.is_absolute() else Path(os.path.relpath(folder))


__all__ = ["missing_folder", "said_made"]
