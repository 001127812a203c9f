"""``POST /v1/fuse``'s query checked before admission (serving.fuse_query.request_options), without a
model or an app: the server's options are a runner's over a bare FuseOptions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from defusion.fusion.options import FuseOptions
from defusion.fusion.stretch import FixedStretch
from defusion.serving.errors import ApiError
from defusion.serving.fuse_query import FuseQuery, RequestOptions, request_options
from defusion.serving.limits import FIELDS
from defusion.serving.runner import ModelRunner


def _checked(server: FuseOptions | None = None, **query) -> RequestOptions:
    """``request_options`` of ``FuseQuery(**query)`` on a server running at ``server`` (default options)."""
    runner = ModelRunner(SimpleNamespace(options=server or FuseOptions()))
    return request_options(FuseQuery(**query), runner.options_for, FIELDS)


def test_an_empty_query_keeps_the_server_s_options():
    asked = _checked(FuseOptions(palette="hot"))
    assert asked.options == FuseOptions(palette="hot")
    assert (asked.stretch, asked.spans, asked.mapped) == (None, {}, None)


def test_the_query_s_values_go_on_top_of_the_server_s():
    asked = _checked(palette="inferno", infrared=2, palette_range="0.1,0.9", deghost=True)
    assert asked.options.palette == "inferno" and asked.options.infrared == 1  # counted from 0 inside
    assert asked.options.palette_range == (0.1, 0.9) and asked.options.deghost is True


def test_a_stretch_of_mappings_is_read_and_names_the_uploads_it_maps():
    asked = _checked(stretch="a:7002-8997,c:20.5..44.75")
    assert isinstance(asked.stretch, FixedStretch) and asked.stretch.sources == (0,)
    assert asked.options.stretch == asked.stretch
    assert asked.spans == {2: (20.5, 44.75)} and asked.mapped == [0, 2]


@pytest.mark.parametrize("stretch", ["auto", "none"])
def test_a_named_stretch_maps_no_upload(stretch):
    asked = _checked(stretch=stretch)
    assert asked.options.stretch == stretch and asked.mapped is None


@pytest.mark.parametrize("query, detail", [
    ({"infrared": 0}, "infrared=0: the infrared image's place among the uploads, 1 for 'a'"),
    ({"infrared": 2}, "infrared says which image a palette colours; add palette=inferno (or another)"),
    ({"palette_range": "0.1,0.9"}, "palette_range says what a palette spans; add palette=inferno (or another)"),
    ({"source_map": True}, "source_map=true needs pixels=sources: the network's reconstruction mixes the sources, "
                           "so no pixel comes from one image"),
    ({"components": True, "format": "jpeg"}, "format=jpeg is the fused image's; components=true answers a zip of "
                                             "PNGs (lossless maps): leave format out, or ask format=png"),
    ({"source_map": True, "pixels": "sources", "format": "webp"},
     "format=webp is the fused image's; source_map=true answers a zip of PNGs (lossless maps): leave format out, "
     "or ask format=png"),
])
def test_a_query_that_cannot_be_fused_by_is_a_422_in_one_line(query, detail):
    with pytest.raises(ApiError) as refused:
        _checked(**query)
    assert (refused.value.status, refused.value.detail) == (422, detail)


def test_a_combination_the_options_refuse_is_a_422():
    with pytest.raises(ApiError) as refused:
        _checked(palette="hot", pixels="sources")
    assert refused.value.status == 422 and "palette" in refused.value.detail


def test_a_stretch_that_is_no_mapping_is_refused_before_the_options_are_made():
    with pytest.raises(ApiError) as refused:
        _checked(stretch="always")
    assert refused.value.status == 422 and refused.value.detail.startswith("stretch='always': 'always' is no mapping")


def test_png_or_no_format_is_fine_with_a_zip():
    assert _checked(components=True, format="png").options == FuseOptions()
    assert FuseQuery(components=True, source_map=True).zipped == "components=true"  # components wins, as before
