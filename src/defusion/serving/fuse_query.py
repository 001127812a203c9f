"""``POST /v1/fuse``'s query, checked before the request is admitted (:func:`request_options`): a
refused query costs no place in the queue and no upload read. What each parameter does:
:data:`~defusion.serving.openapi.QUERY_HELP`."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Callable, Sequence

from defusion.fusion.stretch import STRETCHES, FixedStretch, Stretch
from defusion.serving.answer_format import DEFAULT_FORMAT
from defusion.serving.errors import ApiError, options_or_422
from defusion.serving.stream import FloatSpans, parse_palette_range, read_stretch

if TYPE_CHECKING:  # annotations only: this module loads no torch
    from defusion.fusion.align import Motion
    from defusion.fusion.options import FuseOptions
    from defusion.fusion.selection import PixelSource
    from defusion.fusion.fuser import Task


@dataclass(frozen=True)
class FuseQuery:
    """The query of one ``POST /v1/fuse`` as FastAPI parsed it; None leaves the server's setting.
    ``infrared`` counts from 1 (``a``); ``quality`` None where not sent (each format's default: JPEG
    95, WebP lossless); ``quality_sent``: whether the query named ``quality``."""

    components: bool = False
    task: Task | None = None
    align: Motion | None = None
    pixels: PixelSource | None = None
    stretch: str | None = None
    deghost: bool | None = None
    source_map: bool = False
    metadata: bool = True
    palette: str | None = None
    infrared: int | None = None
    palette_range: str | None = None
    format: str | None = None
    quality: int | None = None
    quality_sent: bool = False

    @property
    def zipped(self) -> str | None:
        """The parameter that makes the answer a zip of PNGs (``"components=true"``, ``"source_map=true"``), or None.

        Example:
            >>> FuseQuery(components=True).zipped, FuseQuery().zipped
            ('components=true', None)
        """
        return "components=true" if self.components else "source_map=true" if self.source_map else None


@dataclass(frozen=True)
class RequestOptions:
    """What a query asks, checked: the request's ``options`` (the server's with the query's on top),
    ``stretch=`` read (``stretch``: the 16-bit uploads' stretch, None where not sent; ``spans``: the
    float uploads' ranges, by upload index) and ``mapped``, the uploads a ``stretch=`` of mappings
    maps (None where it is auto, none or not sent)."""

    options: FuseOptions
    stretch: Stretch | FixedStretch | None
    spans: FloatSpans
    mapped: list[int] | None


def request_options(query: FuseQuery, make_options: Callable[..., FuseOptions],
                    fields: Sequence[str]) -> RequestOptions:
    """``query`` checked and made into options by ``make_options(task, **asked)`` (the server's
    :meth:`~defusion.serving.runner.ModelRunner.options_for`), for a server taking the upload
    fields ``fields``; a 422 (:class:`ApiError`) for a value or combination it cannot fuse by.

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> def make(task, **asked):
        ...     return FuseOptions(**{name: value for name, value in asked.items() if value is not None})
        >>> asked = request_options(FuseQuery(palette="hot", infrared=2, stretch="a:7000-9000"), make, ("a", "b"))
        >>> asked.options.palette, asked.options.infrared, asked.mapped
        ('hot', 1, [0])
        >>> request_options(FuseQuery(infrared=2), make, ("a", "b"))
        Traceback (most recent call last):
        ...
        defusion.serving.errors.ApiError: infrared says which image a palette colours; add palette=inferno (or another)
    """
    if query.infrared is not None and query.infrared < 1:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"infrared={query.infrared}: the infrared image's place among the uploads, 1 for 'a'")
    stretch, spans = read_stretch(query.stretch, fields) if query.stretch is not None else (None, {})
    options = options_or_422(make_options, query.task, align=query.align, pixels=query.pixels, stretch=stretch,
                             deghost=query.deghost, palette=query.palette,
                             infrared=query.infrared - 1 if query.infrared is not None else None,
                             palette_range=parse_palette_range(query.palette_range)
                             if query.palette_range is not None else None)
    if query.source_map and options.pixels != "sources":
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       "source_map=true needs pixels=sources: the network's reconstruction mixes the "
                       "sources, so no pixel comes from one image")
    if query.infrared is not None and options.palette == "none":
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       "infrared says which image a palette colours; add palette=inferno (or another)")
    if query.palette_range is not None and options.palette == "none":
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       "palette_range says what a palette spans; add palette=inferno (or another)")
    if query.zipped and query.format not in (None, DEFAULT_FORMAT):
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"format={query.format} is the fused image's; {query.zipped} answers a zip of PNGs "
                       "(lossless maps): leave format out, or ask format=png")
    mapped = ([*(stretch.sources if isinstance(stretch, FixedStretch) else ()), *spans]
              if query.stretch is not None and query.stretch not in STRETCHES else None)
    return RequestOptions(options, stretch, spans, mapped)
