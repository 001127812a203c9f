"""Training DeNet by the CUD pretext (``defusion train``), the paper's schedule by default.

- :mod:`defusion.training.config`: ``TrainConfig``, the schedule and options of a run.
- :mod:`defusion.training.loss`: the CUD loss (and DeFusion++'s MFM term).
- :mod:`defusion.training.pretext`: the network a step trains: DeNet, or DeNet with the MFM decoder.
- :mod:`defusion.training.step`: one optimisation step, as training runs it and its benchmark times it.
- :mod:`defusion.training.checkpoint`: atomic, pickle-free checkpoints (safetensors + JSON).
- :mod:`defusion.training.trainer`: the training loop, single process or DDP under ``torchrun``.
  Its parts: :mod:`~defusion.training.run_setup` (data, model, resume state, outputs, in order),
  :mod:`~defusion.training.distributed` (this process's place in the job),
  :mod:`~defusion.training.resume` (run folder and resume checks, changed settings and data),
  :mod:`~defusion.training.data_checks` (too few samples, nothing readable, what each step read),
  :mod:`~defusion.training.epoch_loader` (batches, data workers shielded from SIGTERM and stopped),
  :mod:`~defusion.training.interrupts` (SIGTERM, interrupts held during an update),
  :mod:`~defusion.training.metrics_log` (metrics.csv and TensorBoard) and
  :mod:`~defusion.training.run_record` (config.json and the inference weights).
- :mod:`defusion.training.errors`: training's errors, without PyTorch (fast ``--help``).
"""
