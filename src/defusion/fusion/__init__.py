"""Fusing images with a trained DeNet: colour handling, tiling, and the Fuser.

The Fuser and its types load on first use (PEP 562), so that the light modules here (align,
color, stretch, ...) can be imported without PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from defusion._lazy import lazy_names

__all__ = ["Decomposition", "FuseOptions", "Fuser", "Fusion", "Selection", "SizeMismatchError"]

#: Public name -> the module it loads from (FuseOptions' and SizeMismatchError's load no Fuser).
_EXPORTS = {name: "defusion.fusion.options" if name == "FuseOptions" else "defusion.fusion.errors"
            if name == "SizeMismatchError" else "defusion.fusion.fuser" for name in __all__}

if TYPE_CHECKING:
    from defusion.fusion.errors import SizeMismatchError  # noqa: F401
    from defusion.fusion.fuser import Decomposition, Fuser, Fusion, Selection  # noqa: F401
    from defusion.fusion.options import FuseOptions  # noqa: F401


#: A submodule (defusion.fusion.color, ...) loads as attribute access found it when the Fuser loaded eagerly.
__getattr__, _ = lazy_names(__name__, _EXPORTS, submodules=True)
