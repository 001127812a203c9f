"""Training data for the self-supervised CUD pretext (paper eq. 1).

- :mod:`defusion.data.cud`: the pretext's random masks, its two noisy views and their targets.
- :mod:`defusion.data.dataset`: folders of natural images, cropped (and flipped) for training.
"""
