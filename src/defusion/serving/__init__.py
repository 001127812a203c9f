"""Serving DeFusion: a REST API over :class:`~defusion.fusion.fuser.Fuser`, and model export.

- :mod:`defusion.serving.api`: FastAPI app (``create_app``), run by ``defusion serve``.
- :mod:`defusion.serving.decode`: uploaded bytes to arrays with :func:`defusion.io.images.read_image`'s rules.
- :mod:`defusion.serving.export`: DeNet to TorchScript / ONNX, and a parity check against PyTorch.
- :mod:`defusion.serving.onnx_model`: ``OnnxDeNet``, an onnxruntime model a Fuser can drive.

The optional dependencies are in the ``serve`` extra: ``pip install 'defusion[serve]'``. This
package imports none of them at import time; each module imports what it needs.
"""

import ipaddress


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
