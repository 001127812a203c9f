"""The REST API under interleaving: each request checked and fused by its own options while another
holds the model, clients that left skipped, a disconnect mid-upload one log line.

The interleavings are made, not waited for: a Fuser whose first model call waits inside (the
model's turn held, its request's options in force) until the test releases it, and the runner's
count of the requests waiting for their turn, which says when a second request has to wait.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, replace

import httpx
import numpy as np
import pytest

from defusion.fusion.fuser import Fuser
from defusion.serving.api import CLIENT_CLOSED_REQUEST, Limits, create_app, encode_png
from tests.serving.test_api import _assert_error, _half_size_rig, as_image, files

#: Seconds any wait in these tests may take before it counts as a hang (they take milliseconds).
TIMEOUT = 30


@pytest.fixture(scope="module")
def pair():
    from tests.conftest import smooth_image

    rng = np.random.default_rng(3)
    return smooth_image(rng, 40, 48), smooth_image(rng, 40, 48, channels=1)


async def _until_waiting(runner, count: int = 1, timeout: float = TIMEOUT) -> bool:
    """Whether ``count`` requests come to wait for the model's turn within ``timeout`` seconds (on
    the app's event loop: the runner counts them there)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while runner.waiting < count:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


@dataclass
class _Held:
    """An app whose Fuser's first ``fuse`` waits inside the model until ``release`` is set."""

    app: object
    runner: object  # the app's ModelRunner: its ``waiting`` says who waits for the model
    entered: threading.Event
    release: threading.Event
    calls: list  # the options of each model call, in order


def _held_app(fuser: Fuser, limits: Limits | None = None) -> _Held:
    entered, release, calls = threading.Event(), threading.Event(), []

    class Holding(Fuser):
        def fuse(self, *images, **kwargs):
            calls.append(self.options)
            if len(calls) == 1:
                entered.set()
                release.wait(TIMEOUT)
            return super().fuse(*images, **kwargs)

    app = create_app(Holding(fuser.model, fuser.device, options=fuser.options), limits or Limits())
    return _Held(app, app.state.runner, entered, release, calls)


def _post(client: httpx.AsyncClient, query: str, a: np.ndarray, b: np.ndarray, rig: str | None = None):
    return client.post(f"/v1/fuse{query}", files=files(encode_png(a), encode_png(b)),
                       data={"rig": rig} if rig is not None else None)


async def _while_first_is_in_the_model(held: _Held, fuser: Fuser, first: tuple, second: tuple):
    """Send ``first`` and, once it is inside the model with its options in force, ``second``. Returns
    whether ``second`` was answered before it had to wait for the model, both responses, and the
    shared Fuser's options as they were while ``first`` was inside."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=held.app), base_url="http://test") as c:
        first_task = asyncio.create_task(_post(c, *first))
        try:
            assert await asyncio.to_thread(held.entered.wait, TIMEOUT), "the first request never reached the model"
            shared_options = fuser.options
            second_task = asyncio.create_task(_post(c, *second))
            waiting = asyncio.create_task(_until_waiting(held.runner))
            await asyncio.wait({second_task, waiting}, return_when=asyncio.FIRST_COMPLETED)
            answered_first = second_task.done() and held.runner.waiting == 0
        finally:
            held.release.set()
        waiting.cancel()
        return answered_first, await first_task, await second_task, shared_options


def test_a_request_is_checked_by_its_own_options_while_another_is_in_the_model(fuser, pair):
    """source_map=true alone is a 422 at once, even while a pixels=sources request is being fused;
    infrared=1 without a palette is a 422 even while a palette=jet request is being fused."""
    a, b = pair
    for first, second, words in (
        (("?pixels=sources", a, b), ("?source_map=true", a, b), ("needs pixels=sources",)),
        (("?palette=jet", b, a), ("?infrared=1", b, a), ("add palette=",)),
    ):
        held = _held_app(fuser)
        answered_first, r_first, r_second, shared = asyncio.run(
            _while_first_is_in_the_model(held, held.app.state.fuser, first, second))
        assert answered_first, f"{second[0]} waited for the model: it was checked by {first[0]}'s options"
        _assert_error(r_second, 422, *words)
        assert r_first.status_code == 200, r_first.text
        assert shared == fuser.options  # nobody's request options were put into the shared Fuser
        assert len(held.calls) == 1  # the refused request never reached the model


def test_a_request_without_a_rig_is_not_fused_with_another_requests_rig(fuser, pair):
    """While a rig request is in the model, a plain same-size pair waits for the model and is then
    fused as it is, not refused by the other request's rig ("the rig was calibrated with ...")."""
    a, b = pair
    thermal = np.ascontiguousarray(b[::2, ::2])  # the rig's camera of half the resolution
    rig = json.dumps(_half_size_rig().to_json())
    held = _held_app(fuser)
    answered_first, r_rig, r_plain, shared = asyncio.run(
        _while_first_is_in_the_model(held, held.app.state.fuser, ("", a, thermal, rig), ("", a, b)))
    assert not answered_first, f"the plain pair was answered while the rig request held the model: {r_plain.text}"
    assert r_rig.status_code == 200 and r_plain.status_code == 200, (r_rig.text, r_plain.text)
    np.testing.assert_array_equal(as_image(r_plain.content), fuser.fuse(a, b))
    assert shared == fuser.options
    assert [options.rig is not None for options in held.calls] == [True, False]


def test_request_options_are_made_from_the_servers_alone(fuser):
    """The runner's per-request options never read the shared Fuser's (which a request could change)."""
    app = create_app(Fuser(fuser.model, fuser.device, options=fuser.options), Limits())
    runner = app.state.runner
    app.state.fuser.options = replace(fuser.options, palette="jet")  # as the old swap did, mid-request
    assert runner.options_for().palette == "none"
    assert runner.options_for("ivf", pixels="sources").pixels == "sources"
    assert runner.options_for(None, pixels=None) == fuser.options


# -- clients that leave ------------------------------------------------------------------
def _scope(content_type: str, length: int) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/v1/fuse", "raw_path": b"/v1/fuse", "root_path": "", "query_string": b"",
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(length).encode())],
            "client": ("127.0.0.1", 50000), "server": ("test", 80)}


async def _raw_post(app, body_messages: list[dict], content_type: str, length: int, gone: threading.Event) -> list:
    """One POST /v1/fuse straight through ASGI: ``body_messages``, then a client that stays until
    ``gone`` is set and then reports the disconnect. Returns what the app sent."""
    pending = list(body_messages)
    sent = []

    async def receive() -> dict:
        if pending:
            return pending.pop(0)
        while not gone.is_set():  # Request.is_disconnected() cancels this wait: still connected
            await asyncio.sleep(0.01)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(content_type, length), receive, send)
    return sent


def _multipart(a: np.ndarray, b: np.ndarray) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://test/v1/fuse", files=files(encode_png(a), encode_png(b)))
    return request.read(), request.headers["content-type"]


def test_a_request_whose_client_left_while_it_waited_is_not_fused(fuser, pair, caplog):
    a, b = pair
    held = _held_app(fuser)
    body, content_type = _multipart(a, b)
    gone = threading.Event()

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=held.app), base_url="http://test") as c:
            first = asyncio.create_task(_post(c, "", a, b))
            try:
                assert await asyncio.to_thread(held.entered.wait, TIMEOUT)
                abandoned = asyncio.create_task(_raw_post(held.app, [{"type": "http.request", "body": body}],
                                                          content_type, len(body), gone))
                assert await _until_waiting(held.runner), "it never waited for the model"
                gone.set()  # the client gives up while the first request is still being fused
            finally:
                held.release.set()
            return await first, await abandoned

    with caplog.at_level("INFO", logger="defusion.serving"):
        first, sent = asyncio.run(scenario())
    assert first.status_code == 200
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST
    assert len(held.calls) == 1  # the abandoned request's fusion was skipped
    lines = [r.getMessage() for r in caplog.records if r.name == "defusion.serving"]
    assert len(lines) == 1 and "disconnected while waiting for the model" in lines[0], lines


def test_a_fusion_whose_client_left_stops_at_the_next_network_pass(fuser, pair, caplog):
    """A three-image stack takes two network passes; the client leaves during the first, so the
    second never runs and the model is free for the requests behind it."""
    a, b = pair
    gone, passes = threading.Event(), []

    class Leaving(Fuser):
        def _project(self, *args, **kwargs):
            passes.append(1)
            gone.set()  # the client gives up while this pass runs
            return super()._project(*args, **kwargs)

    app = create_app(Leaving(fuser.model, fuser.device, options=fuser.options), Limits())
    request = httpx.Request("POST", "http://test/v1/fuse",
                            files={**files(encode_png(a), encode_png(b)), "c": ("c.png", encode_png(a), "image/png")})
    body = request.read()
    with caplog.at_level("INFO", logger="defusion.serving"):
        sent = asyncio.run(_raw_post(app, [{"type": "http.request", "body": body}],
                                     request.headers["content-type"], len(body), gone))
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST
    assert len(passes) == 1  # the stack's second pass was never run
    lines = [r.getMessage() for r in caplog.records if r.name == "defusion.serving"]
    assert len(lines) == 1 and "disconnected during its fusion; it was stopped" in lines[0], lines


def test_a_client_that_stays_is_fused(fuser, pair):
    """The disconnect check does not mistake a waiting client for a gone one."""
    a, b = pair
    body, content_type = _multipart(a, b)
    app = create_app(Fuser(fuser.model, fuser.device, options=fuser.options), Limits())
    gone = threading.Event()

    async def scenario():
        sent = await _raw_post(app, [{"type": "http.request", "body": body}], content_type, len(body), gone)
        gone.set()
        return sent

    sent = asyncio.run(scenario())
    assert sent[0]["status"] == 200
    np.testing.assert_array_equal(as_image(sent[1]["body"]), fuser.fuse(a, b))


def test_a_disconnect_mid_upload_is_one_log_line_not_a_traceback(fuser, pair, caplog):
    a, b = pair
    body, content_type = _multipart(a, b)
    app = create_app(Fuser(fuser.model, fuser.device, options=fuser.options), Limits())
    gone = threading.Event()
    gone.set()  # after the first half of the body, the connection is closed
    half = [{"type": "http.request", "body": body[: len(body) // 2], "more_body": True}]
    with caplog.at_level("DEBUG"):
        sent = asyncio.run(_raw_post(app, half, content_type, len(body), gone))  # raises nothing
    assert sent[0]["status"] == CLIENT_CLOSED_REQUEST
    records = [r for r in caplog.records if r.name.startswith(("defusion", "uvicorn", "starlette", "fastapi"))]
    assert len(records) == 1 and "disconnected during the upload" in records[0].getMessage()
    assert records[0].exc_info is None
    # uvicorn writes no access-log line for it (nothing is sent): this line is the one, as uvicorn's would be
    assert records[0].getMessage().startswith(f'127.0.0.1:50000 - "POST /v1/fuse HTTP/1.1" {CLIENT_CLOSED_REQUEST}')


def test_defusion_serve_shows_the_servers_own_log_lines_at_its_log_level():
    """Without a handler, Python shows only warnings: the one line for a client that left would be lost."""
    from uvicorn.config import LOGGING_CONFIG

    from defusion.cli.serve import log_config

    config = log_config("debug")
    assert config["loggers"]["defusion"] == {"handlers": ["default"], "level": "DEBUG", "propagate": False}
    assert config["handlers"]["default"] == LOGGING_CONFIG["handlers"]["default"]  # uvicorn's own format
    assert "defusion" not in LOGGING_CONFIG["loggers"]  # uvicorn's default left as it was
