"""Training DeNet by the CUD pretext (``defusion train``), the paper's schedule by default.

- :mod:`defusion.training.config`: ``TrainConfig``, the schedule and options of a run.
- :mod:`defusion.training.loss`: the CUD loss (and DeFusion++'s MFM term).
- :mod:`defusion.training.pretext`: the network a step trains: DeNet, or DeNet with the MFM decoder.
- :mod:`defusion.training.step`: one optimisation step, as training runs it and its benchmark times it.
- :mod:`defusion.training.checkpoint`: atomic, pickle-free checkpoints (safetensors + JSON).
- :mod:`defusion.training.trainer`: the training loop, single process or DDP under ``torchrun``.
- :mod:`defusion.training.errors`: training's errors, without PyTorch (fast ``--help``).
"""
