"""Where defusion's notes go: lines (the command, a server's process) or Python warnings (a caller),
whatever order threads open and close the command's blocks in (a review found the flag left on)."""

from __future__ import annotations

import threading

import pytest

from defusion.io import notes


def test_blocks_of_two_threads_closing_out_of_order_leave_the_process_as_it_was():
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def thread_a():
        with notes.as_lines():
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def thread_b():
        a_in.wait(5)
        with notes.as_lines():
            b_in.set()
            a_out.wait(5)
            seen["b inside, a gone"] = notes.saying_lines()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"b inside, a gone": True}
    assert not notes.saying_lines()


def test_a_servers_process_says_lines_for_good():
    from defusion.serving.api import EnvSettingError, app_from_env

    assert not notes.saying_lines()
    with pytest.raises(EnvSettingError):  # settings read after the switch: no model needed to see it
        app_from_env({"DEFUSION_SCALE": "abc"})
    assert notes.saying_lines()  # uvicorn's process: ONNX export and fallback lines go to its log as lines
