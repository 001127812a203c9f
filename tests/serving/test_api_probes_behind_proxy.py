"""An ops audit, behind probes and reverse proxies: with --allowed-host, Kubernetes' and AWS ALB's probes
(Host: the pod's or target's IP address) got 400 from /healthz and /readyz; `--root-path` did not exist, so
/docs fetched /openapi.json outside a proxy's prefix; `POST /v1/fuse/` was a 307 to the server's own
address, the prefix dropped."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion.serving.api import Limits, create_app
from defusion.serving.responses import encode_png
from tests.conftest import free_port

POD = "10.1.2.3:18515"


@pytest.fixture(scope="module")
def guarded(fuser):
    with TestClient(create_app(fuser, Limits(), allowed_hosts=("api.example.com",))) as c:
        yield c


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/healthz/"])
def test_probes_answer_whatever_the_host_and_nothing_else_does(guarded, path):
    assert guarded.get(path, headers={"Host": POD}).status_code == 200
    assert guarded.head(path, headers={"Host": POD}).status_code == 200
    r = guarded.get("/v1/info", headers={"Host": POD})
    assert r.status_code == 400 and "--allowed-host 10.1.2.3" in r.json()["detail"]
    assert guarded.get("/v1/info", headers={"Host": "api.example.com"}).status_code == 200


def test_under_a_root_path_probes_answer_whatever_the_host_and_docs_load_the_schema_from_it(fuser):
    app = create_app(fuser, Limits(), allowed_hosts=())
    with TestClient(app, root_path="/fusion") as c:
        assert c.get("/healthz", headers={"Host": POD}).status_code == 200
        assert c.get("/v1/info", headers={"Host": POD}).status_code == 400
        assert "url: '/fusion/openapi.json'" in c.get("/docs", headers={"Host": "localhost"}).text  # FastAPI's
        assert c.get("/openapi.json", headers={"Host": "localhost"}).json()["servers"] == [{"url": "/fusion"}]


def test_a_trailing_slash_is_answered_not_redirected(client):
    png = encode_png(np.full((16, 16), 128, np.uint8))
    r = client.post("/v1/fuse/", files={"a": ("a.png", png, "image/png"), "b": ("b.png", png, "image/png")},
                    follow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.headers.get("location"))
    assert client.get("/v1/info/", follow_redirects=False).status_code == 200


def test_serve_passes_root_path_and_forwarded_allow_ips_to_uvicorn(uvicorn_config, capsys):
    port = free_port()
    status, config = uvicorn_config("--port", port, "--root-path", "/fusion/", "--forwarded-allow-ips", "10.0.0.1")
    assert status == 0 and (config.root_path, config.forwarded_allow_ips) == ("/fusion", "10.0.0.1")
    assert f"serving on http://127.0.0.1:{port} (device cpu; behind a reverse proxy under /fusion)" in (
        capsys.readouterr().err)
    with pytest.raises(SystemExit):
        uvicorn_config("--root-path", "fusion")
