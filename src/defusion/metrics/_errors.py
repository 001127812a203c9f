"""The errors the metrics raise, and the lines that name the images they are about."""

from __future__ import annotations

from defusion.errors import DefusionError


class MetricNameError(DefusionError, KeyError):
    """A metric name the registry does not know (a KeyError, as before this class existed)."""

    def __str__(self) -> str:
        """The message as it is: ``KeyError`` would quote it (``'unknown metric(s) ...'``)."""
        return Exception.__str__(self)


class MetricInputError(DefusionError, ValueError):
    """An image the metrics refuse: not HxW or HxWx3, too small, not finite, floats on no scale they
    take, or images of different sizes (a ValueError, as before this class existed)."""


def size_mismatch(sizes: dict[str, tuple[int, ...]]) -> str | None:
    """The one line refusing images whose heights and widths differ, sizes given as ``{name: shape}``
    and said as W x H (as everywhere else in defusion); ``None`` where they agree.

    Example:
        >>> size_mismatch({"fused": (40, 64), "a": (64, 64), "b": (64, 64)})
        'size mismatch (W x H): fused 64x40, a 64x64, b 64x64'
    """
    if len({tuple(shape[:2]) for shape in sizes.values()}) <= 1:
        return None
    return "size mismatch (W x H): " + ", ".join(f"{name} {shape[1]}x{shape[0]}" for name, shape in sizes.items())


def check_same_size(fused: tuple[int, ...], sources: list[tuple[int, ...]]) -> None:
    """Refuse (:class:`MetricInputError`, the :func:`size_mismatch` line) a fused image and sources, given
    by their shapes, whose heights and widths differ; the sources named as :func:`source_labels` names them.

    Example:
        >>> check_same_size((4, 4), [(4, 4, 3), (4, 4)])
        >>> check_same_size((4, 5), [(4, 4)])
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: size mismatch (W x H): fused 5x4, a 4x4
    """
    mismatch = size_mismatch({"fused": fused, **dict(zip(source_labels(len(sources)), sources))})
    if mismatch:
        raise MetricInputError(mismatch)


def source_labels(count: int) -> list[str]:
    """What ``count`` sources are called in messages, as ``defusion metrics`` calls them: ``a``, ``b``,
    then ``source 3``, ...

    Example:
        >>> source_labels(4)
        ['a', 'b', 'source 3', 'source 4']
    """
    return ["a", "b", *(f"source {i}" for i in range(3, count + 1))][:count]
