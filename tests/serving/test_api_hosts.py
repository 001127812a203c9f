"""The server's Host check (a guard against DNS rebinding) and the length of its refusals of unknown names
(security audit, finding 6)."""

from __future__ import annotations

import argparse

import pytest
from fastapi.testclient import TestClient

from defusion.cli import serve as serve_cli
from defusion.serving.api import Limits, create_app


@pytest.fixture(scope="module")
def guarded(fuser):
    """The app as ``defusion serve --allowed-host api.example.com`` on 127.0.0.1 makes it."""
    with TestClient(create_app(fuser, Limits(), allowed_hosts=("API.example.com",))) as c:
        yield c


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST",
                                  "api.example.com", "api.example.com:443", "127.0.0.2:80"])
def test_loopback_and_allowed_hosts_are_answered(guarded, host):
    assert guarded.get("/healthz", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example:8000", "testserver", "api.example.com.evil", "", "a b"])
def test_other_hosts_are_refused_in_one_json_line_saying_how_to_allow_them(guarded, host):
    response = guarded.get("/v1/info", headers={"Host": host})
    assert response.status_code == 400 and response.headers["content-type"] == "application/json"
    detail = response.json()["detail"]
    assert "\n" not in detail and "DNS rebinding" in detail and "--allowed-host" in detail
    if host == "attacker.example:8000":
        assert detail.startswith("Host 'attacker.example:8000': this server answers only to localhost, 127.0.0.1, "
                                 "::1, api.example.com")
        assert detail.endswith("start the server with --allowed-host attacker.example "
                               "(or DEFUSION_ALLOWED_HOSTS=attacker.example)")


def test_the_check_covers_posts_before_their_body_is_read(guarded):
    response = guarded.post("/v1/fuse", headers={"Host": "attacker.example"}, files={"a": ("a.png", b"x")})
    assert response.status_code == 400 and "attacker.example" in response.json()["detail"]


def test_create_app_answers_every_host_by_default(client):
    """Library users and TestClient (Host: testserver) see no change: the check is create_app's opt-in."""
    assert client.get("/healthz", headers={"Host": "attacker.example:8000"}).status_code == 200


def test_serve_checks_host_on_loopback_binds_and_where_names_are_given():
    assert serve_cli.allowed_hosts("127.0.0.1", None) == ()
    assert serve_cli.allowed_hosts("localhost", ["api.example.com"]) == ("api.example.com",)
    assert serve_cli.allowed_hosts("::1", None) == ()
    assert serve_cli.allowed_hosts("0.0.0.0", None) is None
    assert serve_cli.allowed_hosts("192.0.2.7", ["api.example.com"]) == ("api.example.com",)


def test_allowed_host_option_takes_names_and_addresses_only(capsys):
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    args = parser.parse_args(["--allowed-host", "API.Example.com", "--allowed-host", "[::1]"])
    assert args.allowed_host == ["api.example.com", "::1"]
    for bad in ("http://api.example.com", "api.example.com:8000", "a/b"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--allowed-host", bad])
        assert "without scheme or port" in capsys.readouterr().err


def test_serve_on_loopback_gives_the_app_its_host_check(served_settings):
    assert served_settings("--allowed-host", "api.example.com")["allowed_hosts"] == ("api.example.com",)
    assert served_settings()["allowed_hosts"] == ()


# -- unknown names: a few quoted, the rest counted ----------------------------------------

def test_thousands_of_unknown_query_parameters_get_a_short_answer(client):
    query = "&".join(f"p{i}=1" for i in range(5000))
    response = client.post(f"/v1/fuse?{query}", files={"a": ("a.png", b"x"), "b": ("b.png", b"x")})
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("unknown query parameters 'p0', 'p1', 'p2', 'p3', 'p4' and 4995 more; POST /v1/fuse "
                             "takes query parameters components, ")
    assert len(detail) < 400


def test_a_long_unknown_name_is_cut(client):
    response = client.post(f"/v1/fuse?{'x' * 40_000}=1", files={"a": ("a.png", b"x"), "b": ("b.png", b"x")})
    assert response.status_code == 422 and len(response.json()["detail"]) < 400
    assert "'" + "x" * 61 + "...'" in response.json()["detail"]


def test_allowed_hosts_from_the_environment():
    """Under uvicorn (app_from_env) the bind address is not known: Host is checked only where names are given."""
    from defusion.serving.api import EnvSettingError, settings_from_env

    assert settings_from_env({"DEFUSION_ALLOWED_HOSTS": "API.example.com, b.example"})["allowed_hosts"] == (
        "api.example.com", "b.example")
    assert settings_from_env({})["allowed_hosts"] is None
    with pytest.raises(EnvSettingError, match="DEFUSION_ALLOWED_HOSTS='http://x.example': .*without scheme or port"):
        settings_from_env({"DEFUSION_ALLOWED_HOSTS": "http://x.example"})


def test_a_bare_ipv6_allowed_host_is_answered_and_a_long_host_is_cut():
    """Review: --allowed-host 2001:db8::1 was dropped (only bracketed IPv6 parsed), so the server refused
    the address it was told to answer, naming the option already given; a 5,000-character Host was echoed."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from defusion.serving.api import HostCheck

    inner = FastAPI()
    inner.get("/ping")(lambda: {"ok": True})
    client = TestClient(HostCheck(inner, ["2001:DB8:0::1"]))
    assert client.get("/ping", headers={"host": "[2001:db8::1]:8000"}).status_code == 200
    long = client.get("/ping", headers={"host": "a" * 5000 + ".example"})
    assert long.status_code == 400 and len(long.json()["detail"]) < 400
