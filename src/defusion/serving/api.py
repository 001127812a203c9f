"""The DeFusion REST API (FastAPI): ``POST /v1/fuse``, ``GET /healthz``, ``GET /readyz``, ``GET /v1/info``.

:func:`create_app` wires the one fusion core (:meth:`Fuser.fuse` / :meth:`Fuser.decompose`, one model
shared by all requests through :class:`~defusion.serving.runner.ModelRunner`) into the routes
(:mod:`~defusion.serving.fuse_route`, :mod:`~defusion.serving.probes`), the error answers
(:mod:`~defusion.serving.error_handlers`) and the middleware. How requests share the model, the
statuses and their causes, and the logs: docs/serving.md ("Running the server", "Limits and errors"),
:data:`~defusion.serving.openapi.ERRORS` for OpenAPI.

Run it with ``defusion serve``, or with uvicorn directly:
``uvicorn --factory defusion.serving.api:app_from_env`` (``defusion serve``'s settings from the
``DEFUSION_*`` variables of :data:`ENV_VARIABLES`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

from defusion import __version__
from defusion.fusion.fuser import Fuser, Task
from defusion.serving.cors import (CORS_EXPOSED_HEADERS, CORS_MAX_AGE_S, CORS_METHODS, JsonCORSMiddleware,
                                   cors_options)
from defusion.serving.decode import escape_controls
from defusion.serving.env_settings import ENV_VARIABLES, EnvSettingError, settings_from_env
from defusion.serving.error_handlers import install_error_handlers
from defusion.serving.errors import CLIENT_CLOSED_REQUEST, ApiError, check_host, normal_host
from defusion.serving.fuse_route import FuseServer, add_fuse_route
from defusion.serving.info import describe, weights_id
from defusion.serving.limits import (DEFAULT_MAX_IMAGES, DEFAULT_MAX_QUEUE, DEFAULT_MAX_UPLOAD_BYTES,
                                     DEFAULT_SERVER_MAX_PIXELS, FIELDS, UPLOAD_DEADLINE_S, UPLOAD_IDLE_TIMEOUT_S,
                                     Limits)
from defusion.serving.openapi import QUERY_HELP, Info
from defusion.serving.paths import TrailingSlashes, route_path
from defusion.serving.probes import PROBE_PATHS, add_probes
from defusion.serving.responses import (COMPONENT_FILES, MODEL_HEADER, NOTES_HEADER, SOURCE_MAP_FILE, WEIGHT_FILE,
                                        encode_png, model_header)
from defusion.serving.runner import QUEUE_FULL_RETRY_AFTER_S, ModelRunner
from defusion.serving.shutdown import AnswerCancelled, CutOff

log = logging.getLogger("defusion.serving")


def create_app(fuser: Fuser, limits: Limits | None = None, *, weights: str | Path | None = None,
               cors_origins: Sequence[str] = (), allowed_hosts: Sequence[str] | None = None,
               task: Task | None = None) -> FastAPI:
    """The API around a ready ``fuser``; ``weights`` (the file it was loaded from) feeds /v1/info and
    the record each fused image carries (:mod:`defusion.fusion.provenance`). Without it the weights are
    not known: the record names them by the digest an ONNX export carries, else not at all (never as the
    shipped ones on faith).
    ``task``: the one the server's options were made for (``defusion serve --task``), which the
    notes follow where a request asks none (an infrared + visible pair sent infrared first, ``ivf``).
    ``cors_origins``: the browser origins (``https://app.example.com``, or ``*``) whose pages may
    call the API (CORS); none by default. ``allowed_hosts``: None (the default) answers every Host
    header; a sequence (even empty) answers only loopback hosts and these names, any port, and
    refuses others with a 400 (:class:`HostCheck`; ``defusion serve`` on a loopback address)."""
    limits = limits or Limits()
    runner = ModelRunner(fuser, limits.max_queue)
    app = FastAPI(title="DeFusion", version=__version__, redirect_slashes=False,  # TrailingSlashes answers them
                  description="Image fusion from decomposition (Liang et al., ECCV 2022)")
    app.state.fuser, app.state.limits, app.state.weights, app.state.runner = fuser, limits, weights, runner
    app.state.task = task
    app.state.cut_off = CutOff()  # requests the shutdown cancels: defusion serve's exit status
    info = describe(fuser, limits, weights)  # once: the model file's SHA-256 is not computed per request
    # before CORS, which wraps it: its 503 and 500 carry CORS headers too
    app.add_middleware(AnswerCancelled, cut_off=app.state.cut_off)
    if cors_origins:
        app.add_middleware(JsonCORSMiddleware, **cors_options(cors_origins))
    if allowed_hosts is not None:  # added last but one, so a refused Host reaches nothing else
        app.add_middleware(HostCheck, allowed=allowed_hosts)
    app.add_middleware(TrailingSlashes)  # outermost: every layer sees /v1/fuse/ as /v1/fuse
    install_error_handlers(app)
    add_probes(app, fuser, runner)

    @app.head("/v1/info", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/v1/info", operation_id="info", response_model=None,
             responses={200: {"model": Info, "description": "the model, its weights' SHA-256, the options and "
                                                            "limits this server runs with"}})
    async def v1_info() -> JSONResponse:
        """The model (name, runtime, config, parameters), the weights (file name, SHA-256, metadata), the
        device, the options, what each task changes, the limits and the version."""
        return JSONResponse(info)

    add_fuse_route(app, FuseServer(runner, limits, made_by=model_header(__version__, weights_id(info)), task=task))
    return app


class HostCheck:
    """ASGI middleware: an HTTP request whose Host header names neither a loopback host nor one of
    ``allowed`` is answered 400 (:func:`~defusion.serving.errors.check_host`). A server on
    127.0.0.1 is otherwise open to any web page whose name its author points at 127.0.0.1 (DNS
    rebinding): the visitor's browser sends that page's requests, with that name in Host.

    The probes (:data:`~defusion.serving.probes.PROBE_PATHS`) are answered whatever the Host:
    Kubernetes' and AWS ALB's health checks send the pod's or target's IP address as Host, which
    no ``--allowed-host`` names ahead of time. They do no work (a look at the model and the queue's
    counts) and tell a page nothing but that the server is up and how busy it is."""

    def __init__(self, app: Any, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = frozenset(normal_host(name) for name in allowed if name)  # a bare IPv6 too

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "http" and route_path(scope) not in PROBE_PATHS:
            host = Headers(scope=scope).get("host")
            try:
                check_host(host, self.allowed)
            except ApiError as exc:
                log.debug("%s %s: %d %s", scope.get("method"), escape_controls(scope.get("path", "")), exc.status,
                          exc.detail)
                await JSONResponse({"detail": exc.detail}, status_code=exc.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_app(weights: str | Path | None = None, device: str = "auto", limits: Limits | None = None,
              onnx: str | Path | None = None, threads: int | None = None, runtime: str = "auto",
              cors_origins: Sequence[str] = (), allowed_hosts: Sequence[str] | None = None,
              task: Task | None = None, **fuse_options: Any) -> FastAPI:
    """Load a model (safetensors ``weights``, default the shipped ones, or an ``onnx`` file) and wrap it.

    ``threads`` bounds the CPU threads of one inference (PyTorch or onnxruntime); ``runtime``
    is ``auto`` (onnxruntime on a CPU, torch on a GPU), ``torch`` or ``onnxruntime`` (the weights
    exported once and cached); ``cors_origins``, ``allowed_hosts``, ``task`` (the one ``fuse_options``
    were made for: ``defusion serve --task``): see :func:`create_app`.
    """
    from defusion.model.weights import shipped_weights_path

    model = onnx if onnx is not None else weights  # an export whatever its name; weights X.onnx is one too
    fuser = Fuser.from_pretrained(model, device=device, runtime=runtime, threads=threads,
                                  onnx=True if onnx is not None else None, **fuse_options)
    return create_app(fuser, limits, weights=model if model is not None else shipped_weights_path(),
                      cors_origins=cors_origins, allowed_hosts=allowed_hosts, task=task)


def app_from_env(environ: Mapping[str, str] | None = None) -> FastAPI:
    """App factory for ``uvicorn --factory defusion.serving.api:app_from_env`` (and gunicorn's
    uvicorn workers): ``defusion serve``'s settings from the ``DEFUSION_*`` variables of
    :data:`ENV_VARIABLES` (:func:`settings_from_env`; docs/serving.md lists them).

    A bad value, or a model file that will not load, is an :class:`EnvSettingError` naming the variable.
    What defusion has to say (an ONNX export, a fallback engine) is said as ``defusion serve`` says it,
    lines in the server's log (:func:`~defusion.io.notes.lines_for_process`), not Python warnings.
    """
    from defusion.fusion.onnx_runtime import OnnxModelError
    from defusion.io.notes import lines_for_process
    from defusion.model.weights import WeightsError

    lines_for_process()  # uvicorn's process is a server's: its reader is a log, not a notebook
    settings = settings_from_env(environ)
    try:
        return build_app(**settings)
    except (WeightsError, OnnxModelError) as exc:
        name = "DEFUSION_ONNX" if settings["onnx"] is not None else "DEFUSION_WEIGHTS"
        if settings["onnx"] is None and settings["weights"] is None:
            raise  # the shipped weights: no variable to name
        raise EnvSettingError(f"{name}: {exc}") from None


__all__ = ["Limits", "HostCheck", "create_app", "build_app", "app_from_env", "settings_from_env", "EnvSettingError",
           "ENV_VARIABLES", "encode_png", "COMPONENT_FILES", "NOTES_HEADER", "MODEL_HEADER", "WEIGHT_FILE",
           "SOURCE_MAP_FILE", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_IMAGES", "DEFAULT_SERVER_MAX_PIXELS",
           "DEFAULT_MAX_QUEUE", "UPLOAD_IDLE_TIMEOUT_S", "UPLOAD_DEADLINE_S", "CORS_METHODS", "CORS_EXPOSED_HEADERS",
           "CORS_MAX_AGE_S", "QUERY_HELP", "CLIENT_CLOSED_REQUEST", "QUEUE_FULL_RETRY_AFTER_S",
           "FIELDS"]  # defined in other serving modules; still imported from here
