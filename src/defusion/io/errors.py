"""The image readers' errors, without their dependencies (OpenCV, Pillow, numpy): the command
line names them among its expected errors while building its parser (fast ``--help``);
:mod:`defusion.io.images` raises them (and its subclasses of them)."""

from __future__ import annotations

from defusion.errors import DefusionError


class ImageReadError(DefusionError, ValueError):
    """An input image that cannot be used; the message says which file and why."""


__all__ = ["ImageReadError"]
