"""Type checks for option values: NumPy's scalars count as the Python numbers they stand for (a
sweep over ``np.arange`` gives those), bools never count as numbers.

Example:
    >>> import numpy as np
    >>> is_integer(np.int64(2)), is_integer(True), is_number(np.float32(1.5)), is_number("1")
    (True, False, True, False)
"""

from __future__ import annotations

import numbers

import numpy as np


def is_number(value: object) -> bool:
    """A real number, NumPy's scalars included; not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_integer(value: object) -> bool:
    """An integer, NumPy's included; not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


__all__ = ["is_integer", "is_number"]
