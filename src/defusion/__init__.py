"""defusion: DeFusion image fusion (Liang et al., ECCV 2022) as a toolkit.

The public names load on first use (PEP 562), so that ``import defusion`` and ``defusion --help``
do not wait for PyTorch.

Example:
    >>> import numpy as np
    >>> from defusion import Fuser
    >>> a, b = np.zeros((48, 64), np.uint8), np.full((48, 64), 255, np.uint8)  # or read_image(path)
    >>> fused = Fuser.from_pretrained().fuse(a, b)  # doctest: +SKIP
    >>> fused = Fuser.from_pretrained(task="mef").fuse(a, b, progress=True)  # doctest: +SKIP

The library's own errors (a refused image, weights, rig, video, export, ...) derive from
:class:`DefusionError`, to catch with one clause, and still from the builtin they always were (ValueError, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defusion._lazy import lazy_names

__version__ = "0.1.0"

__all__ = ["Decomposition", "DefusionError", "DefusionNote", "DefusionWarning", "FuseOptions", "Fuser", "Fusion",
           "Selection", "SizeMismatchError", "create_model", "list_models", "__version__"]

#: Modules of the public names that do not come from defusion.fusion.fuser (the errors' are torch-free).
_HOMES = {"create_model": "defusion.model.registry", "list_models": "defusion.model.registry",
          "SizeMismatchError": "defusion.fusion.errors", "DefusionError": "defusion.errors",
          "DefusionWarning": "defusion.errors", "DefusionNote": "defusion.errors"}
#: Public name -> the module it loads from.
_EXPORTS = {name: _HOMES.get(name, "defusion.fusion.fuser") for name in __all__ if name != "__version__"}

if TYPE_CHECKING:
    from defusion.errors import DefusionError, DefusionNote, DefusionWarning  # noqa: F401
    from defusion.fusion.errors import SizeMismatchError  # noqa: F401
    from defusion.fusion.fuser import Decomposition, FuseOptions, Fuser, Fusion, Selection  # noqa: F401
    from defusion.model.registry import create_model, list_models  # noqa: F401


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)
