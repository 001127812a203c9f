"""The page reads each upload's metadata once for one fusion: decoding reads it to bring the colours into one
profile and hands it on to the fused image's download (it read every upload again there)."""

from __future__ import annotations

import pytest

from tests.io.test_icc_mixed_profiles import P3, bracket, tagged_png

H, W = 30, 40


def test_a_pair_on_the_page_reads_each_upload_once(ui_env, reads):
    streamlit = pytest.importorskip("streamlit.testing.v1")
    from defusion.ui import APP_PATH
    from defusion.ui.app import UPLOAD

    under, over = bracket(H, W)
    files = [tagged_png(under), tagged_png(over, P3)]
    at = streamlit.AppTest.from_file(str(APP_PATH), default_timeout=120).run()
    at.radio(key="source").set_value(UPLOAD).run()
    uploader = at.file_uploader(key="upload_a")
    if not hasattr(uploader, "upload"):
        pytest.skip("this Streamlit's AppTest cannot simulate uploads")
    uploader.upload("u.png", files[0], "image/png")
    at.file_uploader(key="upload_b").upload("o_p3.png", files[1], "image/png")
    reads.clear()
    at.run()
    assert not at.exception and not at.error
    assert [bytes(source) for source in reads] == files
