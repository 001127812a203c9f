"""``defusion serve``: the REST API (FastAPI + uvicorn) over the fusion core.

Endpoints: ``POST /v1/fuse`` (multipart files ``a``, ``b``; ``?components=true`` for a zip),
``GET /healthz``, ``GET /v1/info``. See docs/serving.md.
"""

from __future__ import annotations

import argparse
import copy
import sys
from typing import Any

from defusion.cli.errors import UserError
from defusion.cli.options import (add_gain_options, add_model_options, add_onnx_option, add_palette_option,
                                  add_rig_option, add_scale_option, add_task_option, add_tile_option,
                                  check_onnx_options, check_tile, fusion_options, positive_int)
from defusion.io.images import DEFAULT_MAX_PIXELS
from defusion.model.weights import WeightsError
from defusion.serving import is_loopback

HELP = "serve fusion over HTTP: POST /v1/fuse, GET /healthz, GET /v1/info (needs the 'serve' extra)"

#: Same as defusion.serving.api.DEFAULT_MAX_UPLOAD_BYTES / DEFAULT_MAX_IMAGES (not imported: keeps --help fast).
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_IMAGES = 4


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    add_model_options(p, fp16=False)
    add_onnx_option(p)
    p.add_argument("--max-upload-bytes", type=positive_int, default=DEFAULT_MAX_UPLOAD_BYTES,
                   help=f"refuse uploaded files larger than this (default {DEFAULT_MAX_UPLOAD_BYTES:,}, 50 MiB)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse images with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--max-images", type=int, default=DEFAULT_MAX_IMAGES,
                   help=f"most images one request may fuse, 2-8 (default {DEFAULT_MAX_IMAGES}; fields a, b, c, ...)")
    add_tile_option(p)
    add_scale_option(p)
    add_task_option(p)
    add_gain_options(p)
    add_palette_option(p)
    add_rig_option(p)
    p.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))


def check_options(args: argparse.Namespace) -> None:
    """The rules across options (port, tile, image count, --onnx with --weights): shared with the server's
    DEFUSION_* environment settings (defusion.serving.api.settings_from_env)."""
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be 1-65535, got {args.port}")
    check_tile(args)
    if not 2 <= args.max_images <= 8:
        raise UserError(f"--max-images must be from 2 to 8, got {args.max_images}")
    check_onnx_options(args)


def run(args: argparse.Namespace) -> int:
    check_options(args)
    try:
        import uvicorn

        from defusion.serving.api import Limits, build_app
    except ImportError as exc:
        raise UserError(f"serving needs the 'serve' extra: pip install 'defusion[serve]' ({exc})") from None
    options = fusion_options(args, names=("tile", "scale", "palette"))
    app = build_app(args.weights, args.device, Limits(args.max_upload_bytes, args.max_pixels, args.max_images),
                    onnx=args.onnx, threads=args.threads, runtime=args.runtime, **options)
    if not is_loopback(args.host):
        print(f"defusion: warning: serving on {args.host}: the API has no authentication; "
              "put it behind a proxy that has", file=sys.stderr)
    print(f"defusion: serving on http://{args.host}:{args.port} (device {app.state.fuser.device}); Ctrl-C stops",
          file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=log_config(args.log_level))
    return 0


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the server's own logger (``defusion``: a client that
    left, an upload that failed to decode at ``debug``) beside uvicorn's, in its format and at
    ``level``; without it those lines would be lost (Python shows only warnings by default)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["defusion"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


# OnnxModelError (a bad --onnx file) is a ValueError.
EXPECTED_ERRORS = (WeightsError, FileNotFoundError, ValueError, OSError)
