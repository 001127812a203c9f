"""Fusing images with a trained DeNet: colour handling, tiling, and the Fuser."""

from defusion.fusion.fuser import Decomposition, FuseOptions, Fuser, Fusion, Selection, SizeMismatchError

__all__ = ["Decomposition", "FuseOptions", "Fuser", "Fusion", "Selection", "SizeMismatchError"]
