"""The DeFusion web UI (Streamlit): ``defusion ui``, or ``streamlit run`` on this file.

Pick a built-in example (multi-exposure, multi-focus), upload two registered images, or upload a
bracket or focus stack of more; the app fuses them with the one fusion core
(:class:`defusion.fusion.fuser.Fuser`) and shows the inputs, the fused image, the common and unique
components (pairs), a metrics table, and a PNG download. This file lays the page out and says its
errors; :mod:`defusion.ui.page` draws its parts.

Settings come from the environment (``defusion ui`` sets them): ``DEFUSION_WEIGHTS`` (weights
file; default: the shipped weights), ``DEFUSION_DEVICE`` (auto/cpu/cuda) and
``DEFUSION_MAX_PIXELS`` (pixel bound of an input, default 25 MP). See docs/ui.md.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

try:
    import streamlit as st
except ImportError:  # pragma: no cover - the 'ui' extra is not installed
    st = None

from defusion.io.errors import ImageReadError
from defusion.model.weights import WeightsError
from defusion.ui.page import CALIBRATE, FORMATS, SOURCES_TAKE_NO_PALETTE, UPLOAD, UPLOAD_STACK

LOG = logging.getLogger("defusion.ui")

__all__ = ["CALIBRATE", "FORMATS", "SOURCES_TAKE_NO_PALETTE", "UPLOAD", "UPLOAD_STACK", "main"]


def main() -> None:
    """Draw the page: the sidebar's choices, then the chosen images fused and shown (or the
    calibration page); an error a user can cause said in one line, never a traceback."""
    if st is None:
        raise SystemExit("the web UI needs the 'ui' extra: pip install 'defusion[ui]'")
    from defusion.fusion.fuser import SizeMismatchError
    from defusion.fusion.provenance import MadeBy
    from defusion.ui.errors import InputError
    from defusion.ui.option_advice import option_warnings
    from defusion.ui.page import pair, sidebar, stack
    from defusion.ui.page.calibrate import calibrate_page
    from defusion.ui.page.messages import error_text, said_on_page
    from defusion.ui.page.session_state import keep_choices
    from defusion.ui.settings import Settings
    from defusion.ui.upload_names import PAIR_LABELS

    st.set_page_config(page_title="DeFusion", layout="wide")
    st.title("DeFusion image fusion")
    st.caption("Fusion from decomposition (Liang et al., ECCV 2022): one self-supervised network for "
               "multi-exposure, multi-focus and infrared + visible images.")
    keep_choices()
    source = sidebar.choose_source()
    labels: Sequence[str] = ()  # what the fusion core's "image N" is on this page, once decoded
    try:
        settings = Settings.from_env()
        if source == CALIBRATE:
            calibrate_page(settings)
            return
        task, options = sidebar.choose_options(source)
        for warning in option_warnings(task, options.pixels, options.align, options.deghost):
            st.warning(warning)
        if source == UPLOAD_STACK:
            with said_on_page():
                given = stack.stack_inputs(settings)
            if given is None:
                return
            images, names, files, metadata = given
            labels = names
            stack.fuse_and_show_stack(settings, task, options, images, names, files, metadata)
            return
        with said_on_page():
            given = pair.pair_inputs(source, settings)
        if given is None:
            return
        a, b, names, files, rig, metadata = given
        labels = PAIR_LABELS
        fuser, result, warnings, notes = pair.fuse_pair(settings, task, replace(options, rig=rig), a, b, names,
                                                        files)
    except WeightsError as exc:
        st.error(f"cannot load the model: {exc}")
        return
    except (ImageReadError, InputError, SizeMismatchError, ValueError) as exc:
        st.error(error_text(exc, labels))
        return
    except Exception as exc:  # never a traceback in the page; the log keeps it
        LOG.exception("fusion failed")
        st.error(f"fusion failed: {type(exc).__name__}: {error_text(exc, labels)}")
        return
    pair.show_pair(a, b, names, result, files, rig=rig is not None, warnings=warnings, notes=notes,
                   shared=fuser.options.stretch_shared, stretch=fuser.options.stretch, palette=fuser.options.palette,
                   made_by=MadeBy.of(fuser, settings.weights, task), metadata=metadata)


if __name__ == "__main__":  # Streamlit runs this file as __main__; importing it does nothing
    main()
