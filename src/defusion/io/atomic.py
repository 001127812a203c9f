"""Writing a file atomically: :func:`atomic_path`, the one way every output of the package (images,
weights, checkpoints, a training log, exports) replaces a file, so that a run killed, or a disk filling,
while it writes leaves the previous file whole and no partial one.

Standard library only: the model and training layers import it without OpenCV.
"""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterator

#: Hex digits of the random part of a temporary name: unique per writer, two processes writing one
#: file never share a temporary.
_RANDOM_CHARS = 8


def temporary_name() -> str:
    """A short name for a temporary file, unique per writer (process ID and a random part). Short, so
    that every name a folder takes can be written: ``.NAME.tmp`` was 5 bytes too long for names of
    251-255 bytes. Hidden (a leading dot), and ending in ``.tmp``.

    Example:
        >>> name = temporary_name()
        >>> name.startswith(f".defusion-{os.getpid()}-") and name.endswith(".tmp")
        True
    """
    return f".defusion-{os.getpid()}-{uuid.uuid4().hex[:_RANDOM_CHARS]}.tmp"


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to: moved onto ``path`` (``os.replace``, atomic)
    when the block succeeds, removed when it fails (an error, Ctrl-C), ``path`` then as it was. The
    folder must exist; the caller turns a failure into its own message.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     with atomic_path(Path(folder) / "notes.txt") as tmp:
        ...         _ = tmp.write_text("written whole or not at all")
        ...     print(os.listdir(folder), (Path(folder) / "notes.txt").read_text())
        ['notes.txt'] written whole or not at all
    """
    path = Path(path)
    tmp = path.with_name(temporary_name())
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with suppress(OSError):  # gone after the replace; a failure to remove must not hide the error
            tmp.unlink(missing_ok=True)


__all__ = ["atomic_path", "temporary_name"]
