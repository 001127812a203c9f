"""``defusion metrics`` on inputs a pipeline hands it: images too small for any metric (``defusion
fuse`` writes a 1x1 result), and the pixel bound, which it takes as ``--max-pixels`` like ``defusion
fuse``, whose message is kept."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.cli.main import build_parser, main
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.images import write_image

from .conftest import one_error_line


@pytest.fixture
def pair(tmp_path, rng):
    """A fused image and its two sources, 40x30 (1,200 pixels)."""
    paths = [tmp_path / f"{name}.png" for name in ("fused", "a", "b")]
    for path in paths:
        write_image(path, (rng.random((30, 40)) * 255).astype(np.uint8))
    return paths


def test_images_too_small_for_any_metric_are_one_line_and_exit_2(tmp_path, capsys):
    """It printed a traceback (MetricInputError) and exit status 1."""
    paths = [tmp_path / f"{name}.png" for name in ("fused", "a", "b")]
    for value, path in zip((100, 10, 200), paths):
        write_image(path, np.full((1, 1), value, np.uint8))
    assert main(["metrics", *map(str, paths)]) == 2
    assert one_error_line(capsys) == ("defusion: error: fused: image too small (1x1, W x H; the metrics need at "
                                      "least 2x2)")


def test_max_pixels_refuses_an_input_over_it_naming_the_option(pair, capsys):
    """``--max-pixels`` was an unrecognized argument; the hint named it all the same."""
    assert main(["metrics", "--max-pixels", "1000", *map(str, pair)]) == 2
    assert one_error_line(capsys) == (f"defusion: error: {pair[0]}: 40x30 is 1,200 pixels, over the limit of 1,000 "
                                      "pixels (raise it with --max-pixels)")


def test_max_pixels_at_an_inputs_size_scores_it(pair, capsys):
    assert main(["metrics", "--max-pixels", "1200", "--names", "EN", *map(str, pair)]) == 0
    assert "EN" in capsys.readouterr().out


def test_max_pixels_has_fuses_default_and_help():
    commands = build_parser()._subparsers._group_actions[0].choices
    fuse, metrics = ({a.dest: a for a in commands[name]._actions}["max_pixels"] for name in ("fuse", "metrics"))
    assert (metrics.default, metrics.help, metrics.type) == (fuse.default, fuse.help, fuse.type)
    assert fuse.default == DEFAULT_MAX_PIXELS and "--max-pixels" in commands["metrics"].format_usage()


def test_fuse_still_names_its_option(pair, tmp_path, capsys):
    """The CLI's words are kept where Python's ``read_image`` now says ``max_pixels=``."""
    assert main(["fuse", str(pair[1]), str(pair[2]), "-o", str(tmp_path / "out.png"), "--max-pixels", "1000",
                 "--no-progress"]) == 2
    assert one_error_line(capsys) == (f"defusion: error: {pair[1]}: 40x30 is 1,200 pixels, over the limit of 1,000 "
                                      "pixels (raise it with --max-pixels)")


def test_an_empty_file_is_said_empty(pair, tmp_path, capsys):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    assert main(["metrics", str(empty), str(pair[1]), str(pair[2])]) == 2
    assert one_error_line(capsys) == f"defusion: error: {empty}: empty file (0 bytes)"
