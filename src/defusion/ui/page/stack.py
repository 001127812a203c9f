"""An uploaded bracket or focus stack on the page: its uploads, fused pairwise, and shown in the
order it was fused, with the source map (pixels from the sources), downloads and the metrics table."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np
import streamlit as st

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import FuseOptions
from defusion.io.metadata import ImageMetadata
from defusion.ui.fusing import FusedStack, fuse_stack_and_score
from defusion.ui.fusion_notes import fusion_lines, palette_note, registration_notes
from defusion.fusion.provenance import MadeBy
from defusion.ui.image_output import alt_text, download_name, png_bytes, sheet_jpeg
from defusion.ui.page import FORMATS
from defusion.ui.page.caches import fused, fuser
from defusion.ui.page.messages import advise_kind, noted, read_notes
from defusion.ui.page.metrics import show_metrics
from defusion.ui.page.session_state import uploaded
from defusion.ui.page.sidebar import aligned, resize_choice, stack_infrared
from defusion.ui.result_cache import digest
from defusion.ui.settings import Settings
from defusion.ui.upload_names import in_name_order, told_apart
from defusion.ui.uploads import BYTES_PER_MB, MAX_STACK_IMAGES, UPLOAD_TYPES, decode_stack_with_metadata

#: The stack's uploader's label: not the sidebar's "Images" choice, which a screen reader would announce alike.
STACK_UPLOADER = "Images of the bracket or focus stack"


def stack_inputs(settings: Settings) -> tuple[list[np.ndarray], list[str], list[bytes], list[ImageMetadata]] | None:
    """The uploaded bracket or stack, its names, files and metadata as decoding read it (natural file-name
    order: f2 before f10), or None until two are given."""
    limit_mb = st.get_option("server.maxUploadSize")
    st.caption(f"2 to {MAX_STACK_IMAGES} registered images of one size, fused pairwise ({FORMATS}), "
               f"at most {limit_mb} MB and {settings.max_pixels / 1e6:g} MP each. A focus stack is fused in "
               "file-name order (f2 before f10); an exposure bracket (kind: exposure bracket) sorted by brightness, "
               "whatever its names.")
    uploads = uploaded(st, STACK_UPLOADER, type=UPLOAD_TYPES, accept_multiple_files=True, key="upload_stack")
    resize = resize_choice()
    if len(uploads) < 2:
        st.info("Upload two or more images to fuse them.")
        return None
    given = in_name_order([(data, name) for name, data in uploads])
    decoded = decode_stack_with_metadata(given, settings.max_pixels, max_bytes=int(limit_mb) * BYTES_PER_MB,
                                         resize=resize)
    return decoded.images, [name for _, name in given], [data for data, _ in given], decoded.metadata


def fuse_and_show_stack(settings: Settings, task: str | None, options: FuseOptions, images: list[np.ndarray],
                        names: list[str], files: list[bytes], metadata: Sequence[ImageMetadata] | None = None) -> None:
    """The stack fused with ``options`` and its infrared image picked in the sidebar (once per
    content: kept for re-runs), after what the uploads' EXIF says of the kind chosen; then shown with
    what the fusion core said fusing it (:func:`~defusion.ui.fusion_notes.fusion_lines`), its download
    carrying the uploads' ``metadata`` as decoding read it."""
    options = replace(options, infrared=stack_infrared(options.palette, names))
    advise_kind(task, options, names, files)
    fusing = fuser(settings.weights, settings.device, options)
    key = ("stack", settings.weights, settings.device, options, digest(*images))
    result, core = fused(key, fusing, images, f"Fusing {len(images)} images...",
                         lambda step, scoring: fuse_stack_and_score(fusing, images, step, scoring))
    said = told_apart(names)
    warnings, notes = fusion_lines(core, said, [*noted(palette_note(fusing, images, said)),
                                                *registration_notes(said, result, options.align)])
    show_stack(images, names, result, files, warnings=warnings, notes=notes, shared=fusing.options.stretch_shared,
               stretch=fusing.options.stretch, palette=fusing.options.palette,
               made_by=MadeBy.of(fusing, settings.weights, task), metadata=metadata)


def show_stack(images: list[np.ndarray], names: Sequence[str], result: FusedStack, files: list[bytes] | None, *,
               warnings: Sequence[str] = (), notes: Sequence[str] = (), shared: bool | None = None,
               stretch: str = "auto", palette: str = "none", made_by: MadeBy | None = None,
               metadata: Sequence[ImageMetadata] | None = None) -> None:
    """The sources in the order they were fused, under the ``warnings`` and ``notes`` on them, the
    fused image, the source map, their downloads (the fused image's and sheet's saying what ``made_by``
    it, with the uploads' ``metadata`` as decoding read it, else the ``files``' read again) and the
    metrics table."""
    u8 = to_uint8
    fused_image, values, order = result.fused, result.values, result.order
    said = told_apart(names)  # two files of one name, as the notes and the infrared picker tell them apart
    st.subheader(f"{len(images)} sources, in the order they are fused, and the fused image")
    for warning in warnings:
        st.warning(warning)
    for note in notes:
        st.info(note)
    cols = st.columns(min(len(images), 4))
    for i, k in enumerate(order):
        onto = f", aligned onto {said[result.frame]}" if k != result.frame and aligned() else ""
        cols[i % len(cols)].image(u8(result.sources[k]), caption=f"{i + 1}: {said[k]}{onto}",
                                  alt=alt_text(f"source image {i + 1}, {said[k]}{onto}"))
    for note in read_notes(images, said, files, shared, stretch):
        st.caption(note)
    st.image(u8(fused_image), caption="fused", alt=alt_text("fused image", [said[k] for k in order], palette))
    shown = [names[k] for k in order]  # the downloads are named by the first and last shown
    st.download_button("Download the fused image (PNG)", png_bytes(fused_image, metadata or files, images, made_by),
                       file_name=download_name(*shown), mime="image/png", key="download")
    st.download_button("Download a compare sheet (JPEG)",
                       sheet_jpeg([(said[k], result.sources[k]) for k in order], fused_image, made_by),
                       file_name=download_name(*shown, part="compare", suffix=".jpg"), mime="image/jpeg",
                       key="download_compare", help="the sources and the fused image side by side, labelled, "
                                                    "in one picture to share")
    st.caption("The decomposition into common and unique parts is shown for pairs; a stack is fused two "
               "images at a time: each half of it into one image, then the two halves together.")
    if result.source_map is not None:  # pixels from the sources: which image each pixel came from
        st.caption(f"With pixels from the sources, each fused pixel is taken from the image this map shows: "
                   f"black image 1, white image {len(images)}, grey levels between in the order above (for a "
                   "focus stack shot near to far, a depth map).")
        st.columns(3)[0].image(u8(result.source_map), caption="source of each pixel (1 black to "
                                                               f"{len(images)} white)",
                               alt=alt_text(f"map of the source of each fused pixel, {said[order[0]]} black to "
                                            f"{said[order[-1]]} white"))
        st.download_button("Download the source map (PNG)", png_bytes(result.source_map),
                           file_name=download_name(*shown, part="source_map"), mime="image/png",
                           key="download_source_map")
    show_metrics(values, "Computed on the 8-bit images: Qabf and MEF-SSIM over every source; the no-reference "
                         "metrics (EN, SD, SF, AG) reward contrast and noise alike.")
