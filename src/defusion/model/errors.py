"""The model's errors, without PyTorch: the command line names them among its expected errors
while building its parser (fast ``--help``); :mod:`defusion.model.weights` raises them."""

from __future__ import annotations

from defusion.errors import DefusionError


class WeightsError(DefusionError, ValueError):
    """Weights that are missing, corrupt or do not fit the network."""


__all__ = ["WeightsError"]
