"""The base of the library's own errors, without dependencies (the standard library only): the
light error modules derive from it, and ``import defusion`` exports it."""

from __future__ import annotations


class DefusionError(Exception):
    """Defusion refused its input or could not do what was asked; the message says what and how to fix it.

    Catch it to handle any of the library's own errors with one clause: a refused image, unusable
    weights, a rig, video, raw file, folder of shots or pairs, export or ONNX file, a training stop.
    Each also keeps the builtin it has always been (``ValueError`` for a refused input, ``TypeError``
    for an argument of the wrong type, ...), so ``except ValueError`` still works.

    Example:
        >>> from defusion import Fuser  # doctest: +SKIP
        >>> try:  # doctest: +SKIP
        ...     Fuser.from_pretrained().fuse(image)  # one image: refused
        ... except DefusionError as exc:
        ...     print(exc)
        fusion needs at least two images
        >>> from defusion.io.errors import ImageReadError
        >>> issubclass(ImageReadError, DefusionError) and issubclass(ImageReadError, ValueError)
        True
    """


__all__ = ["DefusionError"]
