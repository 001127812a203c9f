"""Serving DeFusion: a REST API over :class:`~defusion.fusion.fuser.Fuser`, and model export.

:mod:`defusion.serving.api` builds the FastAPI app (``create_app``) that ``defusion serve`` runs; each
step of a request (its query, body, uploads, the model's queue, the answer, errors, CORS) is a module
of its own here, its docstring saying which. How to run and call it: docs/serving.md
(DeNet's TorchScript and ONNX export is :mod:`defusion.fusion.export`).

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
