"""The fusion core's errors, without PyTorch or OpenCV: the command line names them among its
expected errors while building its parser (fast ``--help``); :mod:`defusion.fusion.fuser` raises them."""

from __future__ import annotations


class SizeMismatchError(ValueError):
    """Sources of different sizes; fusion needs registered images."""


__all__ = ["SizeMismatchError"]
