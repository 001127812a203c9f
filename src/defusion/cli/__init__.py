"""The ``defusion`` command: :mod:`defusion.cli.main` builds it, one module per sub-command.

- :mod:`defusion.cli.fuse`, :mod:`defusion.cli.video`: fuse images, folders of pairs, cards of shots; videos.
- :mod:`defusion.cli.metrics`, :mod:`defusion.cli.bench`: score one fused image; run and compare methods.
- :mod:`defusion.cli.train`, :mod:`defusion.cli.info`: train DeNet; describe a model, its weights and this install.
- :mod:`defusion.cli.serve`, :mod:`defusion.cli.ui`, :mod:`defusion.cli.export`: REST API, web UI, ONNX/TorchScript.
- :mod:`defusion.cli.calibrate`: a thermal + visible camera rig's calibration.
- :mod:`defusion.cli.options`: the options shared by the sub-commands that run the model.
- :mod:`defusion.cli.outputs`: what a command says of the output folders it makes.
- :mod:`defusion.cli.job_size`: what a fusion job will take (network passes, peak memory), told before it starts.
- :mod:`defusion.cli.errors`: expected failures as one line on stderr and a non-zero exit status.

Each module imports only light modules at its top (``--help`` and usage errors stay fast).
"""
