"""Fusing images with a trained DeNet: colour handling, tiling, and the Fuser.

The Fuser and its types load on first use (PEP 562), so that the light modules here (align,
color, stretch, ...) can be imported without PyTorch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["Decomposition", "FuseOptions", "Fuser", "Fusion", "Selection", "SizeMismatchError"]

#: Public name -> the module it loads from (FuseOptions' and SizeMismatchError's load no Fuser).
_EXPORTS = {name: "defusion.fusion.options" if name == "FuseOptions" else "defusion.fusion.errors"
            if name == "SizeMismatchError" else "defusion.fusion.fuser" for name in __all__}

if TYPE_CHECKING:
    from defusion.fusion.errors import SizeMismatchError  # noqa: F401
    from defusion.fusion.fuser import Decomposition, Fuser, Fusion, Selection  # noqa: F401
    from defusion.fusion.options import FuseOptions  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
    else:  # a submodule (defusion.fusion.color, ...), as attribute access found it when the Fuser loaded eagerly
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":  # a submodule's own missing dependency: say that
                raise
            raise AttributeError(f"module 'defusion.fusion' has no attribute {name!r}") from None
    globals()[name] = value
    return value
