"""The probes an orchestrator asks: ``GET /healthz`` (liveness: the model is loaded) and
``GET /readyz`` (readiness: a new request would be admitted); HEAD answers the same without a body."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from defusion.fusion.fuser import Fuser
from defusion.serving.errors import SERVICE_UNAVAILABLE
from defusion.serving.openapi import ERROR_HEADERS, HealthStatus
from defusion.serving.runner import QUEUE_FULL_RETRY_AFTER_S, ModelRunner

#: The probes' paths: answered whatever the Host header (an orchestrator's probe names the pod's address).
PROBE_PATHS = ("/healthz", "/readyz")
#: How an answer of /healthz or /readyz is described in OpenAPI, by status.
PROBE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthStatus, "description": "alive (/healthz: ok) or ready for a new request (/readyz: ready)"},
    SERVICE_UNAVAILABLE: {"model": HealthStatus,
                          "description": "the model is still loading; for /readyz also busy (max_queue requests "
                                         "are held already), with Retry-After"},
}
#: /readyz's answers: a busy 503 carries Retry-After.
READY_ANSWERS: dict[int | str, dict[str, Any]] = {
    **PROBE_ANSWERS,
    SERVICE_UNAVAILABLE: {**PROBE_ANSWERS[SERVICE_UNAVAILABLE],
                          "headers": {"Retry-After": ERROR_HEADERS[SERVICE_UNAVAILABLE]["Retry-After"]}},
}


def add_probes(app: FastAPI, fuser: Fuser, runner: ModelRunner) -> None:
    """``GET``/``HEAD /healthz`` and ``/readyz`` on ``app``: 503 ``loading`` until ``fuser``'s model is
    loaded; then /healthz 200 ``ok``, and /readyz 200 ``ready`` or 503 ``busy`` (with Retry-After) as
    ``runner``'s queue has room or not, with its counts."""

    healthz_path, readyz_path = PROBE_PATHS

    @app.head(healthz_path, include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get(healthz_path, operation_id="healthz", responses=PROBE_ANSWERS)
    async def healthz() -> JSONResponse:
        """Liveness: 200 once the model is loaded, however busy the server is."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        return JSONResponse({"status": "ok"})

    @app.head(readyz_path, include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get(readyz_path, operation_id="readyz", responses=READY_ANSWERS)
    async def readyz() -> JSONResponse:
        """Readiness: 503 while a new request would be refused (the queue is full), else 200."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        state = {"requests": runner.active, "waiting": runner.waiting, "max_queue": runner.max_queue}
        if runner.full:
            return JSONResponse({"status": "busy", **state}, status_code=SERVICE_UNAVAILABLE,
                                headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})
        return JSONResponse({"status": "ready", **state})
