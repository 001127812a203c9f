"""The model's errors, without PyTorch: the command line names them among its expected errors
while building its parser (fast ``--help``); :mod:`defusion.model.weights`, :mod:`defusion.model.denet`
and :mod:`defusion.model.registry` raise them."""

from __future__ import annotations

from defusion.errors import DefusionError


class WeightsError(DefusionError, ValueError):
    """Weights that are missing, corrupt or do not fit the network."""


class ModelConfigError(DefusionError, ValueError):
    """A model name, setting or value DeNet cannot be built from (:func:`~defusion.model.registry.
    create_model`, :class:`DeNetConfig`): a ValueError, as before this class existed."""


class ModelInputError(DefusionError, ValueError):
    """Inputs DeNet refuses for their shape: not BxCxHxW, another channel count, sources of different
    shapes, sides that are no multiple of SIZE_MULTIPLE (a ValueError, as before this class existed)."""


class ModelInputTypeError(DefusionError, TypeError):
    """Inputs DeNet refuses for their type: no tensor, integers, or a dtype the weights do not run
    with (a TypeError, as before this class existed)."""


__all__ = ["ModelConfigError", "ModelInputError", "ModelInputTypeError", "WeightsError"]
