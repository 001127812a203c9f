"""One base for the library's own errors: ``except defusion.DefusionError`` catches any of them, and
the builtin each was before (``except ValueError``, ...) still does."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys

import numpy as np
import pytest

import defusion
from defusion import DefusionError, FuseOptions, Fuser
from defusion.metrics import compute_metrics
from defusion.metrics.statistics import psnr
from defusion.model.weights import load_weights

#: Exported exception classes that are not the library's: the front ends' own (the server's, the
#: UI's), a Ctrl-C (or SIGTERM, said as Ctrl-C is), which is no error, and the warnings' categories.
NOT_LIBRARY_ERRORS = {"defusion.serving.env_settings.EnvSettingError", "defusion.ui.errors.InputError",
                      "defusion.fusion.video.errors.VideoInterrupted", "defusion.training.errors.Terminated",
                      "defusion.errors.DefusionWarning", "defusion.errors.DefusionNote"}


def _exported_exceptions() -> dict[str, type]:
    """Every exception class a module of the package names in its ``__all__``, by qualified name."""
    found = {}
    for info in pkgutil.walk_packages(defusion.__path__, "defusion."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra (streamlit, ...) not installed
            continue
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseException):
                found[f"{value.__module__}.{value.__name__}"] = value
    return found


def test_every_exported_library_error_is_a_defusion_error():
    exceptions = _exported_exceptions()
    assert {"defusion.fusion.rig.errors.RigError", "defusion.fusion.export.ExportError",
            "defusion.training.errors.RunDirError", "defusion.fusion.errors.FusionTypeError"} <= set(exceptions)
    outside = sorted(name for name, cls in exceptions.items()
                     if not issubclass(cls, DefusionError) and name not in NOT_LIBRARY_ERRORS)
    assert not outside, f"library errors that are no DefusionError: {outside}"


def test_library_errors_keep_their_builtin_bases():
    """Code written before the base existed (``except ValueError``, ``except OSError``) still works."""
    from defusion.fusion.errors import FusionInputError, FusionTypeError, OptionsError, SizeMismatchError
    from defusion.fusion.runtime import OnnxCacheError
    from defusion.io.errors import ImageReadError
    from defusion.metrics._errors import MetricInputError
    from defusion.training.errors import DivergedError

    for cls, builtin in ((FusionInputError, ValueError), (SizeMismatchError, ValueError), (ImageReadError, ValueError),
                         (OptionsError, ValueError), (MetricInputError, ValueError), (FusionTypeError, TypeError),
                         (OnnxCacheError, OSError), (DivergedError, RuntimeError)):
        assert issubclass(cls, DefusionError) and issubclass(cls, builtin), cls


def test_the_base_is_exported_and_light():
    """``from defusion import DefusionError`` loads neither PyTorch nor OpenCV (a CLI or server
    process may catch it before any model loads)."""
    code = ("import sys; from defusion import DefusionError; import defusion.errors; "
            "assert DefusionError is defusion.errors.DefusionError; "
            "heavy = {'torch', 'cv2', 'numpy'} & set(sys.modules); assert not heavy, sorted(heavy)")
    subprocess.run([sys.executable, "-c", code], check=True)
    assert "DefusionError" in defusion.__all__ and "DefusionError" in dir(defusion)


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    return Fuser(load_weights(tiny_weights))


GREY = np.zeros((16, 16), np.uint8)
#: One bad input to fuse of each kind, and the builtin it raised before the library's base existed.
BAD_INPUTS = {
    "one image": ((GREY,), ValueError),
    "a list of images": (([GREY, GREY],), ValueError),
    "bad shape": ((np.zeros((16, 16, 5), np.uint8), GREY), ValueError),
    "no pixels": ((GREY[:0], GREY[:0]), ValueError),
    "float out of range": ((np.full((16, 16), 255.0), GREY), ValueError),
    "not finite": ((np.full((16, 16), np.nan, np.float32), GREY), ValueError),
    "sizes differ": ((GREY, GREY[:8]), ValueError),
    "pixel type": ((GREY.astype(np.int32), GREY), TypeError),
    "a path": (("a.png", GREY), TypeError),
}


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_bad_input_to_fuse_is_a_defusion_error_and_its_old_builtin(fuser, kind):
    images, builtin = BAD_INPUTS[kind]
    with pytest.raises(DefusionError):
        fuser.fuse(*images)
    with pytest.raises(builtin):
        fuser.fuse(*images)


def test_bad_files_are_defusion_errors(tmp_path):
    """A representative of the file readers' errors: an image, weights, a folder of pairs."""
    from defusion.io.images import read_image
    from defusion.io.pairs import match_pairs

    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image")
    (tmp_path / "empty").mkdir()
    refusals = (lambda: read_image(junk), lambda: load_weights(tmp_path / "none.safetensors"),
                lambda: match_pairs(tmp_path / "empty", tmp_path / "empty"))
    for refusal in refusals:
        with pytest.raises(DefusionError) as caught:
            refusal()
        assert isinstance(caught.value, ValueError)


def test_a_fixed_stretch_past_the_images_given_is_a_fusion_input_error(tiny_weights):
    """Found while fusing, not on construction: an input error, its message as before."""
    from defusion.fusion.errors import FusionInputError
    from defusion.fusion.stretch import FixedStretch

    fuser = Fuser(load_weights(tiny_weights), options=FuseOptions(stretch=FixedStretch((3,), 0.1, 0.2)))
    with pytest.raises(FusionInputError, match="the fixed stretch maps source 4, but 2 images were given"):
        fuser.fuse(GREY, GREY)


def _fixed_stretch(*args):
    from defusion.fusion.stretch import FixedStretch

    return FixedStretch(*args)


def _run_tiled(tile: int, overlap: int):
    import torch

    from defusion.fusion.tiling import run_tiled

    x = torch.zeros(1, 3, 2 * tile, 2 * tile)  # more than one tile an axis: the overlap matters
    return run_tiled(lambda a, b: [a], x, x, tile, overlap)


#: Options the fusion API refuses, each with a part of its message (unchanged by the error classes).
BAD_OPTIONS = {
    "unique gain": (lambda: FuseOptions(unique_gain=-5), "unique gain must be a number from 0 to 4"),
    "tile": (lambda: FuseOptions(tile=3), "tile (3) must be 0 (never tile) or at least"),
    "scale": (lambda: FuseOptions(scale=9), "inference scale must be an integer from 1 to"),
    "colour mode": (lambda: FuseOptions(color="cmyk"), "unknown colour mode 'cmyk'"),
    "palette": (lambda: FuseOptions(palette="rainbow"), "unknown palette 'rainbow'"),
    "pixel source": (lambda: FuseOptions(pixels="both"), "unknown pixel source 'both'"),
    "stretch": (lambda: FuseOptions(stretch="linear"), "unknown stretch 'linear'"),
    "alignment": (lambda: FuseOptions(align="warp"), "unknown alignment motion 'warp'"),
    "task": (lambda: FuseOptions.for_task("hdr"), "unknown task 'hdr'"),
    "fixed stretch bounds": (lambda: _fixed_stretch((0,), 0.5, 0.2), "a fixed stretch maps low to high"),
    "fixed stretch sources": (lambda: _fixed_stretch((0, 0), 0.1, 0.2), "a fixed stretch names each source once"),
    "fixed stretch no number": (lambda: _fixed_stretch((0,), "dim", 0.2), "a fixed stretch maps low to high"),
    "fixed stretch no sequence": (lambda: _fixed_stretch(1, 0.1, 0.2), "a fixed stretch's sources must be source"),
    "tile overlap": (lambda: _run_tiled(64, 32), "overlap (32) must be under half the tile size (64)"),
    "from_pretrained tile": (lambda: Fuser.from_pretrained(tile=3), "tile (3) must be 0"),
    "from_pretrained runtime": (lambda: Fuser.from_pretrained(runtime="tensorrt"), "unknown runtime 'tensorrt'"),
    "from_pretrained device": (lambda: Fuser.from_pretrained(device="gpu7"), "unknown device 'gpu7'"),
    "from_pretrained task and options": (lambda: Fuser.from_pretrained(task="ivf", options=FuseOptions()),
                                         "give task= or options=, not both"),
    "an ONNX export on PyTorch": (lambda: Fuser.from_pretrained("denet.onnx", runtime="torch"),
                                  "denet.onnx is an ONNX export: it runs on ONNX Runtime"),
}


@pytest.mark.parametrize("kind", BAD_OPTIONS)
def test_bad_options_are_options_errors_and_value_errors(kind):
    from defusion.fusion.errors import OptionsError

    refusal, message = BAD_OPTIONS[kind]
    with pytest.raises(DefusionError, match=re.escape(message)) as caught:
        refusal()
    assert isinstance(caught.value, OptionsError) and isinstance(caught.value, ValueError)


def test_options_that_are_no_fuse_options_are_a_type_error(tiny_weights):
    with pytest.raises(DefusionError, match="options must be a FuseOptions") as caught:
        Fuser(load_weights(tiny_weights), options={"scale": 1})
    assert isinstance(caught.value, TypeError)


#: Images the metrics refuse, each with a part of its message.
BAD_METRIC_INPUTS = {
    "shape": (lambda: compute_metrics(np.zeros((16, 16, 5)), GREY, GREY), "fused: expected an HxW or HxWx3 array"),
    "too small": (lambda: compute_metrics(GREY[:1], GREY[:1], GREY[:1]), "fused: image too small (16x1, W x H; the metrics need at least 2x2)"),
    "not finite": (lambda: compute_metrics(np.full((16, 16), np.nan), GREY, GREY), "fused: contains NaN"),
    "float scale": (lambda: compute_metrics(np.full((16, 16), -40.0), GREY, GREY), "neither 0..1 nor 0..255"),
    "sizes differ": (lambda: psnr(GREY, GREY, GREY[:8]), "size mismatch"),
}


@pytest.mark.parametrize("kind", BAD_METRIC_INPUTS)
def test_bad_metric_inputs_are_defusion_errors_and_value_errors(kind):
    refusal, message = BAD_METRIC_INPUTS[kind]
    with pytest.raises(DefusionError, match=re.escape(message)) as caught:
        refusal()
    assert isinstance(caught.value, ValueError)


def test_the_fusion_helpers_refuse_mismatched_inputs_as_fusion_input_errors():
    from defusion.fusion.errors import FusionInputError
    from defusion.fusion.selection import decision_map, source_map, weighted_sum

    plane = np.zeros((8, 8), np.float32)
    refusals = {"need one weight map per image": lambda: weighted_sum([plane], [plane, plane]),
                "decision_map takes three HxW arrays of one size": lambda: decision_map(plane, plane, plane[:4]),
                "a source map needs the weights of two or more sources": lambda: source_map([plane])}
    for message, refusal in refusals.items():
        with pytest.raises(FusionInputError, match=message) as caught:
            refusal()
        assert isinstance(caught.value, DefusionError) and isinstance(caught.value, ValueError)


def test_source_weights_of_a_network_fusion_are_an_options_error(tiny_weights):
    from defusion.fusion.errors import OptionsError

    with pytest.raises(OptionsError, match="source weights exist only with pixels='sources'"):
        Fuser(load_weights(tiny_weights)).fuse_with_weights(GREY, GREY)


def test_every_refusal_of_the_metrics_is_a_defusion_error():
    """Sizes, source counts and too-small images, beside as_image's own refusals."""
    from defusion.metrics import MetricInputError, MetricNameError, compute_metrics, compute_stack_metrics
    from defusion.metrics.perceptual import vif

    small = np.zeros((8, 8), np.uint8)
    refusals = [lambda: compute_metrics(small, small, np.zeros((8, 9), np.uint8), names=["EN"]),
                lambda: compute_stack_metrics(small, [small]),
                lambda: vif(small, small, small)]
    for refuse in refusals:
        with pytest.raises(MetricInputError) as err:
            refuse()
        assert isinstance(err.value, DefusionError) and isinstance(err.value, ValueError)
    with pytest.raises(MetricNameError) as err:  # an unknown name: still the KeyError it was
        compute_metrics(small, small, small, names=["NOPE"])
    assert isinstance(err.value, DefusionError) and isinstance(err.value, KeyError)
