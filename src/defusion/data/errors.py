"""The training data's own errors: a ``DefusionError`` that keeps the builtin it always was."""

from __future__ import annotations

from defusion.errors import DefusionError


class DataConfigError(DefusionError, ValueError):
    """A CUD pretext or dataset setting out of its range (a mask grid, a probability, a length).

    Example:
        >>> issubclass(DataConfigError, ValueError) and issubclass(DataConfigError, DefusionError)
        True
    """


__all__ = ["DataConfigError"]
