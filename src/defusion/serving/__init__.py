"""Serving DeFusion: a REST API over :class:`~defusion.fusion.fuser.Fuser`, and model export.

- :mod:`defusion.serving.api`: FastAPI app (``create_app``), run by ``defusion serve``; its parts:

  - :mod:`~defusion.serving.fuse_route`: ``POST /v1/fuse``, from the query to the answer;
  - :mod:`~defusion.serving.fuse_query`: its query checked before the request takes a place in the queue;
  - :mod:`~defusion.serving.probes`: ``GET /healthz`` and ``GET /readyz``;
  - :mod:`~defusion.serving.error_handlers`: every error answered as JSON, and logged;
  - :mod:`~defusion.serving.limits`: the form's fields and ``Limits``, the bounds of one request;
  - :mod:`~defusion.serving.errors`: ``ApiError`` and the checks that refuse a request;
  - :mod:`~defusion.serving.multipart`: reading the multipart body within the limits;
  - :mod:`~defusion.serving.upload_images`: the uploads decoded, sizes checked, and their metadata;
  - :mod:`~defusion.serving.runner`: the one shared model, one call at a time, with a bounded queue;
  - :mod:`~defusion.serving.responses`: the fused PNG and the zips answered;
  - :mod:`~defusion.serving.answer_format`: the answer's format (``?format=``, ``Accept``), encoded as
    ``write_image`` writes it;
  - :mod:`~defusion.serving.openapi`: what OpenAPI says about the endpoints;
  - :mod:`~defusion.serving.info`: the ``GET /v1/info`` document;
  - :mod:`~defusion.serving.shutdown`: the 503 for a request cancelled by the server's shutdown, and the
    500 of an unexpected failure, answered inside CORS;
  - :mod:`~defusion.serving.cors`: CORS (``--cors-origin``), a refused preflight answered in JSON;
  - :mod:`~defusion.serving.env_settings`: the ``DEFUSION_*`` variables read by ``app_from_env``.

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
