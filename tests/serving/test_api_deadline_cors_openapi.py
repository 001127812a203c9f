"""The REST API's findings of a developer-seat audit: a slow-drip upload bounded as a whole (408),
JSON errors a browser can read under CORS (a 500, a refused preflight), what OpenAPI says, which
model made an answer (/v1/info's SHA-256, X-Defusion-Model), HEAD /v1/info."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion import __version__
from defusion.cli import serve as serve_cli
from defusion.fusion.fuser import Fuser
from defusion.serving import api
from defusion.serving.api import Limits, create_app, encode_png, settings_from_env
from defusion.serving.openapi import IMAGE_CONTENT_TYPES, Info
from defusion.serving.responses import MODEL_HEADER
from tests.serving.test_api import _assert_error, files
from tests.conftest import free_port
from tests.serving.test_api_failures import call_upload

ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def png() -> bytes:
    return encode_png(np.full((32, 32, 3), 128, np.uint8))


# -- 1. a slow-drip upload: bounded as a whole, not only between its pieces ------------------------
async def _call_dripping(app, every_s: float) -> tuple[int, bytes, dict[str, str]]:
    """POST /v1/fuse whose body comes one byte every ``every_s`` seconds, never ending."""
    async def drip() -> dict:
        await asyncio.sleep(every_s)
        return {"type": "http.request", "body": b"x", "more_body": True}

    return await call_upload(app, drip)


def test_a_slow_drip_upload_is_a_408_once_its_deadline_is_up_and_gives_its_place_back(fuser, png):
    """The audit: a byte every 2 s under --upload-timeout 3 held its queue place for as long as it dripped."""
    import httpx

    app = create_app(fuser, Limits(max_queue=0, upload_timeout_s=1.0, upload_deadline_s=2.5))

    async def scenario():
        dripping = asyncio.create_task(_call_dripping(app, every_s=0.1))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            await asyncio.sleep(1.5)  # past the idle timeout: the drip is not a stall
            busy = await c.get("/readyz")
            status, body, headers = await asyncio.wait_for(dripping, 10)
            ready = await c.get("/readyz")
            after = await c.post("/v1/fuse", files=files(png, png))
        return busy, status, body, headers, ready, after

    busy, status, body, headers, ready, after = asyncio.run(scenario())
    assert busy.status_code == 503  # the drip held the only place...
    assert status == 408 and headers.get("connection") == "close", headers
    detail = json.loads(body)["detail"]
    assert "took too long" in detail and "2.5 s" in detail and "--upload-deadline" in detail, detail
    assert app.state.runner.active == 0  # ...and gave it back
    assert ready.status_code == 200 and after.status_code == 200


def test_the_upload_deadline_option_and_variable(fuser):
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    assert parser.parse_args([]).upload_deadline == api.UPLOAD_DEADLINE_S == Limits().upload_deadline_s
    # a 64 MB upload at a modest 4.3 Mbit/s meets the default
    assert 64e6 * 8 / 4.3e6 < api.UPLOAD_DEADLINE_S
    assert parser.parse_args(["--upload-deadline", "600"]).upload_deadline == 600
    for bad in ("0", "-1", "inf", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--upload-deadline", bad])
    assert settings_from_env({"DEFUSION_UPLOAD_DEADLINE": "300"})["limits"].upload_deadline_s == 300
    with pytest.raises(api.EnvSettingError, match="DEFUSION_UPLOAD_DEADLINE"):
        settings_from_env({"DEFUSION_UPLOAD_DEADLINE": "0"})
    with pytest.raises(ValueError):
        Limits(upload_deadline_s=0)
    with TestClient(create_app(fuser, Limits(upload_deadline_s=45))) as c:
        assert c.get("/v1/info").json()["limits"]["upload_deadline_s"] == 45


def test_defusion_serve_passes_the_deadline_to_the_server(monkeypatch, fuser):
    seen = {}

    class FakeServer:
        def __init__(self, config):
            pass

        def run(self, sockets):
            pass

    def fake_build_app(weights, device, limits, **kwargs):
        seen["limits"] = limits
        return create_app(fuser, limits)

    monkeypatch.setattr("defusion.serving.api.build_app", fake_build_app)
    monkeypatch.setattr("uvicorn.Server", FakeServer)
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    assert serve_cli.run(parser.parse_args(["--port", str(free_port()), "--upload-deadline", "42"])) == 0
    assert seen["limits"].upload_deadline_s == 42


# -- 2. errors a browser's script can read under CORS -----------------------------------------------
def test_a_500_carries_cors_headers_so_a_page_reads_its_json(fuser, png):
    """The audit: the 500 was answered outside the CORS middleware; a page saw a CORS failure."""
    class Broken(Fuser):
        def fuse(self, *images, **kwargs):
            raise RuntimeError("a bug")

    app = create_app(Broken(fuser.model, fuser.device, options=fuser.options), cors_origins=[ORIGIN])
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/fuse", files=files(png, png), headers={"Origin": ORIGIN})
    _assert_error(r, 500, "internal server error")
    assert r.headers["access-control-allow-origin"] == ORIGIN


def test_a_500_is_still_raised_for_the_server_to_log(fuser, png):
    class Broken(Fuser):
        def fuse(self, *images, **kwargs):
            raise RuntimeError("a bug")

    with TestClient(create_app(Broken(fuser.model, fuser.device, options=fuser.options), cors_origins=[ORIGIN])) as c:
        with pytest.raises(RuntimeError, match="a bug"):  # re-raised after the answer: uvicorn logs the traceback
            c.post("/v1/fuse", files=files(png, png), headers={"Origin": ORIGIN})


def test_a_refused_preflight_is_json(fuser):
    with TestClient(create_app(fuser, cors_origins=[ORIGIN])) as c:
        r = c.options("/v1/fuse", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        detail = _assert_error(r, 400, "Disallowed CORS origin", "--cors-origin")
        assert "\n" not in detail
        method = c.options("/v1/fuse", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"})
        _assert_error(method, 400, "Disallowed CORS method")
        assert method.headers["access-control-allow-origin"] == ORIGIN  # as Starlette answers it


# -- 3. OpenAPI --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spec(fuser) -> dict:
    return create_app(fuser, Limits(max_upload_bytes=20_000_000, max_pixels=3_000_000)).openapi()


def test_openapi_gives_readable_operation_ids(spec):
    ids = {path: {method: op.get("operationId") for method, op in ops.items()} for path, ops in spec["paths"].items()}
    assert ids == {"/v1/fuse": {"post": "fuse"}, "/v1/info": {"get": "info"}, "/healthz": {"get": "healthz"},
                   "/readyz": {"get": "readyz"}}


def test_openapi_states_the_servers_limits_and_the_image_types_of_the_request_body(spec):
    body = spec["paths"]["/v1/fuse"]["post"]["requestBody"]
    assert "20,000,000 bytes per file" in body["description"] and "3,000,000 pixels" in body["description"]
    assert "120 s" in body["description"]  # the upload deadline
    encoding = body["content"]["multipart/form-data"]["encoding"]
    assert set(encoding) == {"a", "b", "c", "d"}
    accepted = encoding["a"]["contentType"].split(", ")
    assert accepted == list(IMAGE_CONTENT_TYPES) and {"image/png", "image/jpeg", "image/tiff"} <= set(accepted)


def test_every_format_the_server_reads_has_its_content_type():
    from PIL import Image

    from defusion.io.formats import PILLOW_FORMATS

    Image.init()
    assert {Image.MIME[name] for name in PILLOW_FORMATS} <= set(IMAGE_CONTENT_TYPES)


def test_openapi_gives_the_headers_of_the_408_and_the_503(spec):
    responses = spec["paths"]["/v1/fuse"]["post"]["responses"]
    assert "Connection" in responses["408"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]
    assert "shutting down" in responses["503"]["description"]
    assert MODEL_HEADER in responses["200"]["headers"]


def test_openapi_says_infrared_is_1_or_more(spec):
    infrared = next(p for p in spec["paths"]["/v1/fuse"]["post"]["parameters"] if p["name"] == "infrared")
    assert {"type": "integer", "minimum": 1} in infrared["schema"]["anyOf"]


def test_openapi_describes_the_probes_and_info(spec):
    for path in ("/healthz", "/readyz"):
        responses = spec["paths"][path]["get"]["responses"]
        assert set(responses) == {"200", "503"}, responses
        assert responses["503"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HealthStatus"}
    assert "Retry-After" in spec["paths"]["/readyz"]["get"]["responses"]["503"]["headers"]
    info = spec["paths"]["/v1/info"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert info == {"$ref": "#/components/schemas/Info"}
    assert {"model", "weights", "limits", "version"} <= set(spec["components"]["schemas"]["Info"]["properties"])


def test_the_info_model_describes_the_document_exactly(fuser, lively_weights):
    """Info forbids keys it does not name: a key added to /v1/info without its schema fails here."""
    for weights in (None, lively_weights):
        with TestClient(create_app(fuser, weights=weights)) as c:
            Info.model_validate(c.get("/v1/info").json())


def test_the_probes_answers_fit_their_model(client):
    from defusion.serving.openapi import HealthStatus

    HealthStatus.model_validate(client.get("/healthz").json())
    HealthStatus.model_validate(client.get("/readyz").json())


# -- 4. which weights made an answer -----------------------------------------------------------------
def test_info_has_the_weights_sha256_and_every_fused_answer_names_the_model(fuser, lively_weights, png):
    digest = hashlib.sha256(lively_weights.read_bytes()).hexdigest()
    with TestClient(create_app(fuser, weights=lively_weights, cors_origins=[ORIGIN])) as c:
        assert c.get("/v1/info").json()["weights"]["sha256"] == digest
        for query in ("", "?components=true", "?pixels=sources&source_map=true"):
            r = c.post(f"/v1/fuse{query}", files=files(png, png), headers={"Origin": ORIGIN})
            assert r.status_code == 200, r.text
            assert r.headers[MODEL_HEADER] == f"defusion/{__version__}; weights-sha256={digest[:12]}"
            assert MODEL_HEADER.lower() in r.headers["access-control-expose-headers"].lower()


def test_an_onnx_export_is_named_by_the_weights_it_was_exported_from(fuser, png, tmp_path, monkeypatch):
    """The header names the weights alike whichever runtime serves them: an export records their digest
    (weights_sha256_16); /v1/info's sha256 stays the loaded file's own."""
    export = tmp_path / "denet.onnx"
    export.write_bytes(b"an export's bytes")
    monkeypatch.setattr(fuser.model, "metadata", {"weights_sha256_16": "0123456789abcdef"}, raising=False)
    with TestClient(create_app(fuser, weights=export)) as c:
        assert c.get("/v1/info").json()["weights"]["sha256"] == hashlib.sha256(export.read_bytes()).hexdigest()
        answer = c.post("/v1/fuse", files=files(png, png))
        assert answer.headers[MODEL_HEADER] == f"defusion/{__version__}; weights-sha256=0123456789ab"


def test_the_digest_is_computed_once_not_per_request(fuser, lively_weights, png, monkeypatch):
    from defusion.serving import info

    app = create_app(fuser, weights=lively_weights)
    monkeypatch.setattr(info, "file_sha256", lambda path: pytest.fail("hashed again"))
    with TestClient(app) as c:
        assert c.post("/v1/fuse", files=files(png, png)).status_code == 200
        assert c.get("/v1/info").json()["weights"]["sha256"]


def test_without_a_weights_file_the_header_names_what_the_model_records(client, fuser, lively_weights, png):
    """No file to hash: the version, and the weights' digest where the model records it (an ONNX export,
    which the default runtime runs: its automatic export of these weights)."""
    from defusion.model.weights import weights_digest

    assert client.get("/v1/info").json()["weights"]["sha256"] is None
    header = client.post("/v1/fuse", files=files(png, png)).headers[MODEL_HEADER]
    if getattr(fuser.model, "metadata", {}).get("weights_sha256_16"):
        assert header == f"defusion/{__version__}; weights-sha256={weights_digest(lively_weights)[:12]}"
    else:
        assert header == f"defusion/{__version__}"


# -- 6. HEAD /v1/info ----------------------------------------------------------------------------------
def test_head_info_answers_like_get(client):
    head, get = client.head("/v1/info"), client.get("/v1/info")
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"] == "application/json"
