"""The DeFusion web UI (Streamlit): ``defusion ui``, or ``streamlit run`` on this file.

Pick a built-in example (multi-exposure, multi-focus), upload two registered images, or upload a
bracket or focus stack of more; the app fuses them with the one fusion core
(:class:`defusion.fusion.fuser.Fuser`) and shows the inputs, the fused image, the common and unique
components (pairs), a metrics table, and a PNG download.

Settings come from the environment (``defusion ui`` sets them): ``DEFUSION_WEIGHTS`` (weights
file; default: the shipped weights), ``DEFUSION_DEVICE`` (auto/cpu/cuda) and
``DEFUSION_MAX_PIXELS`` (pixel bound of an input, default 25 MP). See docs/ui.md.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from typing import Iterator, Sequence

try:
    import streamlit as st
except ImportError:  # pragma: no cover - the 'ui' extra is not installed
    st = None

from defusion.io.images import ImageReadError, ImageTooLargeError
from defusion.io.notes import collecting, split_line
from defusion.model.weights import WeightsError

LOG = logging.getLogger("defusion.ui")
UPLOAD = "Upload two images"
UPLOAD_STACK = "Upload a bracket or focus stack"
CALIBRATE = "Calibrate a camera rig"
#: What the uploaders take, as the captions say it (core.UPLOAD_TYPES).
FORMATS = "PNG, JPEG, TIFF, BMP, WebP, HEIC, camera raw; 8 or 16 bit, or a 32-bit float TIFF"
#: Under the palette, off while the pixels come from the sources (the fusion core refuses both).
SOURCES_TAKE_NO_PALETTE = ("A thermal palette colours the network's fusion; pixels from the sources keep their own "
                           "colours, so the palette is off until the pixels come from the network.")
#: How a pair's page calls its images.
PAIR_NAMES = ("A", "B")
#: Uploads whose EXIF settings are kept for re-runs (a full stack's and a pair's, a few times over).
UPLOAD_SETTINGS_KEPT = 32


if st is not None:
    @st.cache_resource(show_spinner="Loading the model...", max_entries=2)
    def _model(weights: str | None, device: str):
        """The network, loaded once per (weights, device) and shared by all sessions, on the
        default runtime (ONNX Runtime on a CPU, as `defusion fuse`)."""
        from defusion.fusion.fuser import resolve_device
        from defusion.fusion.runtime import DEFAULT_RUNTIME, load_network

        return load_network(weights, DEFAULT_RUNTIME, resolve_device(device))

    @st.cache_resource
    def _results():
        """Fusions already made, shared by all sessions: (options, content hash) -> result, bounded
        by count and bytes (core.ResultCache). Kept by hand rather than with st.cache_data, which
        cannot replay the progress bar a fusion updates."""
        from defusion.ui import core

        return core.ResultCache()

    @st.cache_data(max_entries=UPLOAD_SETTINGS_KEPT, show_spinner=False)
    def _upload_settings(data: bytes, name: str):
        """An upload's camera and exposure settings (io.shots.upload_settings), its EXIF read once per
        upload rather than on every re-run of the page (a PNG's EXIF may take decoding it whole)."""
        from defusion.io.shots import upload_settings

        return upload_settings(data, name)

    @st.cache_data(max_entries=UPLOAD_SETTINGS_KEPT, show_spinner=False)
    def _float_range(data: bytes):
        """An upload's lowest and highest float value (core.float_range), None for integer pixels:
        read once per upload, not on every re-run of the page (it decodes a float TIFF again)."""
        from defusion.ui import core

        return core.float_range(data)


def _fuser(weights: str | None, device: str, options):
    """The fusion core with the page's options (a FuseOptions: core.fuse_options), around the cached model."""
    from defusion.fusion.fuser import Fuser

    return Fuser(_model(weights, device), device, options=options)


def _progress(core, fuser, images: list) -> tuple:
    """A progress bar over the network passes (and a function to call after each), shown only when
    a fusion takes several: a large image's tiles, a stack's pairs."""
    total = core.passes(fuser, images)
    if total < 2:
        return None, None
    bar = st.progress(0.0, text=f"Fusing: 0 of {total} network passes")
    done = [0]

    def step() -> None:
        done[0] += 1
        bar.progress(min(done[0] / total, 1.0), text=f"Fusing: {done[0]} of {total} network passes")

    return bar, step


def _source(core) -> str:
    """The sidebar's choice of images: an example, uploads, or the calibration page."""
    with st.sidebar:
        st.header("Options")
        return st.radio("Images", [*core.EXAMPLES, UPLOAD, UPLOAD_STACK, CALIBRATE], key="source")


def _sidebar(core, source: str) -> tuple:
    """The kind of images (the fusion core's task) and the fusion options chosen, a FuseOptions
    (not drawn on the calibration page, where they do nothing); a stack's infrared image is picked
    by :func:`_stack_infrared` once its files are known, a pair's camera rig comes with its uploads."""
    with st.sidebar:
        color = st.radio("Colour mode", core.COLOR_MODES, key="color", horizontal=True,
                         help="auto (= ycbcr): fuse luminance; colours from the colour source, or blended by "
                              "saturation when both are colour. rgb: fuse two colour images in RGB (the paper's "
                              "setting)")
        if source in core.EXAMPLE_TASKS:
            task = core.EXAMPLE_TASKS[source]
        else:
            kind = st.radio("Kind of images", list(core.KINDS), key="kind", horizontal=True,
                            help="sets the gains' defaults, and for focus stacks pixels from the sources: each "
                                 "kind of images takes the ones that scored best on its benchmarks")
            task = core.KINDS[kind]
        low, high, step = core.UNIQUE_GAIN_RANGE
        gain = st.slider("Unique gain", low, high, step=step, key=f"gain-{task}",
                         **_unless_kept(f"gain-{task}", value=core.default_unique_gain(task)),
                         on_change=_reset_detail, args=(core, task),
                         help="how much of what only one image shows goes into the fused one: 1 is the paper's "
                              "fusion; higher keeps more infrared targets and exposed or focused detail, with "
                              "more contrast")
        low, high, step = core.DETAIL_GAIN_RANGE
        detail = st.slider("Detail gain", low, high, step=step, key=f"detail-{task}",
                           **_unless_kept(f"detail-{task}", value=core.default_detail_gain(task, gain)),
                           help="how much of the fine detail only one image shows goes in, apart from its "
                                "brightness (the unique gain): higher is sharper, with more grain")
        tile = st.selectbox("Tile size", core.TILE_CHOICES, key="tile",
                            help="auto tiles network inputs over 1 MP, each tile at most 768 pixels a side and no larger "
                                 "than the image needs; off runs one pass")
        align = st.selectbox("Align images", core.ALIGN_CHOICES, key="align",
                             help="register the images onto the first (an exposure bracket: onto its best-exposed "
                                  "image) before fusing, for a bracket or focus stack shot by hand: translation, "
                                  "euclidean (+ rotation), affine (+ scale), "
                                  "homography (+ perspective); none (default) takes them as registered. Not for "
                                  "infrared + visible pairs")
        pixels = st.radio("Pixels from", core.PIXEL_CHOICES, key=f"pixels-{task}", horizontal=True,
                          **_unless_kept(f"pixels-{task}", index=core.PIXEL_CHOICES.index(core.default_pixels(task))),
                          help="network: the network's fused reconstruction, as in the paper (the default, but "
                               "for focus stacks). sources (focus stacks' default): each pixel from the image the "
                               "network's decomposition shows in focus there: sharper (62-68 dB PSNR against a "
                               "known all-in-focus image, the reconstruction 31-35 dB), and as good at inference "
                               "scale 1 (4x faster). Not for infrared + visible pairs or exposures")
        scale = st.radio("Inference scale", core.SCALE_CHOICES, key=f"scale-{pixels}", horizontal=True,
                         **_unless_kept(f"scale-{pixels}", index=core.SCALE_CHOICES.index(core.default_scale(pixels))),
                         help="the network runs on the images up-sampled this many times: 2 (default) is "
                              "sharper than 1 (the paper's scale, 4x faster); 3 is slower still. Pixels from "
                              "the sources start at 1, as good there")
        deghost = st.checkbox("Remove ghosts", key=f"deghost-{task}",  # each kind its own: off for a focus stack
                              help="for a bracket with something moving (people, leaves): what moved between the "
                                   "images is taken from the best-exposed one, so it shows once, not as a "
                                   "half-transparent ghost (after alignment); not for focus stacks, whose focus "
                                   "changes look like motion to it")
        stretch = st.checkbox("Stretch raw thermal frames", key="stretch", **_unless_kept("stretch", value=True),
                              help="a grey 16-bit image whose values fill a narrow band (a thermal camera's "
                                   "14-bit counts) is stretched onto the full range before fusing; off takes "
                                   "the values as they are (defusion fuse --stretch none). Not for a float TIFF "
                                   "outside 0 to 1 (a radiometric frame in degrees): reading stretches it from its "
                                   "lowest to its highest value either way, as defusion fuse reads it")
        palette, infrared = _palette(core, source, pixels)
    return task, core.fuse_options(task=task, color=color, tile=tile, scale=scale, unique_gain=gain,
                                   detail_gain=detail, align=align, pixels=pixels, deghost=deghost, palette=palette,
                                   infrared=infrared, stretch="auto" if stretch else "none")


def _reset_detail(core, task: str | None) -> None:
    """The unique gain moved: the detail gain goes back to the one that goes with the new gain (as
    docs/ui.md says), whatever was chosen at another gain."""
    gain = st.session_state[f"gain-{task}"]
    st.session_state[f"detail-{task}"] = core.default_detail_gain(task, gain)


def _unless_kept(key: str, **default) -> dict:
    """A widget's starting value (``default``, as its keyword), unless the session keeps a value for
    ``key`` (:func:`_keep_choices`): Streamlit warns of a widget given both, and takes the kept one."""
    return {} if key in st.session_state else default


def _palette(core, source: str, pixels: str) -> tuple[str, int | None]:
    """The thermal palette and a pair's infrared image (None: auto), drawn in the sidebar; not on an
    example's page (neither example has an infrared image: "none"), where the choice is kept."""
    if source in core.EXAMPLE_TASKS:
        return "none", None
    with st.sidebar:
        from_sources = pixels == "sources"  # a palette colours the network's fusion (FuseOptions.with_task drops it)
        palette = st.selectbox("Thermal palette", core.PALETTES, key="palette", disabled=from_sources,
                               help="infrared + visible: colour the fused image by the infrared image's warmth, as "
                                    "thermal cameras show it (the infrared image: the grey one, else B); none "
                                    "(default) keeps the sources' own colours")
        if from_sources:  # the choice is kept for pixels from the network
            st.caption(SOURCES_TAKE_NO_PALETTE)
            palette = "none"
        infrared = None
        if palette != "none" and source != UPLOAD_STACK:
            choice = st.radio("Infrared image", list(core.INFRARED_CHOICES), key="infrared", horizontal=True,
                              help="which image the palette colours: auto takes the only grey one, else B")
            infrared = core.INFRARED_CHOICES[choice]
    return palette, infrared


def _resize(core) -> bool:
    """The sidebar's choice to resize uploads of another size to the first's (the CLI's --resize),
    drawn with the uploads it applies to."""
    return st.sidebar.checkbox(core.RESIZE_CHOICE, key="resize",
                               help="one camera's shots of different sizes: the others are resized (stretched, not "
                                    "cropped) to the first image's size before fusing, as defusion fuse --resize "
                                    "does; not for two cameras side by side (upload their rig file instead)")


def _stack_infrared(core, palette: str, names: list[str]) -> int | None:
    """A stack's infrared image for a palette, picked by file name in the sidebar (the page shows
    a bracket in the order it is fused, so a number in file-name order would not agree with it)."""
    if palette == "none":
        return None
    choices = core.stack_infrared_choices(names)
    choice = st.sidebar.selectbox("Infrared image", list(choices), key="infrared_stack",
                                  help="which image the palette colours: auto takes the one raw thermal frame or "
                                       "the only grey image, else the last")
    return choices[choice]


@contextlib.contextmanager
def _said_on_page() -> Iterator[None]:
    """Show what decoding the uploads inside had to say (alpha ignored, only a TIFF's first page
    read, a broken EXIF block, ...; each line names its upload) on the page, as ``defusion fuse``
    says it on stderr: a web user never sees the server's. Shown also when decoding then fails."""
    with collecting() as said:
        try:
            yield
        finally:
            for kind, message in map(split_line, said):
                (st.warning if kind == "warning" else st.info)(message)


def _inputs(core, source: str, settings):
    """The two images, their names, the uploaded files (None for the examples) and the camera rig
    of the rig file (None without one), or None when the user has not given both images yet."""
    if source != UPLOAD:
        names = core.EXAMPLES[source]
        a, b = core.load_example(source, settings.max_pixels)
        return a, b, names, None, None
    limit_mb = st.get_option("server.maxUploadSize")
    st.caption(f"Two registered images of one size, or from a calibrated camera rig with its rig file ({FORMATS}), "
               f"at most {limit_mb} MB and {settings.max_pixels / 1e6:g} MP each.")
    col_a, col_b = st.columns(2)
    up_a = _uploaded(col_a, "Image A", type=core.UPLOAD_TYPES, key="upload_a")
    up_b = _uploaded(col_b, "Image B", type=core.UPLOAD_TYPES, key="upload_b")
    up_rig = _uploaded(st, "Camera rig (optional)", type=["json"], key="upload_rig",
                       help="images from a fixed infrared + visible camera rig, of different sizes or views: "
                            "the rig file (from *Calibrate a camera rig*, or defusion calibrate) maps B "
                            "onto A's pixel grid before fusing")
    resize = _resize(core)
    if not up_a or not up_b:
        st.info("Upload both images to fuse them.")
        return None
    (name_a, data_a), (name_b, data_b) = up_a[0], up_b[0]
    rig = core.parse_rig(up_rig[0][1], up_rig[0][0]) if up_rig and up_rig[0][1] else None
    a, b = core.decode_pair(data_a, name_a, data_b, name_b, settings.max_pixels, max_bytes=int(limit_mb) * 2**20,
                            rig=rig, resize=resize)
    return a, b, (name_a, name_b), [data_a, data_b], rig


def _stack_inputs(core, settings):
    """The uploaded bracket or stack, its names and files (natural file-name order: f2 before f10),
    or None until two are given."""
    limit_mb = st.get_option("server.maxUploadSize")
    st.caption(f"2 to {core.MAX_STACK_IMAGES} registered images of one size, fused pairwise ({FORMATS}), "
               f"at most {limit_mb} MB and {settings.max_pixels / 1e6:g} MP each. A focus stack is fused in "
               "file-name order (f2 before f10); an exposure bracket (kind: exposure bracket) sorted by brightness, "
               "whatever its names.")
    uploads = _uploaded(st, "Images", type=core.UPLOAD_TYPES, accept_multiple_files=True, key="upload_stack")
    resize = _resize(core)
    if len(uploads) < 2:
        st.info("Upload two or more images to fuse them.")
        return None
    given = core.in_name_order([(data, name) for name, data in uploads])
    images = core.decode_stack(given, settings.max_pixels, max_bytes=int(limit_mb) * 2**20, resize=resize)
    return images, [name for _, name in given], [data for data, _ in given]


def _calibrate_page(core, settings) -> None:
    """Calibrate a thermal + visible rig from one image per camera and a chessboard or marked
    points (the core's calibration, as ``defusion calibrate``); show the fit and offer the rig file."""
    limit_mb = st.get_option("server.maxUploadSize")
    st.subheader("Calibrate a camera rig")
    st.caption("One image from each camera of a fixed rig (a thermal and a visible camera side by side), taken at the "
               "same moment. The rig file maps the second camera's images onto the first's pixel grid; use it with "
               "*Upload two images*, or `defusion fuse --rig`. A chessboard both cameras see (heated or cooled for "
               "the infrared) is found by itself; otherwise upload the points you marked in both images.")
    col_a, col_b = st.columns(2)
    up_a = _uploaded(col_a, "First camera (the fused images' grid)", type=core.UPLOAD_TYPES, key="calib_a")
    up_b = _uploaded(col_b, "Second camera", type=core.UPLOAD_TYPES, key="calib_b")
    method = st.radio("Marks from", ["a chessboard", "a points file (CSV)"], key="calib_method", horizontal=True)
    board, points = None, None
    if method == "a chessboard":
        board = core.parse_board(st.text_input("Inner corners, across x down", "9x6", key="calib_board"))
    else:
        up_points = _uploaded(st, "Points: x_ref, y_ref, x_cam, y_cam per line", type=["csv", "txt"],
                              key="calib_points")
        points = up_points[0][1] if up_points else None
    motions = list(core.RIG_MOTIONS)
    motion = st.selectbox("Motion", motions, index=motions.index(core.DEFAULT_RIG_MOTION),
                          key="calib_motion", help="similarity for parallel cameras; affine (default) also takes "
                                                   "shear; homography, cameras not parallel, needs more marks")
    if not up_a or not up_b or (board is None and points is None):
        missing = ["an image from each camera"] if not up_a or not up_b else []
        missing += ["the points file"] if board is None and points is None else []
        st.info(f"Upload {' and '.join(missing)}.")
        return
    with _said_on_page(), st.spinner("Calibrating..."):
        (name_a, data_a), (name_b, data_b) = up_a[0], up_b[0]
        result = core.calibrate_uploads(data_a, name_a, data_b, name_b, motion, board, points,
                                        settings.max_pixels, max_bytes=int(limit_mb) * 2**20)
    fit, camera = result.calibration.fits[0], result.calibration.rig.cameras[0]
    import pandas as pd

    st.table(pd.DataFrame([{"marks": fit.marks, "fit error (px RMS)": f"{fit.rms_px:.2f}",
                            "largest (px)": f"{fit.worst_px:.2f} (mark {fit.worst_mark})",
                            "sees of the first view": f"{100 * fit.coverage:.0f}%",
                            "marks span": f"{100 * fit.span:.0f}%",
                            "second camera": f"{camera.size[0]}x{camera.size[1]}"}]).set_index("marks"))
    for warning in result.calibration.warnings():
        st.warning(warning)
    for note in result.calibration.notes():
        st.info(note)
    st.image(core.to_uint8(result.check), alt=core.alt_text(
        "calibration check: the two cameras' views in alternate squares, their marks circled and crossed"),
        caption="check: the two views in alternate squares (edges run on across "
                                                  "them where the rig is right); marks as green circles, the second "
                                                  "camera's marks mapped back as red crosses")
    st.download_button("Download the rig file (JSON)", result.rig_file, file_name="rig.json", mime="application/json",
                       key="download_rig")


def _show_stack(core, images, names, result, files, *, notes: Sequence[str] = (),
                shared: bool | None = None, stretch: str = "auto", palette: str = "none") -> None:
    u8 = core.to_uint8
    fused, values, order = result.fused, result.values, result.order
    said = core.told_apart(names)  # two files of one name, as the notes and the infrared picker tell them apart
    st.subheader(f"{len(images)} sources, in the order they are fused, and the fused image")
    for note in notes:
        st.info(note)
    cols = st.columns(min(len(images), 4))
    for i, k in enumerate(order):
        onto = f", aligned onto {said[result.frame]}" if k != result.frame and _aligned() else ""
        cols[i % len(cols)].image(u8(result.sources[k]), caption=f"{i + 1}: {said[k]}{onto}",
                                  alt=core.alt_text(f"source image {i + 1}, {said[k]}{onto}"))
    for note in _read_notes(core, images, said, files, shared, stretch):
        st.caption(note)
    st.image(u8(fused), caption="fused", alt=core.alt_text("fused image", [said[k] for k in order], palette))
    shown = [names[k] for k in order]  # the downloads are named by the first and last shown
    st.download_button("Download the fused image (PNG)", core.png_bytes(fused, files),
                       file_name=core.download_name(*shown), mime="image/png", key="download")
    st.caption("The decomposition into common and unique parts is shown for pairs; a stack is fused "
               "pairwise, halves first (docs/benchmarks.md, \"More than two inputs\").")
    if result.source_map is not None:  # pixels from the sources: which image each pixel came from
        st.caption(f"With pixels from the sources, each fused pixel is taken from the image this map shows: "
                   f"black image 1, white image {len(images)}, grey levels between in the order above (for a "
                   "focus stack shot near to far, a depth map).")
        st.columns(3)[0].image(u8(result.source_map), caption="source of each pixel (1 black to "
                                                               f"{len(images)} white)",
                               alt=core.alt_text(f"map of the source of each fused pixel, {said[order[0]]} black to "
                                                 f"{said[order[-1]]} white"))
        st.download_button("Download the source map (PNG)", core.png_bytes(result.source_map),
                           file_name=core.download_name(*shown, part="source_map"), mime="image/png",
                           key="download_source_map")
    st.subheader("Metrics")
    import pandas as pd

    st.table(pd.DataFrame(core.metric_rows(values)).set_index("metric"))
    st.caption("Computed on 8-bit data by defusion.metrics (see docs/metrics.md): Qabf and MEF-SSIM over every "
               "source; the no-reference metrics (EN, SD, SF, AG) reward contrast and noise alike.")


def _show(core, a, b, names, result, files, *, rig: bool = False, notes: Sequence[str] = (),
          shared: bool | None = None, stretch: str = "auto", palette: str = "none") -> None:
    u8 = core.to_uint8
    parts, values, (shown_a, shown_b) = result
    said = core.told_apart(names)  # two files of one name, as the notes tell them apart
    st.subheader("Sources and fused image")
    for note in notes:
        st.info(note)
    cols = st.columns(3)
    captions = (f"A: {said[0]}" + _aligned_onto(parts.frame, 0),
                f"B: {said[1]}" + (", mapped onto A by the rig" if rig else "") + _aligned_onto(parts.frame, 1))
    for col, image, caption in zip(cols, (shown_a, shown_b), captions):
        col.image(u8(image), caption=caption, alt=core.alt_text(f"source image {caption}"))
    for line in _read_notes(core, [a, b], said, files, shared, stretch):
        st.caption(line)
    cols[2].image(u8(parts.fused), caption="fused", alt=core.alt_text("fused image", said, palette))
    st.download_button("Download the fused image (PNG)", core.png_bytes(parts.fused, files),
                       file_name=core.download_name(*names), mime="image/png", key="download")
    st.subheader("Decomposition")
    st.caption("What the network separated the sources into: the information they share, and what "
               "only A or only B has (the fused image is reconstructed from all three).")
    cols = st.columns(3)
    components = (("common", parts.common, "common"), ("unique_a", parts.unique_a, "unique to A"),
                  ("unique_b", parts.unique_b, "unique to B"))
    for col, (part, image, caption) in zip(cols, components):
        col.image(u8(image), caption=caption, alt=core.alt_text(f"{caption} in the decomposition", said))
        col.download_button(f"Download {caption} (PNG)", core.png_bytes(image),
                            file_name=core.download_name(*names, part=part), mime="image/png", key=f"download_{part}")
    if parts.weight_a is not None:  # pixels from the sources: which source each pixel came from
        st.caption("With pixels from the sources, each fused pixel is A's where the map is white and B's "
                   "where it is black, as the unique parts show each image in focus.")
        col = st.columns(3)[0]
        col.image(u8(parts.weight_a), caption="taken from A (white) or B (black)",
                  alt=core.alt_text(f"decision map, white where the pixel is taken from {said[0]}, black from "
                                    f"{said[1]}"))
        col.download_button("Download the decision map (PNG)", core.png_bytes(parts.weight_a),
                            file_name=core.download_name(*names, part="weight_a"), mime="image/png",
                            key="download_weight_a")
    st.subheader("Metrics")
    import pandas as pd

    st.table(pd.DataFrame(core.metric_rows(values)).set_index("metric"))
    st.caption("Computed on 8-bit data by defusion.metrics (see docs/metrics.md); no-reference "
               "metrics (EN, SD, SF, AG) reward contrast and noise alike.")


#: Sidebar choices kept while their widget is not on the page (Streamlit forgets a widget's value
#: in a run that does not draw it: switching to an example, or to the calibration page that draws
#: none of them, and back reset them). Uploads cannot be kept this way (Streamlit does not let code
#: set an uploader; :func:`_uploaded` keeps their files instead); a stack's infrared image is kept
#: while its file is still uploaded.
KEPT_CHOICES = ("kind", "color", "tile", "align", "stretch", "palette", "infrared", "infrared_stack",
                "resize")
KEPT_PREFIXES = ("gain-", "detail-", "pixels-", "scale-", "deghost-")


def _keep_choices() -> None:
    """Re-assign the kept choices, which tells Streamlit they are still wanted."""
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and (key in KEPT_CHOICES or key.startswith(KEPT_PREFIXES)):
            st.session_state[key] = st.session_state[key]


#: Where the files of each upload widget are kept, by its key, as (name, bytes) pairs.
KEPT_UPLOADS = "kept_uploads"


def _uploaded(place, label: str, *, key: str, **kwargs) -> list[tuple[str, bytes]]:
    """The files in upload widget ``key`` drawn in ``place`` (``st`` or a column), as (name, bytes),
    or the files it held when the page last left it.

    Streamlit forgets an uploader's files in a run that does not draw it (a look at an example, the
    calibration page), and no code can put them back into it; so they are kept here and used, said
    under the empty widget, until the user uploads others or removes them (the button)."""
    kept: dict[str, list[tuple[str, bytes]]] = st.session_state.setdefault(KEPT_UPLOADS, {})
    value = place.file_uploader(label, key=key, on_change=kept.pop, args=(key, None), **kwargs)
    files = [(f.name, f.getvalue()) for f in (value if isinstance(value, list) else [value]) if f is not None]
    if files:
        kept[key] = files
    elif kept.get(key):
        files = kept[key]
        place.caption(f"Using {', '.join(name for name, _ in files)}, uploaded earlier.")
        if place.button("Remove", key=f"forget_{key}"):
            kept.pop(key, None)
            st.rerun()
    return files


def _read_notes(core, images: Sequence, names: Sequence[str], files: list[bytes] | None, shared: bool | None,
                stretch: str) -> list[str]:
    """What was done to the sources' values before fusing, a line each, as the page shows them: a
    float upload outside 0 to 1 stretched by its range when read (whatever the stretch choice), and
    with ``stretch`` auto the raw 16-bit frames the fusion core stretched (core.stretch_notes)."""
    floats = [core.float_note(name, _float_range(data)) for data, name in zip(files or [], names)]
    raw = core.stretch_notes(list(images), list(names), shared) if stretch == "auto" else []
    return [line for line in floats if line] + raw


def _aligned() -> bool:
    return st.session_state.get("align", "none") != "none"


def _aligned_onto(frame: int, index: int) -> str:
    """A pair's caption's note for image ``index`` when aligned: which image it was registered onto
    (``frame``: A as given, or an exposure pair's best-exposed image); none for the frame itself."""
    return f", as aligned onto {PAIR_NAMES[frame]}" if _aligned() and index != frame else ""


def _noted(line: str | None) -> list[str]:
    """A note that may be None, as a list of lines to show."""
    return [line] if line else []


def _advise_kind(core, task: str | None, options, names: Sequence[str], files: list[bytes] | None) -> None:
    """Show what the uploads' EXIF says of the kind of images chosen (a bracket or a focus stack
    fused as general images, pixels from the sources on a bracket), as ``defusion fuse`` says it,
    before the fusion; not for an example (its kind is its own)."""
    if files is None:
        return
    settings = [_upload_settings(data, name) for data, name in zip(files, names)]
    warnings, notes = core.exif_advice(settings, core.told_apart(names), options, task)
    for line in warnings:
        st.warning(line)
    for line in notes:
        st.info(line)


#: How the page says the pixel bound is the UI's, for whoever started it to raise.
UI_LIMIT_HINT = "the UI's limit: whoever started it can raise it with defusion ui --max-pixels"


def _error_text(core, exc: Exception, labels: Sequence[str]) -> str:
    """An input or fusion error as the page says it: the fusion core's "image N" named as the page
    names that image (``labels``: A and B, or a stack's file names); an image over the pixel bound,
    which names its file, with the bound as the UI's own."""
    if isinstance(exc, ImageTooLargeError):
        return str(exc.told(hint=UI_LIMIT_HINT))
    return core.name_images(str(exc), labels)


def main() -> None:
    if st is None:
        raise SystemExit("the web UI needs the 'ui' extra: pip install 'defusion[ui]'")
    from defusion.fusion.fuser import SizeMismatchError
    from defusion.ui import core

    st.set_page_config(page_title="DeFusion", layout="wide")
    st.title("DeFusion image fusion")
    st.caption("Fusion from decomposition (Liang et al., ECCV 2022): one self-supervised network for "
               "multi-exposure, multi-focus and infrared + visible images.")
    _keep_choices()
    source = _source(core)
    labels: Sequence[str] = ()  # what the fusion core's "image N" is on this page, once decoded
    try:
        settings = core.Settings.from_env()
        if source == CALIBRATE:
            _calibrate_page(core, settings)
            return
        task, options = _sidebar(core, source)
        for warning in core.option_warnings(task, options.pixels, options.align, options.deghost):
            st.warning(warning)
        if source == UPLOAD_STACK:
            with _said_on_page():
                given = _stack_inputs(core, settings)
            if given is None:
                return
            images, names, files = given
            labels = names
            options = replace(options, infrared=_stack_infrared(core, options.palette, names))
            _advise_kind(core, task, options, names, files)
            fuser = _fuser(settings.weights, settings.device, options)
            key = ("stack", settings.weights, settings.device, options, core.digest(*images))
            bar, step = _progress(core, fuser, images) if key not in _results() else (None, None)
            with st.spinner(f"Fusing {len(images)} images..."):
                result = _results().remember(key, lambda: core.fuse_stack_and_score(fuser, images, step))
            if bar is not None:
                bar.empty()
            said = core.told_apart(names)
            notes = [*_noted(core.palette_note(fuser, images, said)),
                     *core.registration_notes(said, result, options.align)]
            _show_stack(core, images, names, result, files, notes=notes, shared=fuser.options.stretch_shared,
                        stretch=fuser.options.stretch, palette=fuser.options.palette)
            return
        with _said_on_page():
            given = _inputs(core, source, settings)
        if given is None:
            return
        a, b, names, files, rig = given
        labels = core.PAIR_LABELS
        options = replace(options, rig=rig)
        _advise_kind(core, task, options, names, files)
        fuser = _fuser(settings.weights, settings.device, options)
        key = ("pair", settings.weights, settings.device, options, core.digest(a, b))
        bar, step = _progress(core, fuser, [a, b]) if key not in _results() else (None, None)
        with st.spinner("Fusing..."):
            result = _results().remember(key, lambda: core.fuse_and_score(fuser, a, b, step))
        if bar is not None:
            bar.empty()
        said = core.told_apart(names)
        notes = [*_noted(core.palette_note(fuser, [a, b], said)),
                 *core.registration_notes(said, result.parts, options.align)]
    except WeightsError as exc:
        st.error(f"cannot load the model: {exc}")
        return
    except (ImageReadError, core.InputError, SizeMismatchError, ValueError) as exc:
        st.error(_error_text(core, exc, labels))
        return
    except Exception as exc:  # never a traceback in the page; the log keeps it
        LOG.exception("fusion failed")
        st.error(f"fusion failed: {type(exc).__name__}: {_error_text(core, exc, labels)}")
        return
    _show(core, a, b, names, result, files, rig=rig is not None, notes=notes, shared=fuser.options.stretch_shared,
          stretch=fuser.options.stretch, palette=fuser.options.palette)


if __name__ == "__main__":  # Streamlit runs this file as __main__; importing it does nothing
    main()
