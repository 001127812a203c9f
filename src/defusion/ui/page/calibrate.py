"""The page that calibrates a thermal + visible camera rig from one image per camera, and offers
the rig file that *Upload two images* (or ``defusion fuse --rig``) maps the second camera with."""

from __future__ import annotations

import streamlit as st

from defusion.fusion.color import to_uint8
from defusion.fusion.rig import DEFAULT_RIG_MOTION, RIG_MOTIONS
from defusion.ui.image_output import alt_text
from defusion.ui.page.messages import said_on_page
from defusion.ui.page.session_state import uploaded
from defusion.ui.rig_uploads import calibrate_uploads, parse_board
from defusion.ui.settings import Settings
from defusion.ui.uploads import BYTES_PER_MB, UPLOAD_TYPES


def calibrate_page(settings: Settings) -> None:
    """Calibrate a thermal + visible rig from one image per camera and a chessboard or marked
    points (the core's calibration, as ``defusion calibrate``); show the fit and offer the rig file."""
    limit_mb = st.get_option("server.maxUploadSize")
    st.subheader("Calibrate a camera rig")
    st.caption("One image from each camera of a fixed rig (a thermal and a visible camera side by side), taken at the "
               "same moment. The rig file maps the second camera's images onto the first's pixel grid: upload it with "
               "their images on the *Upload two images* page. A chessboard both cameras see (heated or cooled for "
               "the infrared) is found by itself; otherwise upload the points you marked in both images.")
    col_a, col_b = st.columns(2)
    up_a = uploaded(col_a, "First camera (the fused images' grid)", type=UPLOAD_TYPES, key="calib_a")
    up_b = uploaded(col_b, "Second camera", type=UPLOAD_TYPES, key="calib_b")
    method = st.radio("Marks from", ["a chessboard", "a points file (CSV)"], key="calib_method", horizontal=True)
    board, points = None, None
    if method == "a chessboard":
        board = parse_board(st.text_input("Inner corners, across x down", "9x6", key="calib_board"))
    else:
        up_points = uploaded(st, "Points: x_ref, y_ref, x_cam, y_cam per line", type=["csv", "txt"],
                             key="calib_points")
        points = up_points[0][1] if up_points else None
    motions = list(RIG_MOTIONS)
    motion = st.selectbox("Motion", motions, index=motions.index(DEFAULT_RIG_MOTION),
                          key="calib_motion", help="similarity for parallel cameras; affine (default) also takes "
                                                   "shear; homography, cameras not parallel, needs more marks")
    if not up_a or not up_b or (board is None and points is None):
        missing = ["an image from each camera"] if not up_a or not up_b else []
        missing += ["the points file"] if board is None and points is None else []
        st.info(f"Upload {' and '.join(missing)}.")
        return
    with said_on_page(), st.spinner("Calibrating..."):
        (name_a, data_a), (name_b, data_b) = up_a[0], up_b[0]
        result = calibrate_uploads(data_a, name_a, data_b, name_b, motion, board, points,
                                   settings.max_pixels, max_bytes=int(limit_mb) * BYTES_PER_MB)
    fit, camera = result.calibration.fits[0], result.calibration.rig.cameras[0]
    import pandas as pd

    st.table(pd.DataFrame([{"marks": fit.marks, "fit error (px RMS)": f"{fit.rms_px:.2f}",
                            "largest (px)": f"{fit.worst_px:.2f} (mark {fit.worst_mark})",
                            "sees of the first view": f"{100 * fit.coverage:.0f}%",
                            "marks span": f"{100 * fit.span:.0f}%",
                            "second camera": f"{camera.size[0]}x{camera.size[1]}"}]).set_index("marks"))
    for warning in result.calibration.warnings():
        st.warning(warning)
    for note in result.notes:
        st.info(note)
    st.image(to_uint8(result.check), alt=alt_text(
        "calibration check: the two cameras' views in alternate squares, their marks circled and crossed"),
        caption="check: the two views in alternate squares (edges run on across "
                "them where the rig is right); marks as green circles, the second "
                "camera's marks mapped back as red crosses")
    st.download_button("Download the rig file (JSON)", result.rig_file, file_name="rig.json", mime="application/json",
                       key="download_rig")
