"""defusion: DeFusion image fusion (Liang et al., ECCV 2022) as a toolkit.

Example:
    >>> from defusion import Fuser  # doctest: +SKIP
    >>> fused = Fuser.from_pretrained().fuse(a, b)  # doctest: +SKIP
"""

__version__ = "0.1.0"

from defusion.fusion.fuser import (Decomposition, FuseOptions, Fuser, Fusion, Selection,  # noqa: E402
                                   SizeMismatchError)
from defusion.model.registry import create_model, list_models  # noqa: E402

__all__ = ["Decomposition", "FuseOptions", "Fuser", "Fusion", "Selection", "SizeMismatchError", "create_model",
           "list_models", "__version__"]
