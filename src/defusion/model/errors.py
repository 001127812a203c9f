"""The model's errors, without PyTorch: the command line names them among its expected errors
while building its parser (fast ``--help``); :mod:`defusion.model.weights` raises them."""

from __future__ import annotations


class WeightsError(ValueError):
    """Weights that are missing, corrupt or do not fit the network."""


__all__ = ["WeightsError"]
