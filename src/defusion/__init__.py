"""defusion: DeFusion image fusion (Liang et al., ECCV 2022) as a toolkit.

The public names load on first use (PEP 562), so that ``import defusion`` and ``defusion --help``
do not wait for PyTorch.

Example:
    >>> from defusion import Fuser  # doctest: +SKIP
    >>> fused = Fuser.from_pretrained().fuse(a, b)  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["Decomposition", "FuseOptions", "Fuser", "Fusion", "Selection", "SizeMismatchError", "create_model",
           "list_models", "__version__"]

#: Public name -> the module it loads from (SizeMismatchError's is torch-free).
_EXPORTS = {name: "defusion.model.registry" if name in ("create_model", "list_models")
            else "defusion.fusion.errors" if name == "SizeMismatchError" else "defusion.fusion.fuser"
            for name in __all__ if name != "__version__"}

if TYPE_CHECKING:
    from defusion.fusion.errors import SizeMismatchError  # noqa: F401
    from defusion.fusion.fuser import Decomposition, FuseOptions, Fuser, Fusion, Selection  # noqa: F401
    from defusion.model.registry import create_model, list_models  # noqa: F401


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # once loaded, a plain attribute
        return value
    raise AttributeError(f"module 'defusion' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
