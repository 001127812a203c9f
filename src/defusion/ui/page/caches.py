"""What the page keeps across its runs and its users' sessions in Streamlit's caches (the network,
the fusions made with what the fusion core said making them, what an upload's reading found), and a
fusion made through them, with a progress bar while it is made and scored."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, TypeVar

import numpy as np
import streamlit as st

from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.io.front_end import reading_for
from defusion.io.notes import collecting
from defusion.ui import fusion_notes
from defusion.ui.fusing import SCORING_TEXT, passes, passes_text
from defusion.ui.result_cache import ResultCache

if TYPE_CHECKING:
    from defusion.fusion.onnx_runtime import OnnxDeNet
    from defusion.fusion.runtime import CompiledNet
    from defusion.io.shots import ShotSettings
    from defusion.model.denet import DeNet

#: What a fusion made through :func:`fused` gives (its ``fuse``'s result).
_Result = TypeVar("_Result")
#: A callback of a fusion under way: after each network pass, or as its scoring starts.
_Event = Callable[[], None]

#: Uploads whose EXIF settings are kept for re-runs (a full stack's and a pair's, a few times over).
UPLOAD_SETTINGS_KEPT = 32


@st.cache_resource(show_spinner="Loading the model...", max_entries=2)
def model(weights: str | None, device: str) -> DeNet | CompiledNet | OnnxDeNet:
    """The network, loaded once per (weights, device) and shared by all sessions, on the
    default runtime (ONNX Runtime on a CPU, as `defusion fuse`); a device that cannot run refused in
    the page's words (``defusion ui``'s ``--device``: :func:`~defusion.fusion.device.asked`)."""
    from defusion.fusion.fuser import resolve_device
    from defusion.fusion.runtime import DEFAULT_RUNTIME, load_network

    with reading_for("ui"):
        return load_network(weights, DEFAULT_RUNTIME, resolve_device(device))


@st.cache_resource
def fusions() -> ResultCache:
    """Fusions already made, shared by all sessions: (options, content hash) -> result, bounded
    by count and bytes (ui.result_cache.ResultCache). Kept by hand rather than with st.cache_data,
    which cannot replay the progress bar a fusion updates."""
    return ResultCache()


@st.cache_data(max_entries=UPLOAD_SETTINGS_KEPT, show_spinner=False)
def upload_settings(data: bytes, name: str) -> ShotSettings:
    """An upload's camera and exposure settings (io.shots.upload_settings), its EXIF read once per
    upload rather than on every re-run of the page (a PNG's EXIF may take decoding it whole)."""
    from defusion.io.shots import upload_settings

    return upload_settings(data, name)


@st.cache_data(max_entries=UPLOAD_SETTINGS_KEPT, show_spinner=False)
def upload_float_range(data: bytes) -> tuple[float, float] | None:
    """An upload's lowest and highest float value (ui.fusion_notes.float_range), None for integer
    pixels: read once per upload, not on every re-run of the page (it decodes a float TIFF again)."""
    return fusion_notes.float_range(data)


def fuser(weights: str | None, device: str, options: FuseOptions) -> Fuser:
    """The fusion core with the page's options (ui.options.fuse_options), around the cached model."""
    return Fuser(model(weights, device), device, options=options)


def fused(key: tuple, fusing: Fuser, images: list[np.ndarray], spinner: str,
          fuse: Callable[[_Event | None, _Event], _Result]) -> tuple[_Result, tuple[str, ...]]:
    """``fuse(step, scoring)``'s result and the lines the fusion core said making it (``"warning: ..."``,
    ``"note: ..."``, its images as "image N": :func:`defusion.io.notes.collecting`), made once for
    ``key`` and kept together (:func:`fusions`), so that a re-run of the page shows them again; with
    ``spinner`` said while it is made, a progress bar that ``step`` (None without one: a single network
    pass) moves after each pass when it takes several, and ``scoring`` saying the metrics are computed."""
    kept = key in fusions()
    bar, step = (None, None) if kept else _progress(fusing, images)
    status = bar if bar is not None or kept else st.empty()  # where the scoring is said (none: kept)

    def scoring() -> None:
        if bar is not None:
            bar.progress(1.0, text=SCORING_TEXT)
        elif status is not None:
            status.caption(SCORING_TEXT)

    with st.spinner(spinner):
        result = fusions().remember(key, lambda: _saying(fuse, step, scoring))
    if status is not None:
        status.empty()
    return result


def _saying(fuse: Callable[[_Event | None, _Event], _Result], step: _Event | None,
            scoring: _Event) -> tuple[_Result, tuple[str, ...]]:
    """``fuse(step, scoring)``'s result and the lines the fusion core said meanwhile, kept with it
    (said outside :func:`~defusion.io.notes.collecting`, they went to the server's log alone)."""
    with collecting() as said, reading_for("ui"):  # the UI says a stretch itself: not the library's note too
        result = fuse(step, scoring)
    return result, tuple(said)


def _progress(fusing: Fuser, images: list[np.ndarray]) -> tuple:
    """A progress bar over the network passes (and a function to call after each), shown only when
    a fusion takes several: a large image's tiles, a stack's pairs."""
    total = passes(fusing, images)
    if total < 2:
        return None, None
    bar = st.progress(0.0, text=passes_text(0, total))
    done = [0]

    def step() -> None:
        done[0] += 1
        bar.progress(min(done[0] / total, 1.0), text=passes_text(done[0], total))

    return bar, step
