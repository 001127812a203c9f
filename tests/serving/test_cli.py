"""`defusion serve` / `defusion export` module contracts (the lead registers them in cli/main.py)."""

from __future__ import annotations

import argparse

import pytest

from defusion.cli import export as export_cli
from defusion.cli import serve as serve_cli
from defusion.cli.errors import UserError
from defusion.model.weights import WeightsError
from defusion.serving.api import DEFAULT_MAX_QUEUE, DEFAULT_SERVER_MAX_PIXELS
from tests.conftest import free_port


def _parse(module, *argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    if module is serve_cli and "--port" not in argv:  # `defusion serve` binds its port before loading the model
        argv = (*argv, "--port", free_port())
    return parser.parse_args([str(a) for a in argv])




@pytest.mark.parametrize("module", [serve_cli, export_cli])
def test_module_contract(module):
    assert isinstance(module.HELP, str) and module.HELP
    assert callable(module.add_arguments) and callable(module.run)
    assert WeightsError in module.EXPECTED_ERRORS and ValueError in module.EXPECTED_ERRORS


def test_serve_defaults():
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port, args.device) == ("127.0.0.1", 8000, "auto")
    assert args.max_upload_bytes == 50 * 1024 * 1024 and args.max_pixels == DEFAULT_SERVER_MAX_PIXELS
    assert args.max_queue == DEFAULT_MAX_QUEUE and args.cors_origin is None
    assert (args.timeout_keep_alive, args.timeout_graceful_shutdown) == (serve_cli.DEFAULT_TIMEOUT_KEEP_ALIVE_S, None)


@pytest.mark.parametrize("given", ["0", "65536"])
def test_serve_refuses_a_port_out_of_range_when_parsed(given, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(serve_cli, "--port", given)
    assert exit_.value.code == 2 and f"argument --port: must be 1-65535, got {given}" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--tile", "32"], "--tile"),
    (["--weights", "w.safetensors", "--onnx", "m.onnx"], "do not apply"),
    (["--onnx", "m.onnx", "--runtime", "torch"], "do not apply"),
    (["--max-images", "1"], "--max-images must be from 2 to 8"),
    (["--max-images", "9"], "--max-images must be from 2 to 8"),
])
def test_serve_rejects_bad_options_before_loading(argv, message):
    with pytest.raises(UserError, match=message):
        serve_cli.run(_parse(serve_cli, *argv))


@pytest.mark.parametrize("option", ["--max-pixels", "--max-upload-bytes"])
def test_serve_bounds_must_be_positive(option, capsys):
    with pytest.raises(SystemExit) as exit_:
        _parse(serve_cli, option, "0")
    assert exit_.value.code == 2 and "must be at least 1" in capsys.readouterr().err


def test_serve_missing_weights_is_an_expected_error(tmp_path):
    with pytest.raises(serve_cli.EXPECTED_ERRORS):
        serve_cli.run(_parse(serve_cli, "--weights", tmp_path / "none.safetensors", "--device", "cpu"))


def test_serve_passes_scale_tile_and_unique_gain_to_the_fusion_core(tiny_weights, served_settings):
    from defusion.fusion.fuser import DEFAULT_SCALE

    seen = served_settings("--weights", tiny_weights, "--scale", "1", "--tile", "512", "--unique-gain", "1")
    assert seen["scale"] == 1 and seen["tile"] == 512 and seen["unique_gain"] == 1.0
    seen = served_settings("--weights", tiny_weights)
    assert not {"scale", "tile", "unique_gain"} & set(seen)  # the fusion core's defaults (scale DEFAULT_SCALE)
    seen = served_settings("--weights", tiny_weights, "--task", "ivf")
    assert seen["unique_gain"] == 1.5  # FuseOptions.for_task("ivf")
    assert DEFAULT_SCALE == 2
    seen = served_settings("--weights", tiny_weights, "--task", "mff")
    assert (seen["pixels"], seen["scale"]) == ("sources", 1)  # focus stacks: pixels from the sources
    with pytest.raises(UserError, match="--palette cannot colour"):
        serve_cli.run(_parse(serve_cli, "--weights", tiny_weights, "--task", "mff", "--palette", "hot"))
