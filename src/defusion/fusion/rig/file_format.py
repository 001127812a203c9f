"""The rig file (JSON): its format name and version, the bound on an uploaded one, its layout (one
line per size and matrix row, meant to be read), and reading its text and fields with errors that
name what is wrong. :meth:`~defusion.fusion.rig.Rig.to_json` and ``from_json`` say what it holds."""

from __future__ import annotations

import json
import re
import reprlib
from pathlib import Path
from typing import TypeVar

import numpy as np

from defusion.fusion.rig.errors import RigError
from defusion.fusion.rig.motion import matrix_tuple

#: The JSON format's name and version, written into every rig file.
FORMAT, VERSION = "defusion-rig", 1
#: Bound on a rig file taken from an upload (the API, the web UI): a real one is under 2 kB.
MAX_RIG_BYTES = 64 * 1024


# -- writing -------------------------------------------------------------------------------
def readable_json(data: dict) -> str:
    """``data`` as JSON text with each list of numbers (a size, a matrix row) on one line.

    Example:
        >>> print(readable_json({"size": [640, 480], "matrix": [[1, 0, 0], [0, 1, 0]]}), end="")
        {
          "size": [640, 480],
          "matrix": [
            [1, 0, 0],
            [0, 1, 0]
          ]
        }
    """
    text = json.dumps(data, indent=2)
    text = re.sub(r"\[\s+([-+\d.eE,\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text)
    return text + "\n"


# -- reading -------------------------------------------------------------------------------
def read_rig_file(path: Path) -> bytes:
    """The bytes of the rig file at ``path``; RigError naming it if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RigError(f"cannot read rig file {path}: {exc.strerror or exc}") from None


def parse_rig_text(text: str | bytes, name: str = "rig") -> object:
    """The JSON value of a rig file's text (an upload's bytes too); RigError if it is no JSON.

    Example:
        >>> parse_rig_text(b'{"format": "defusion-rig"}')
        {'format': 'defusion-rig'}
    """
    try:
        return json.loads(text)
    except ValueError as exc:  # bytes that are not UTF-8 too
        raise RigError(f"{name} is not JSON ({exc})") from None
    except RecursionError:  # arrays or objects nested thousands deep: the parser's stack, not a rig
        raise RigError(f"{name} is not a defusion rig file (JSON nested too deeply; make one with defusion "
                       "calibrate)") from None


def check_rig_format(data: object, name: str = "rig") -> None:
    """RigError unless ``data`` says it is a rig file of the version this defusion reads."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RigError(f"{name} is not a defusion rig file (expected \"format\": \"{FORMAT}\"; "
                       "make one with defusion calibrate)")
    if data.get("version") != VERSION:
        raise RigError(f"{name}: rig file version {reprlib.repr(data.get('version'))}; this defusion reads version "
                       f"{VERSION}")  # reprlib: a number of 4000 digits is said in part


_T = TypeVar("_T")


def json_field(data: object, key: str, kind: type[_T]) -> _T:
    """``data[key]``, which must be a ``kind``; RigError naming the key otherwise.

    Example:
        >>> json_field({"cameras": []}, "cameras", list)
        []
    """
    if not isinstance(data, dict) or key not in data:
        raise RigError(f"malformed rig file: no {key!r} field")
    if not isinstance(data[key], kind):
        raise RigError(f"malformed rig file: {key!r} must be a {'list' if kind is list else 'JSON object'}")
    return data[key]


def json_matrix(rows: object) -> tuple[tuple[float, float, float], ...]:
    """A camera's matrix from a rig file's rows: 3 rows of 3 numbers, RigError otherwise.

    Example:
        >>> json_matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]])[0]
        (1.0, 0.0, 0.0)
    """
    try:
        matrix = np.array(rows, np.float64)
    except (TypeError, ValueError):
        matrix = None
    except OverflowError:  # an integer of hundreds of digits: no float holds it
        raise RigError("malformed rig file: a camera's matrix has a number too large for any rig "
                       "(calibrate again with defusion calibrate)") from None
    if matrix is None or matrix.shape != (3, 3):
        raise RigError("malformed rig file: a camera's matrix must be 3 rows of 3 numbers")
    return matrix_tuple(matrix)


__all__ = ["FORMAT", "VERSION", "MAX_RIG_BYTES", "readable_json", "read_rig_file", "parse_rig_text", "check_rig_format",
           "json_field", "json_matrix"]
