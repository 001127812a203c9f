"""Two images on the page: an example or two uploads (with an optional rig file), fused, and shown
with the network's decomposition into common and unique parts, downloads and the metrics table."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import streamlit as st

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.fusion.rig import Rig
from defusion.io.metadata import ImageMetadata
from defusion.ui.examples import EXAMPLES, load_example
from defusion.ui.fusing import FusedPair, fuse_and_score
from defusion.ui.fusion_notes import fusion_lines, palette_note, registration_notes
from defusion.fusion.provenance import MadeBy
from defusion.ui.image_output import alt_text, download_name, png_bytes, sheet_jpeg
from defusion.ui.page import FORMATS, UPLOAD
from defusion.ui.page.caches import fused, fuser
from defusion.ui.page.messages import advise_kind, noted, read_notes
from defusion.ui.page.metrics import show_metrics
from defusion.ui.page.session_state import uploaded
from defusion.ui.page.sidebar import aligned, resize_choice
from defusion.ui.result_cache import digest
from defusion.ui.rig_uploads import parse_rig
from defusion.ui.settings import Settings
from defusion.ui.upload_names import told_apart
from defusion.ui.uploads import BYTES_PER_MB, UPLOAD_TYPES, decode_pair_with_metadata

#: How a pair's page calls its images.
PAIR_NAMES = ("A", "B")


def pair_inputs(source: str, settings: Settings
                ) -> tuple[np.ndarray, np.ndarray, Sequence[str], list[bytes] | None, Rig | None,
                           list[ImageMetadata] | None] | None:
    """The two images, their names, the uploaded files (None for the examples), the camera rig
    of the rig file (None without one) and the uploads' metadata as decoding read it (None for the
    examples: the download reads it no more), or None when the user has not given both images yet."""
    if source != UPLOAD:
        names = EXAMPLES[source]
        a, b = load_example(source, settings.max_pixels)
        return a, b, names, None, None, None
    limit_mb = st.get_option("server.maxUploadSize")
    st.caption(f"Two registered images of one size, or from a calibrated camera rig with its rig file ({FORMATS}), "
               f"at most {limit_mb} MB and {settings.max_pixels / 1e6:g} MP each.")
    col_a, col_b = st.columns(2)
    up_a = uploaded(col_a, "Image A", type=UPLOAD_TYPES, key="upload_a")
    up_b = uploaded(col_b, "Image B", type=UPLOAD_TYPES, key="upload_b")
    up_rig = uploaded(st, "Camera rig (optional)", type=["json"], key="upload_rig",
                      help="images from a fixed infrared + visible camera rig, of different sizes or views: "
                           "the rig file (from the *Calibrate a camera rig* page) maps B "
                           "onto A's pixel grid before fusing")
    resize = resize_choice()
    if not up_a or not up_b:
        st.info("Upload both images to fuse them.")
        return None
    (name_a, data_a), (name_b, data_b) = up_a[0], up_b[0]
    rig = parse_rig(up_rig[0][1], up_rig[0][0]) if up_rig and up_rig[0][1] else None
    decoded = decode_pair_with_metadata(data_a, name_a, data_b, name_b, settings.max_pixels,
                                        max_bytes=int(limit_mb) * BYTES_PER_MB, rig=rig, resize=resize)
    a, b = decoded.images
    return a, b, (name_a, name_b), [data_a, data_b], rig, decoded.metadata


def fuse_pair(settings: Settings, task: str | None, options: FuseOptions, a: np.ndarray, b: np.ndarray,
              names: Sequence[str], files: list[bytes] | None
              ) -> tuple[Fuser, FusedPair, list[str], list[str]]:
    """The pair fused with ``options`` (once per content: kept for re-runs), after what the uploads'
    EXIF says of the kind chosen; with the fuser, and the warnings and notes to show above the result
    (what the fusion core said fusing it among them: :func:`~defusion.ui.fusion_notes.fusion_lines`)."""
    advise_kind(task, options, names, files)
    fusing = fuser(settings.weights, settings.device, options)
    key = ("pair", settings.weights, settings.device, options, digest(a, b))
    result, core = fused(key, fusing, [a, b], "Fusing...",
                         lambda step, scoring: fuse_and_score(fusing, a, b, step, scoring))
    said = told_apart(names)
    warnings, notes = fusion_lines(core, said, [*noted(palette_note(fusing, [a, b], said)),
                                                *registration_notes(said, result.parts, options.align)])
    return fusing, result, warnings, notes


def _aligned_onto(frame: int, index: int) -> str:
    """A pair's caption's note for image ``index`` when aligned: which image it was registered onto
    (``frame``: A as given, or an exposure pair's best-exposed image); none for the frame itself."""
    return f", as aligned onto {PAIR_NAMES[frame]}" if aligned() and index != frame else ""


def show_pair(a: np.ndarray, b: np.ndarray, names: Sequence[str], result: FusedPair, files: list[bytes] | None, *,
              rig: bool = False, warnings: Sequence[str] = (), notes: Sequence[str] = (), shared: bool | None = None,
              stretch: str = "auto", palette: str = "none", made_by: MadeBy | None = None,
              metadata: Sequence[ImageMetadata] | None = None) -> None:
    """The sources and the fused image, under the ``warnings`` and ``notes`` on them, the decomposition,
    their downloads (the fused image's and sheet's saying what ``made_by`` it, with the uploads'
    ``metadata`` as decoding read it, else the ``files``' read again) and the metrics table."""
    u8 = to_uint8
    parts, values, (shown_a, shown_b) = result
    said = told_apart(names)  # two files of one name, as the notes tell them apart
    st.subheader("Sources and fused image")
    for warning in warnings:
        st.warning(warning)
    for note in notes:
        st.info(note)
    cols = st.columns(3)
    captions = (f"A: {said[0]}" + _aligned_onto(parts.frame, 0),
                f"B: {said[1]}" + (", mapped onto A by the rig" if rig else "") + _aligned_onto(parts.frame, 1))
    for col, image, caption in zip(cols, (shown_a, shown_b), captions):
        col.image(u8(image), caption=caption, alt=alt_text(f"source image {caption}"))
    for line in read_notes([a, b], said, files, shared, stretch):
        st.caption(line)
    cols[2].image(u8(parts.fused), caption="fused", alt=alt_text("fused image", said, palette))
    st.download_button("Download the fused image (PNG)", png_bytes(parts.fused, metadata or files, [a, b], made_by),
                       file_name=download_name(*names), mime="image/png", key="download")
    st.download_button("Download a compare sheet (JPEG)", sheet_jpeg(list(zip(said, (shown_a, shown_b))), parts.fused,
                                                                    made_by),
                       file_name=download_name(*names, part="compare", suffix=".jpg"), mime="image/jpeg",
                       key="download_compare", help="the sources and the fused image side by side, labelled, "
                                                    "in one picture to share")
    st.subheader("Decomposition")
    st.caption("What the network separated the sources into: the information they share, and what "
               "only A or only B has (the fused image is reconstructed from all three).")
    cols = st.columns(3)
    components = (("common", parts.common, "common"), ("unique_a", parts.unique_a, "unique to A"),
                  ("unique_b", parts.unique_b, "unique to B"))
    for col, (part, image, caption) in zip(cols, components):
        col.image(u8(image), caption=caption, alt=alt_text(f"{caption} in the decomposition", said))
        col.download_button(f"Download {caption} (PNG)", png_bytes(image),
                            file_name=download_name(*names, part=part), mime="image/png", key=f"download_{part}")
    if parts.weight_a is not None:  # pixels from the sources: which source each pixel came from
        st.caption("With pixels from the sources, each fused pixel is A's where the map is white and B's "
                   "where it is black, as the unique parts show each image in focus.")
        col = st.columns(3)[0]
        col.image(u8(parts.weight_a), caption="taken from A (white) or B (black)",
                  alt=alt_text(f"decision map, white where the pixel is taken from {said[0]}, black from "
                               f"{said[1]}"))
        col.download_button("Download the decision map (PNG)", png_bytes(parts.weight_a),
                            file_name=download_name(*names, part="weight_a"), mime="image/png",
                            key="download_weight_a")
    show_metrics(values, "Computed on the 8-bit images; the no-reference metrics (EN, SD, SF, AG) reward "
                         "contrast and noise alike.")
