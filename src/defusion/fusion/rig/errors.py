"""The rig's one error: what every part of :mod:`defusion.fusion.rig` raises for input it refuses."""

from __future__ import annotations

from defusion.errors import DefusionError


class RigError(DefusionError, ValueError):
    """A rig file, a set of calibration points, or the images given to a rig are unusable."""


__all__ = ["RigError"]
