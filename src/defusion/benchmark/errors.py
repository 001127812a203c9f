"""The benchmark's own errors: a ``DefusionError`` that keeps the builtin it always was."""

from __future__ import annotations

from defusion.errors import DefusionError


class BenchmarkError(DefusionError, ValueError):
    """A benchmark that cannot run as asked: an unknown built-in method, a results.csv that is not
    one, a stored method given no quality.

    Example:
        >>> issubclass(BenchmarkError, ValueError) and issubclass(BenchmarkError, DefusionError)
        True
    """


__all__ = ["BenchmarkError"]
