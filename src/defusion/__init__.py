"""defusion: DeFusion image fusion (Liang et al., ECCV 2022) as a toolkit."""

__version__ = "0.1.0"
