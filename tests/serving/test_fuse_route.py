"""The pure parts of ``POST /v1/fuse``'s answer (serving.fuse_route): its headers, its metadata."""

from __future__ import annotations

import numpy as np

from defusion.fusion.options import FuseOptions
from defusion.serving.fuse_route import Inputs, _fused_metadata, answer_headers
from defusion.serving.responses import MODEL_HEADER, NOTES_HEADER
from defusion.serving.stream import PALETTE_RANGE_HEADER, STRETCH_HEADER


def _inputs(options: FuseOptions, said: list[str], spans=None, sources_metadata=None) -> Inputs:
    image = np.zeros((4, 4), np.uint8)
    return Inputs(uploads=[], values=[image, image], images=[image, image], spans=spans or {}, options=options,
                  said=said, sources_metadata=sources_metadata)


def test_answer_headers_say_what_made_the_answer_what_it_used_and_what_there_was_to_say():
    inputs = _inputs(FuseOptions(palette="hot", palette_range=(0.1, 0.9)), ["note: one", "warning: two"],
                     spans={1: (20.5, 44.75)})
    headers = answer_headers('attachment; filename="fused.zip"', inputs, "defusion/0.1.0")
    assert headers == {"Content-Disposition": 'attachment; filename="fused.zip"', MODEL_HEADER: "defusion/0.1.0",
                       STRETCH_HEADER: "b:20.5..44.75", PALETTE_RANGE_HEADER: "0.1,0.9",
                       NOTES_HEADER: "note: one | warning: two"}


def test_answer_headers_of_a_plain_fusion_have_no_stream_or_notes_header():
    headers = answer_headers("inline", _inputs(FuseOptions(), []), "defusion/0.1.0")
    assert headers == {"Content-Disposition": "inline", MODEL_HEADER: "defusion/0.1.0"}


def test_metadata_false_leaves_the_fused_image_without_metadata():
    assert _fused_metadata(_inputs(FuseOptions(), [], sources_metadata=None), np.zeros((4, 4), np.uint8)) is None
