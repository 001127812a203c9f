"""defusion.fusion.choices: the one home of the fusion's choices, bounds and defaults, which the
command line, the server and FuseOptions import (no copies kept in line by tests)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from defusion.fusion import choices


def test_choices_import_no_pytorch_opencv_or_numpy():
    """The CLI builds its parser from these names: importing them must stay cheap (``--help``)."""
    code = ("import sys, defusion.fusion.choices; "
            "loaded = {'torch', 'cv2', 'numpy'} & set(sys.modules); assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_web_ui_offers_the_colour_modes_defined_here():
    pytest.importorskip("torch")
    from defusion.ui import options

    assert options.COLOR_MODES is choices.COLOR_MODES


def test_the_tasks_fused_from_the_sources_are_read_from_task_options():
    from defusion.cli.fuse.path_checks import SOURCES_TASKS

    assert SOURCES_TASKS == ("mff",)


def test_literal_choices_and_their_tuples_are_one_list():
    assert choices.PALETTES == ("none", "inferno", "magma", "plasma", "hot", "jet", "turbo")
    assert choices.COLOR_MODES == ("auto", "rgb", "ycbcr")
    assert choices.TASKS == tuple(choices.TASK_OPTIONS) == ("ivf", "mef", "mff")
    assert choices.STACK_ORDERS == ("balanced", "sequential")
    assert choices.INPUT_ORDERS == ("given", "bright-first", "dark-first", "exposure")
    assert choices.STRETCHES == ("auto", "none")
    assert choices.MOTIONS == ("none", "translation", "euclidean", "affine", "homography")
    assert choices.PIXEL_SOURCES == ("network", "sources")
    assert choices.RIG_MOTIONS == {"translation": 1, "similarity": 2, "affine": 3, "homography": 4}
    assert choices.DEFAULT_RIG_MOTION in choices.RIG_MOTIONS and choices.DEFAULT_DEVICE in choices.DEVICES


def test_fuse_options_defaults_are_the_named_ones():
    from defusion.fusion.options import FuseOptions

    options = FuseOptions()
    assert (options.overlap, options.auto_tile_pixels, options.auto_tile_size, options.unique_gain) == (
        choices.DEFAULT_OVERLAP, choices.AUTO_TILE_PIXELS, choices.AUTO_TILE_SIZE, choices.DEFAULT_UNIQUE_GAIN)
    assert options.tile_for(1024, 1024) == 0 and options.tile_for(1024, 1025) == choices.AUTO_TILE_SIZE
    assert set(field for preset in choices.TASK_OPTIONS.values() for field in preset) <= {
        f for f in FuseOptions.__dataclass_fields__}


def _choices_of(parser: argparse.ArgumentParser, command: str, option: str):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return next(a for a in sub._actions if option in a.option_strings)


def test_the_command_line_offers_the_choices_and_defaults_defined_here():
    from defusion.cli.main import build_parser

    parser = build_parser()
    assert _choices_of(parser, "fuse", "--palette").choices == choices.PALETTES
    assert _choices_of(parser, "fuse", "--color").choices == choices.COLOR_MODES
    assert _choices_of(parser, "fuse", "--task").choices == choices.TASKS
    assert _choices_of(parser, "bench", "--task").choices == choices.TASKS
    assert _choices_of(parser, "fuse", "--overlap").default == choices.DEFAULT_OVERLAP
    assert _choices_of(parser, "fuse", "--stack").choices == choices.STACK_ORDERS
    assert _choices_of(parser, "fuse", "--order").choices == choices.INPUT_ORDERS
    assert _choices_of(parser, "fuse", "--stretch").choices == choices.STRETCHES
    assert _choices_of(parser, "calibrate", "--motion").choices == tuple(choices.RIG_MOTIONS)
    assert _choices_of(parser, "calibrate", "--motion").default == choices.DEFAULT_RIG_MOTION
    for command in ("fuse", "video", "serve", "ui", "bench"):
        device = _choices_of(parser, command, "--device")
        assert (device.choices, device.default) == (choices.DEVICES, choices.DEFAULT_DEVICE), command
    opset = _choices_of(parser, "export", "--opset")
    assert opset.default == choices.DEFAULT_OPSET and f"(default {choices.DEFAULT_OPSET})" in opset.help
