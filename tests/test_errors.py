"""One base for the library's own errors: ``except defusion.DefusionError`` catches any of them, and
the builtin each was before (``except ValueError``, ...) still does."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import numpy as np
import pytest

import defusion
from defusion import DefusionError, Fuser
from defusion.model.weights import load_weights

#: Exported exception classes that are not the library's: the front ends' own (the server's, the
#: UI's) and a Ctrl-C, which is no error.
NOT_LIBRARY_ERRORS = {"defusion.serving.api.EnvSettingError", "defusion.ui.core.InputError",
                      "defusion.fusion.video.VideoInterrupted"}


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
    assert {"defusion.fusion.rig.RigError", "defusion.serving.export.ExportError",
            "defusion.training.errors.RunDirError", "defusion.fusion.errors.FusionTypeError"} <= set(exceptions)
    outside = sorted(name for name, cls in exceptions.items()
                     if not issubclass(cls, DefusionError) and name not in NOT_LIBRARY_ERRORS)
    assert not outside, f"library errors that are no DefusionError: {outside}"


def test_library_errors_keep_their_builtin_bases():
    """Code written before the base existed (``except ValueError``, ``except OSError``) still works."""
    from defusion.fusion.errors import FusionInputError, FusionTypeError, SizeMismatchError
    from defusion.fusion.runtime import OnnxCacheError
    from defusion.io.errors import ImageReadError
    from defusion.training.errors import DivergedError

    for cls, builtin in ((FusionInputError, ValueError), (SizeMismatchError, ValueError), (ImageReadError, ValueError),
                         (FusionTypeError, TypeError), (OnnxCacheError, OSError), (DivergedError, RuntimeError)):
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
