"""The page's sidebar: the choice of images (an example, uploads, the calibration page) and the
fusion options, made into the fusion core's FuseOptions; the widget keys are the session's memory
of each choice (:mod:`defusion.ui.page.session_state` keeps them)."""

from __future__ import annotations

import streamlit as st

from defusion.fusion.color import PALETTES
from defusion.fusion.fuser import FuseOptions, default_scale
from defusion.ui.examples import EXAMPLE_TASKS, EXAMPLES
from defusion.ui.options import (ALIGN_CHOICES, COLOR_MODES, DETAIL_GAIN_RANGE, INFRARED_CHOICES, KINDS,
                                 PIXEL_CHOICES, RESIZE_CHOICE, SCALE_CHOICES, TILE_CHOICES, UNIQUE_GAIN_RANGE,
                                 default_detail_gain, default_pixels, default_unique_gain, fuse_options,
                                 stack_infrared_choices)
from defusion.ui.page import CALIBRATE, SOURCES_TAKE_NO_PALETTE, UPLOAD, UPLOAD_STACK
from defusion.ui.page.session_state import unless_kept


def choose_source() -> str:
    """The sidebar's choice of images: an example, uploads, or the calibration page."""
    with st.sidebar:
        st.header("Options")
        return st.radio("Images", [*EXAMPLES, UPLOAD, UPLOAD_STACK, CALIBRATE], key="source")


def choose_options(source: str) -> tuple[str | None, FuseOptions]:
    """The kind of images (the fusion core's task) and the fusion options chosen, a FuseOptions
    (not drawn on the calibration page, where they do nothing); a stack's infrared image is picked
    by :func:`stack_infrared` once its files are known, a pair's camera rig comes with its uploads."""
    with st.sidebar:
        color = st.radio("Colour mode", COLOR_MODES, key="color", horizontal=True,
                         help="auto (= ycbcr): fuse luminance; colours from the colour source, or blended by "
                              "saturation when both are colour. rgb: fuse two colour images in RGB (the paper's "
                              "setting)")
        if source in EXAMPLE_TASKS:
            task = EXAMPLE_TASKS[source]
        else:
            kind = st.radio("Kind of images", list(KINDS), key="kind", horizontal=True,
                            help="sets the gains' defaults, and for focus stacks pixels from the sources: each "
                                 "kind of images takes the ones that scored best on its benchmarks")
            task = KINDS[kind]
        low, high, step = UNIQUE_GAIN_RANGE
        gain = st.slider("Unique gain", low, high, step=step, key=f"gain-{task}",
                         **unless_kept(f"gain-{task}", value=default_unique_gain(task)),
                         on_change=_reset_detail, args=(task,),
                         help="how much of what only one image shows goes into the fused one: 1 is the paper's "
                              "fusion; higher keeps more infrared targets and exposed or focused detail, with "
                              "more contrast")
        low, high, step = DETAIL_GAIN_RANGE
        detail = st.slider("Detail gain", low, high, step=step, key=f"detail-{task}",
                           **unless_kept(f"detail-{task}", value=default_detail_gain(task, gain)),
                           help="how much of the fine detail only one image shows goes in, apart from its "
                                "brightness (the unique gain): higher is sharper, with more grain")
        tile = st.selectbox("Tile size", TILE_CHOICES, key="tile",
                            help="auto tiles network inputs over 1 MP, each tile at most 768x768 pixels (a thin image's "
                                 "longer and narrower) and no larger than the image needs; off runs one pass")
        align = st.selectbox("Align images", ALIGN_CHOICES, key="align",
                             help="register the images onto the first (an exposure bracket: onto its best-exposed "
                                  "image) before fusing, for a bracket or focus stack shot by hand: translation, "
                                  "euclidean (+ rotation), affine (+ scale), "
                                  "homography (+ perspective); none (default) takes them as registered. Not for "
                                  "infrared + visible pairs")
        pixels = st.radio("Pixels from", PIXEL_CHOICES, key=f"pixels-{task}", horizontal=True,
                          **unless_kept(f"pixels-{task}", index=PIXEL_CHOICES.index(default_pixels(task))),
                          help="network: the network's fused reconstruction, as in the paper (the default, but "
                               "for focus stacks). sources (focus stacks' default): each pixel from the image the "
                               "network's decomposition shows in focus there: sharper (62-68 dB PSNR against a "
                               "known all-in-focus image, the reconstruction 31-35 dB), and as good at inference "
                               "scale 1 (4x faster). Not for infrared + visible pairs or exposures")
        scale = st.radio("Inference scale", SCALE_CHOICES, key=f"scale-{pixels}", horizontal=True,
                         **unless_kept(f"scale-{pixels}", index=SCALE_CHOICES.index(default_scale(pixels))),
                         help="the network runs on the images up-sampled this many times: 2 (default) is "
                              "sharper than 1 (the paper's scale, 4x faster); 3 is slower still. Pixels from "
                              "the sources start at 1, as good there")
        deghost = st.checkbox("Remove ghosts", key=f"deghost-{task}",  # each kind its own: off for a focus stack
                              help="for a bracket with something moving (people, leaves): what moved between the "
                                   "images is taken from the best-exposed one, so it shows once, not as a "
                                   "half-transparent ghost (after alignment); not for focus stacks, whose focus "
                                   "changes look like motion to it, nor infrared + visible pairs, whose content "
                                   "differs")
        stretch = st.checkbox("Stretch raw thermal frames", key="stretch", **unless_kept("stretch", value=True),
                              help="a grey 16-bit image whose values fill a narrow band (a thermal camera's "
                                   "14-bit counts) is stretched onto the full range before fusing; off takes "
                                   "the values as they are. A float TIFF outside 0 to 1 (a radiometric frame in "
                                   "degrees) is stretched from its lowest to its highest value either way")
        palette, infrared = _palette(source, pixels)
    return task, fuse_options(task=task, color=color, tile=tile, scale=scale, unique_gain=gain,
                              detail_gain=detail, align=align, pixels=pixels, deghost=deghost, palette=palette,
                              infrared=infrared, stretch="auto" if stretch else "none")


def _reset_detail(task: str | None) -> None:
    """The unique gain moved: the detail gain goes back to the one that goes with the new gain (as
    docs/ui.md says), whatever was chosen at another gain."""
    gain = st.session_state[f"gain-{task}"]
    st.session_state[f"detail-{task}"] = default_detail_gain(task, gain)


def _palette(source: str, pixels: str) -> tuple[str, int | None]:
    """The thermal palette and a pair's infrared image (None: auto), drawn in the sidebar; not on an
    example's page (neither example has an infrared image: "none"), where the choice is kept."""
    if source in EXAMPLE_TASKS:
        return "none", None
    with st.sidebar:
        from_sources = pixels == "sources"  # a palette colours the network's fusion (FuseOptions.with_task drops it)
        palette = st.selectbox("Thermal palette", PALETTES, key="palette", disabled=from_sources,
                               help="infrared + visible: colour the fused image by the infrared image's warmth, as "
                                    "thermal cameras show it (the infrared image: the grey one, else B); none "
                                    "(default) keeps the sources' own colours")
        if from_sources:  # the choice is kept for pixels from the network
            st.caption(SOURCES_TAKE_NO_PALETTE)
            palette = "none"
        infrared = None
        if palette != "none" and source != UPLOAD_STACK:
            choice = st.radio("Infrared image", list(INFRARED_CHOICES), key="infrared", horizontal=True,
                              help="which image the palette colours: auto takes the only grey one, else B")
            infrared = INFRARED_CHOICES[choice]
    return palette, infrared


def resize_choice() -> bool:
    """The sidebar's choice to resize uploads of another size to the first's (the CLI's --resize),
    drawn with the uploads it applies to."""
    return st.sidebar.checkbox(RESIZE_CHOICE, key="resize",
                               help="one camera's shots of different sizes: the others are resized (stretched, not "
                                    "cropped) to the first image's size before fusing; not for two cameras side "
                                    "by side (upload their rig file instead)")


def stack_infrared(palette: str, names: list[str]) -> int | None:
    """A stack's infrared image for a palette, picked by file name in the sidebar (the page shows
    a bracket in the order it is fused, so a number in file-name order would not agree with it)."""
    if palette == "none":
        return None
    choices = stack_infrared_choices(names)
    choice = st.sidebar.selectbox("Infrared image", list(choices), key="infrared_stack",
                                  help="which image the palette colours: auto takes the one raw thermal frame or "
                                       "the only grey image, else the last")
    return choices[choice]


def aligned() -> bool:
    """Whether the sources are aligned before fusing (the *Align images* choice is not none)."""
    return st.session_state.get("align", "none") != "none"
