"""The web UI's logic, free of Streamlit, in one import (for scripts and tests; the page's parts in
``page/`` import the modules themselves): every name of the modules beside it, which hold it by purpose:

- ``settings`` (server-side settings from the environment) and ``errors`` (:class:`InputError`);
- ``options`` (the sidebar's choices, their starting values, the FuseOptions they make) and
  ``option_advice`` (warnings on the choices and on what the uploads' EXIF shows);
- ``examples`` (the built-in pairs), ``upload_names``, ``uploads`` (decoding a pair or a stack,
  checking sizes) and ``rig_uploads`` (a rig file read, two cameras calibrated);
- ``fusing`` (fusing and scoring), ``result_cache`` (fusions kept for re-runs),
  ``fusion_notes`` (what fusing and reading did) and ``image_output`` (PNG downloads, alt text).

Uploads are decoded by :func:`defusion.serving.decode.decode_image`, i.e. by exactly the rules of
:func:`defusion.io.images.read_image` (8/16-bit, EXIF orientation, alpha dropped, pixel bound
checked from the header). Every problem a user can cause raises :class:`InputError` (or an
:class:`~defusion.io.errors.ImageReadError`) with a one-line message for ``st.error``.

Example:
    >>> a, b = load_example("Multi-focus example (MFF)")
    >>> a.shape, b.shape
    ((400, 600, 3), (400, 600, 3))
"""

from __future__ import annotations

from defusion.fusion.color import PALETTES, to_uint8
from defusion.fusion.fuser import default_scale
from defusion.fusion.rig import DEFAULT_RIG_MOTION, RIG_MOTIONS
from defusion.io.images import ImageReadError
from defusion.io.resize import turned_quarter
from defusion.ui.errors import InputError
from defusion.ui.examples import EXAMPLE_TASKS, EXAMPLES, load_example
from defusion.ui.fusing import (METRIC_NAMES, MIN_METRIC_SIDE, STACK_METRIC_NAMES, FusedPair, FusedStack,
                                fuse_and_score, fuse_stack_and_score, metric_rows, passes, score, score_stack)
from defusion.ui.fusion_notes import float_note, float_range, palette_note, registration_notes, stretch_notes
from defusion.ui.image_output import alt_text, download_name, png_bytes
from defusion.ui.option_advice import exif_advice, option_warnings
from defusion.ui.options import (ALIGN_CHOICES, AUTO_INFRARED, CALIBRATE_PAGE, COLOR_MODES, DETAIL_GAIN_RANGE,
                                 INFRARED_CHOICES, KINDS, PIXEL_CHOICES, RESIZE_CHOICE, SCALE_CHOICES,
                                 TILE_CHOICES, UNIQUE_GAIN_RANGE, choose_kind, default_detail_gain, default_pixels,
                                 default_unique_gain, fuse_options, input_order_for, stack_infrared_choices,
                                 tile_option)
from defusion.ui.result_cache import RESULTS_KEPT, RESULTS_MAX_BYTES, ResultCache, array_bytes, digest
from defusion.ui.rig_uploads import RigUpload, calibrate_uploads, parse_board, parse_rig
from defusion.ui.settings import (DEFAULT_MAX_UPLOAD_MB, DEFAULT_UI_MAX_PIXELS, ENV_DEVICE, ENV_MAX_PIXELS,
                                  ENV_WEIGHTS, Settings)
from defusion.ui.upload_names import PAIR_LABELS, in_name_order, name_images, told_apart
from defusion.ui.uploads import (MAX_STACK_IMAGES, UPLOAD_TYPES, aspect_warnings, check_same_size,
                                 check_upload_size, decode_pair, decode_stack, resized_to_first, turned_advice)

__all__ = [
    "AUTO_INFRARED", "COLOR_MODES", "EXAMPLES", "INFRARED_CHOICES", "PAIR_LABELS", "PALETTES", "MAX_STACK_IMAGES", "METRIC_NAMES", "SCALE_CHOICES", "STACK_METRIC_NAMES", "TILE_CHOICES",
    "UPLOAD_TYPES", "FusedStack", "ImageReadError", "InputError", "Settings", "check_same_size", "check_upload_size",
    "RESULTS_KEPT", "RESULTS_MAX_BYTES", "ResultCache", "array_bytes", "in_name_order", "name_images",
    "stack_infrared_choices",
    "decode_pair", "decode_stack", "digest", "download_name", "fuse_and_score", "fuse_stack_and_score", "FusedPair",
    "palette_note", "alt_text", "passes", "option_warnings",
    "input_order_for", "load_example", "fuse_options", "metric_rows", "parse_board", "parse_rig", "png_bytes",
    "RigUpload", "calibrate_uploads", "RIG_MOTIONS", "DEFAULT_RIG_MOTION",
    "score", "score_stack", "MIN_METRIC_SIDE", "float_range", "float_note", "turned_quarter", "turned_advice",
    "aspect_warnings", "stretch_notes", "tile_option", "to_uint8", "default_pixels", "default_scale",
    "RESIZE_CHOICE", "CALIBRATE_PAGE", "choose_kind", "exif_advice", "registration_notes", "resized_to_first",
    # Settings, sidebar choices and naming the page (and its tests) take from here too.
    "ENV_WEIGHTS", "ENV_DEVICE", "ENV_MAX_PIXELS", "DEFAULT_UI_MAX_PIXELS", "DEFAULT_MAX_UPLOAD_MB",
    "EXAMPLE_TASKS", "KINDS", "ALIGN_CHOICES", "PIXEL_CHOICES", "UNIQUE_GAIN_RANGE", "DETAIL_GAIN_RANGE",
    "default_unique_gain", "default_detail_gain", "told_apart",
]
