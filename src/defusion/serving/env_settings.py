"""``defusion serve``'s settings from the ``DEFUSION_*`` environment variables, for
``uvicorn --factory defusion.serving.api:app_from_env`` (:func:`settings_from_env`)."""

from __future__ import annotations

import argparse
import logging
import os
import re
from typing import Any, Mapping, NoReturn

from defusion.fusion.fuser import MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN
from defusion.fusion.rig import RigError
from defusion.serving.limits import MAX_IMAGES, MIN_IMAGES, Limits

log = logging.getLogger("defusion.serving")


#: The variables :func:`app_from_env` reads: each stands for the ``defusion serve`` option whose
#: parser and checks it goes through, and says what it takes where argparse's message would not
#: (a choice's message lists the choices). ``--host``, ``--port`` and ``--log-level`` are uvicorn's own.
ENV_VARIABLES: dict[str, tuple[str, str | None]] = {
    "DEFUSION_WEIGHTS": ("--weights", "a weights file (.safetensors)"),
    "DEFUSION_ONNX": ("--onnx", "an ONNX export (defusion export)"),
    "DEFUSION_RUNTIME": ("--runtime", None),
    "DEFUSION_DEVICE": ("--device", None),
    "DEFUSION_THREADS": ("--threads", "a whole number of 1 or more"),
    "DEFUSION_MAX_UPLOAD_BYTES": ("--max-upload-bytes", "a whole number of 1 or more"),
    "DEFUSION_MAX_PIXELS": ("--max-pixels", "a whole number of 1 or more"),
    "DEFUSION_MAX_IMAGES": ("--max-images", f"a whole number from {MIN_IMAGES} to {MAX_IMAGES}"),
    "DEFUSION_MAX_QUEUE": ("--max-queue", "a whole number of 0 or more"),
    "DEFUSION_UPLOAD_TIMEOUT": ("--upload-timeout", "a number of seconds above 0"),
    "DEFUSION_UPLOAD_DEADLINE": ("--upload-deadline", "a number of seconds above 0"),
    "DEFUSION_TASK": ("--task", None),
    "DEFUSION_SCALE": ("--scale", "a whole number of 1 or more"),
    "DEFUSION_TILE": ("--tile", "a whole number: 0 (no tiling) or a tile size in pixels"),
    "DEFUSION_UNIQUE_GAIN": ("--unique-gain", f"a number from 0 to {MAX_UNIQUE_GAIN:g}"),
    "DEFUSION_DETAIL_GAIN": ("--detail-gain", f"a number from 0 to {MAX_DETAIL_GAIN:g}"),
    "DEFUSION_PALETTE": ("--palette", None),
    "DEFUSION_INFRARED": ("--infrared", "a whole number of 1 or more (1 for 'a')"),
    "DEFUSION_RIG": ("--rig", "a rig file (defusion calibrate)"),
    "DEFUSION_CORS_ORIGINS": ("--cors-origin", "origins such as https://app.example.com (scheme, host and "
                                              "port, no path), separated by commas or spaces, or *"),
    "DEFUSION_ALLOWED_HOSTS": ("--allowed-host", "host names such as api.example.com (no scheme or port), "
                                                 "separated by commas or spaces"),
}
#: The variables that hold a list (each item is one of its option's values).
LIST_ENV_VARIABLES = ("DEFUSION_CORS_ORIGINS", "DEFUSION_ALLOWED_HOSTS")


class EnvSettingError(ValueError):
    """A bad ``DEFUSION_*`` value: one line naming the variable and what it takes (what a
    uvicorn or gunicorn user reads first, instead of a bare int() traceback)."""


class _UsageError(Exception):
    pass


class _RaisingParser(argparse.ArgumentParser):
    """``defusion serve``'s parser, raising its usage errors (to be reworded) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


#: DEFUSION_* variables other parts of the package read (not server settings: no warning for them).
OTHER_ENV_VARIABLES = ("DEFUSION_CACHE", "DEFUSION_CONTAINER_CACHE")  # the export cache; the container test's


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`build_app`'s arguments from the ``DEFUSION_*`` variables (:data:`ENV_VARIABLES`) in
    ``environ`` (default ``os.environ``); unset or empty ones keep ``defusion serve``'s defaults.

    Each value goes through ``defusion serve``'s own parser, checks and ``fusion_options``, so a
    multi-worker server runs exactly as ``defusion serve`` with those options would. Raises
    :class:`EnvSettingError` for a bad value.
    """
    # here: the CLI is not needed to create_app (an import up the layers, tests/test_layering.py's ACCEPTED)
    from defusion.cli import serve as serve_cli
    from defusion.cli.errors import UserError
    from defusion.cli.options import fusion_options

    environ = os.environ if environ is None else environ
    unknown = sorted(name for name in environ if name.startswith("DEFUSION_") and name not in ENV_VARIABLES
                     and name not in OTHER_ENV_VARIABLES)
    if unknown:  # a typo (DEFUSION_SACLE) would otherwise pass unnoticed
        log.warning("unknown server setting(s) %s ignored; the server reads %s", ", ".join(unknown),
                    ", ".join(ENV_VARIABLES))
    parser = _RaisingParser(prog="defusion serve", add_help=False)
    serve_cli.add_arguments(parser)
    argv = []
    for name, (option, takes) in ENV_VARIABLES.items():
        value = environ.get(name, "")
        items = [item for item in re.split(r"[,\s]+", value) if item] if name in LIST_ENV_VARIABLES else [value]
        for item in filter(None, items):
            given = f"{option}={item}"  # one token: a value starting with '-' stays a value
            try:
                parser.parse_args([given])
            except _UsageError as exc:
                reason = re.sub(r"^argument [^:]*: ", "", str(exc))
                raise EnvSettingError(f"{name}={value!r}: {reason}" + (f"; {name} takes {takes}" if takes else "")
                                      + f" (as defusion serve {option})") from None
            argv.append(given)
    args = parser.parse_args(argv)
    try:
        serve_cli.check_options(args)  # the rules across options (--tile, --max-images, --onnx with --weights)
        options = fusion_options(args, names=("tile", "scale", "palette"))  # as defusion serve
    except RigError as exc:
        raise EnvSettingError(f"DEFUSION_RIG={environ.get('DEFUSION_RIG')!r}: {exc}") from None
    except (UserError, ValueError) as exc:
        raise EnvSettingError(_in_env_terms(str(exc))) from None
    return {"weights": args.weights, "device": args.device,
            "limits": Limits(args.max_upload_bytes, args.max_pixels, args.max_images, args.max_queue,
                             args.upload_timeout, args.upload_deadline),
            "onnx": args.onnx, "threads": args.threads, "runtime": args.runtime,
            "cors_origins": tuple(args.cors_origin or ()),
            # the address uvicorn binds is not known here: Host is checked only where names are given
            "allowed_hosts": tuple(args.allowed_host) if args.allowed_host else None,
            "task": args.task, **options}  # the task too: the notes follow it (an ivf pair sent infrared first)


def _in_env_terms(message: str) -> str:
    """A ``defusion serve`` message with each option it names replaced by its variable."""
    variables = {option: name for name, (option, _) in ENV_VARIABLES.items()}
    return re.sub(r"--[a-z][a-z0-9-]*", lambda m: variables.get(m.group(0), m.group(0)), message)
