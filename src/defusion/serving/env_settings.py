"""``defusion serve``'s settings from the ``DEFUSION_*`` environment variables, for
``uvicorn --factory defusion.serving.api:app_from_env`` (:func:`settings_from_env`)."""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, NoReturn

from defusion.fusion.fuser import MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN
from defusion.fusion.rig import RigError
from defusion.serving.limits import ENV_PREFIX, MAX_IMAGES, MIN_IMAGES, Limits

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


#: DEFUSION_* variables other parts of defusion read, not server settings: no warning for them
#: (tests/serving/test_serve_env_settings.py checks that every name the package reads is here or a setting).
OTHER_ENV_VARIABLES = (
    "DEFUSION_CACHE",  # the ONNX export cache (defusion.fusion.onnx_runtime.ENV_CACHE)
    "DEFUSION_UI_ALLOWED_HOSTS",  # the web UI's Host names (defusion.ui.host_guard), set by defusion ui
    "DEFUSION_TRACEBACK",  # every command's errors with their traceback (defusion.errors.TRACEBACK_VARIABLE)
    # the test suite's and the container build's own
    "DEFUSION_CONTAINER_CACHE", "DEFUSION_BROWSER_TEST_WEIGHTS", "DEFUSION_KEEP_SCREENSHOT",
    "DEFUSION_KEEP_STACK_SCREENSHOT", "DEFUSION_TORCH_WHEELS", "DEFUSION_BUILDAH_DRIVER", "DEFUSION_DEBIAN_MIRROR",
)
#: How alike an unknown DEFUSION_* name must be to a setting's to be suggested (difflib's ratio of the
#: parts after the prefix: DEFUSION_SACLE to DEFUSION_SCALE is 0.8, DEFUSION_FOO to any under 0.3).
SUGGEST_CUTOFF = 0.6
#: Settings that choose one thing together: the command line giving either overrides both variables
#: (``--weights`` with DEFUSION_ONNX set serves the weights, not a refusal of the two together).
ENV_GROUPS = (("DEFUSION_WEIGHTS", "DEFUSION_ONNX"),)


@dataclass(frozen=True)
class EnvSources:
    """Where ``defusion serve``'s settings came from: ``taken``, each variable whose value it took
    (name -> value), and ``overridden``, each set variable whose option the command line gave
    (name -> the option), which wins."""

    taken: dict[str, str] = field(default_factory=dict)
    overridden: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str | None:
        """One line saying so, None where no variable is set.

        Example:
            >>> EnvSources({"DEFUSION_TASK": "mff"}, {"DEFUSION_MAX_PIXELS": "--max-pixels"}).describe()
            'settings from the environment: DEFUSION_TASK=mff; the command line overrides DEFUSION_MAX_PIXELS (--max-pixels)'
        """
        said = []
        if self.taken:
            said.append("settings from the environment: "
                        + ", ".join(f"{name}={value}" for name, value in self.taken.items()))
        if self.overridden:
            said.append("the command line overrides "
                        + ", ".join(f"{name} ({option})" for name, option in self.overridden.items()))
        return "; ".join(said) or None


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One warning for each ``DEFUSION_*`` name in ``environ`` (default ``os.environ``) that is no
    setting (:data:`ENV_VARIABLES`) nor a name defusion reads elsewhere (:data:`OTHER_ENV_VARIABLES`),
    with the setting it looks like: a typo (DEFUSION_SACLE) would otherwise be ignored unnoticed.

    Example:
        >>> unknown_variables({"DEFUSION_PALETE": "inferno", "DEFUSION_CACHE": "/c", "HOME": "/"})
        ['DEFUSION_PALETE is not a setting of the server and is ignored; did you mean DEFUSION_PALETTE?']
    """
    environ = os.environ if environ is None else environ
    prefix = len(ENV_PREFIX)
    said = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in ENV_VARIABLES or name in OTHER_ENV_VARIABLES:
            continue
        near = difflib.get_close_matches(name[prefix:], [known[prefix:] for known in ENV_VARIABLES], n=1,
                                         cutoff=SUGGEST_CUTOFF)
        hint = (f"did you mean {ENV_PREFIX}{near[0]}?" if near
                else "the settings are listed in docs/serving.md (\"Running the server\")")
        said.append(f"{name} is not a setting of the server and is ignored; {hint}")
    return said


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`build_app`'s arguments from the ``DEFUSION_*`` variables (:data:`ENV_VARIABLES`) in
    ``environ`` (default ``os.environ``); unset or empty ones keep ``defusion serve``'s defaults.

    Each value goes through ``defusion serve``'s own parser, checks and ``fusion_options``, so a
    multi-worker server runs exactly as ``defusion serve`` with those options would. Raises
    :class:`EnvSettingError` for a bad value. Logs a warning for each unknown ``DEFUSION_*`` name
    (:func:`unknown_variables`).
    """
    for line in unknown_variables(environ):
        log.warning("%s", line)
    args = _serve_parser().parse_args([])
    options, _ = resolve(args, environ, command_line=False)
    return {"weights": args.weights, "device": args.device,
            "limits": Limits(args.max_upload_bytes, args.max_pixels, args.max_images, args.max_queue,
                             args.upload_timeout, args.upload_deadline),
            "onnx": args.onnx, "threads": args.threads, "runtime": args.runtime,
            "cors_origins": tuple(args.cors_origin or ()),
            # the address uvicorn binds is not known here: Host is checked only where names are given
            "allowed_hosts": tuple(args.allowed_host) if args.allowed_host else None,
            "task": args.task, **options}  # the task too: the notes follow it (an ivf pair sent infrared first)


def resolve(args: argparse.Namespace, environ: Mapping[str, str] | None = None, *,
            command_line: bool = True) -> tuple[dict[str, Any], EnvSources]:
    """``args`` (parsed by ``defusion serve``'s parser) completed from the ``DEFUSION_*`` variables in
    ``environ`` (default ``os.environ``) where the command line left an option at its default (the
    command line wins), checked across options, and the fusion options they make (``fusion_options``);
    and where each setting came from. ``args`` is changed in place: every value a plain one, the
    defaults' marks (:func:`defusion.cli.serve.given`) gone. A bad value, or a check that fails on
    one, is an :class:`EnvSettingError` naming its variable; one on the command line's options a
    ``UserError`` (or a ValueError) naming the option, as ``defusion serve`` says it. Without a
    ``command_line`` (``uvicorn --factory``), a check's message names every option as its variable."""
    from defusion.cli import serve as serve_cli
    from defusion.cli.errors import UserError
    from defusion.cli.options import fusion_options

    environ = os.environ if environ is None else environ
    parser = _serve_parser()
    sources = EnvSources()
    argv: list[str] = []
    for name, (option, takes) in ENV_VARIABLES.items():
        value = environ.get(name, "")
        if not value:
            continue
        overriding = next((_option(other) for other in _group(name) if serve_cli.given(args, _dest(_option(other)))),
                          None)
        if overriding is not None:
            sources.overridden[name] = overriding
            continue
        tokens = _tokens(parser, name, value)
        if tokens:
            argv += tokens
            sources.taken[name] = value
    from_env = parser.parse_args(argv)
    for name in sources.taken:
        dest = _dest(_option(name))
        setattr(args, dest, getattr(from_env, dest))
    serve_cli.plain_values(args)
    try:
        serve_cli.check_options(args)  # the rules across options (--tile, --max-images, --onnx with --weights)
        options = fusion_options(args, names=("tile", "scale", "palette"))  # as defusion serve
    except RigError as exc:
        if "DEFUSION_RIG" not in sources.taken:
            raise
        raise EnvSettingError(f"DEFUSION_RIG={environ.get('DEFUSION_RIG')!r}: {exc}") from None
    except (UserError, ValueError) as exc:
        if command_line and not sources.taken:
            raise
        raise EnvSettingError(_in_env_terms(str(exc), sources.taken if command_line else None)) from None
    return options, sources


def _serve_parser() -> _RaisingParser:
    """``defusion serve``'s parser, raising its usage errors."""
    from defusion.cli import serve as serve_cli

    parser = _RaisingParser(prog="defusion serve", add_help=False)
    serve_cli.add_arguments(parser)
    return parser


def _tokens(parser: _RaisingParser, name: str, value: str) -> list[str]:
    """The command-line tokens variable ``name`` set to ``value`` stands for (one per item of a list
    variable), each checked by ``parser``: an :class:`EnvSettingError` naming the variable for a bad one."""
    option, takes = ENV_VARIABLES[name]
    items = [item for item in re.split(r"[,\s]+", value) if item] if name in LIST_ENV_VARIABLES else [value]
    tokens = []
    for item in items:
        given = f"{option}={item}"  # one token: a value starting with '-' stays a value
        try:
            parser.parse_args([given])
        except _UsageError as exc:
            reason = re.sub(r"^argument [^:]*: ", "", str(exc))
            raise EnvSettingError(f"{name}={value!r}: {reason}" + (f"; {name} takes {takes}" if takes else "")
                                  + f" (as defusion serve {option})") from None
        tokens.append(given)
    return tokens


def _option(name: str) -> str:
    return ENV_VARIABLES[name][0]


def _dest(option: str) -> str:
    """The attribute argparse stores ``option`` in: ``--max-pixels`` in ``max_pixels``."""
    return option.lstrip("-").replace("-", "_")


def _group(name: str) -> tuple[str, ...]:
    """The variables the command line overrides together with ``name`` (:data:`ENV_GROUPS`), itself first."""
    return (name, *next((tuple(n for n in group if n != name) for group in ENV_GROUPS if name in group), ()))


def _in_env_terms(message: str, names: Iterable[str] | None = None) -> str:
    """A ``defusion serve`` message with each option it names replaced by its variable (of ``names``
    only, where given: the options the environment set).

    Example:
        >>> _in_env_terms("--max-images must be from 2 to 8, got 9", ["DEFUSION_MAX_IMAGES"])
        'DEFUSION_MAX_IMAGES must be from 2 to 8, got 9'
    """
    chosen = ENV_VARIABLES if names is None else set(names)
    variables = {option: name for name, (option, _) in ENV_VARIABLES.items() if name in chosen}
    return re.sub(r"--[a-z][a-z0-9-]*", lambda m: variables.get(m.group(0), m.group(0)), message)
