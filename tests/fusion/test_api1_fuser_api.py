"""A notebook user's Fuser: its repr tells two apart (weights, runtime, changed options), ``task`` given
as an option points to :meth:`Fuser.with_task`, a non-callable ``on_tile`` is refused before any pass, and
an ``infrared`` past the images says it counts from 0."""

from __future__ import annotations

import numpy as np
import pytest

from defusion import DefusionError, FuseOptions, Fuser
from defusion.fusion.errors import FusionInputError, FusionTypeError, OptionsError, UnknownOptionError
from defusion.model.weights import load_weights

#: Side of the test pair: one small network pass.
SIDE = 16


@pytest.fixture()
def pair() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((SIDE, SIDE), np.uint8), np.full((SIDE, SIDE), 200, np.uint8)


# -- repr ------------------------------------------------------------------------------
def test_the_repr_names_the_weights_and_runtime_and_only_changed_options(tiny_weights):
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="ivf", scale=1)
    text = repr(fuser)
    assert text == ("Fuser(weights='tiny.safetensors', runtime='torch', device='cpu', "
                    "options=FuseOptions(scale=1, unique_gain=1.5))")
    assert str(tiny_weights.parent) not in text  # a file's name, never where the user keeps it


def test_two_fusers_of_other_weights_or_runtimes_print_apart(tiny_weights, monkeypatch, tmp_path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path))
    texts = {repr(Fuser.from_pretrained(tiny_weights, device="cpu", runtime=runtime)) for runtime in ("torch",
                                                                                                     "onnxruntime")}
    texts.add(repr(Fuser(load_weights(tiny_weights))))
    assert len(texts) == 3 and all(len(t.splitlines()) == 1 for t in texts)
    assert any("runtime='onnxruntime'" in t for t in texts) and any("<custom module>" in t for t in texts)


def test_the_shipped_weights_are_named_shipped_however_given(tiny_weights, monkeypatch):
    from defusion.model.weights import shipped_weights_path

    # the tiny network stands in for the shipped one: what is named is what from_pretrained was given
    monkeypatch.setattr("defusion.fusion.fuser.load_network", lambda *args, **keywords: load_weights(tiny_weights))
    assert repr(Fuser.from_pretrained(device="cpu", runtime="torch")).startswith("Fuser(weights='shipped', ")
    fuser = Fuser.from_pretrained(shipped_weights_path(), device="cpu", runtime="torch")
    assert repr(fuser).startswith("Fuser(weights='shipped', runtime='torch'")
    assert "options=FuseOptions())" in repr(fuser)


def test_a_copy_keeps_the_weights_it_names(tiny_weights):
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch")
    assert "weights='tiny.safetensors'" in repr(fuser.with_options(scale=1))
    assert "options=FuseOptions(scale=1)" in repr(fuser.with_options(scale=1))


# -- task -------------------------------------------------------------------------------
def test_task_given_as_an_option_points_to_with_task(fuser):
    with pytest.raises(UnknownOptionError) as err:
        fuser.with_options(task="mef")
    assert "fuser.with_task('mef')" in str(err.value) and "did you mean stack" not in str(err.value)
    with pytest.raises(UnknownOptionError) as err:
        FuseOptions(task="ivf")
    assert "FuseOptions.for_task('ivf')" in str(err.value) and "did you mean stack" not in str(err.value)


def test_task_among_other_unknown_options_keeps_their_guesses(fuser):
    with pytest.raises(UnknownOptionError, match=r"with_task\('mef'\).*unknown option sclae \(did you mean scale\?\)"):
        fuser.with_options(task="mef", sclae=1)


def test_task_given_to_a_call_points_to_with_task_too(fuser, pair):
    with pytest.raises(UnknownOptionError, match=r"fuser\.with_task\('mef'\)"):
        fuser.fuse(*pair, task="mef")


def test_with_task_keeps_the_network_and_the_other_options(fuser):
    tiled = fuser.with_options(tile=0)
    mef = tiled.with_task("mef")
    assert mef.model is fuser.model and mef.device == fuser.device and mef.weights == fuser.weights
    assert mef.options == tiled.options.with_task("mef") and mef.options.tile == 0
    assert mef.options.order == "exposure" and tiled.options.order == "given"
    with pytest.raises(OptionsError, match="unknown task 'mfe'"):
        fuser.with_task("mfe")


# -- on_tile ----------------------------------------------------------------------------
@pytest.mark.parametrize("call", ["fuse", "fusion", "decompose"])
def test_an_on_tile_that_is_not_callable_is_refused_before_any_pass(fuser, pair, call, monkeypatch):
    def no_pass(*args, **keywords):
        raise AssertionError("a network pass ran")

    copy = fuser.with_options()
    monkeypatch.setattr(copy, "_project", no_pass)
    with pytest.raises(FusionTypeError) as err:
        getattr(copy, call)(*pair, on_tile=5)
    assert isinstance(err.value, DefusionError) and isinstance(err.value, TypeError)
    assert str(err.value).startswith(f"Fuser.{call} got on_tile=5, which is not callable")
    assert "\n" not in str(err.value)


def test_none_and_callables_are_still_taken_as_on_tile(fuser, pair):
    calls = []
    fuser.fuse(*pair, on_tile=None)
    fuser.fuse(*pair, on_tile=lambda: calls.append(1))
    assert calls == [1]


# -- infrared ---------------------------------------------------------------------------
def test_an_infrared_index_past_the_images_says_it_counts_from_zero(fuser, pair):
    colour = np.stack([pair[0]] * 3, axis=-1)
    palette = fuser.with_options(palette="hot", infrared=5)
    with pytest.raises(FusionInputError) as err:
        palette.fuse(colour, pair[1])
    message = str(err.value)
    assert message.startswith("infrared=5 (0-based: the 6th image) was asked for, but 2 images were given")
    assert "infrared=0 to 1" in message and "\n" not in message
    with pytest.raises(FusionInputError, match=r"^infrared=5 \(0-based"):
        palette.infrared_source(colour, pair[1])
