"""``defusion metrics`` and the Python metrics say what ``defusion bench`` says (a researcher's audit).

The audit found a grey result stored as RGB noted by bench but not by ``defusion metrics``, though it
scores otherwise than the 1-channel file (on VIFB carLight it reversed two methods' order in bench);
a uint16 array of 8-bit values (what ``cv2.IMREAD_UNCHANGED`` can give) scored near black in silence
by ``compute_metrics`` while the CLI notes such a file; and ``defusion metrics DIR DIR DIR`` answering
only "is not a file".
"""

from __future__ import annotations

import argparse
import json
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from defusion.benchmark.runner import GREY_RGB_SCORED
from defusion.cli import metrics as cli
from defusion.cli.errors import run_guarded
from defusion.io.notes import as_lines
from defusion.io.images import write_image
from defusion.metrics import (compute_each, compute_metrics, compute_stack_metrics,
                              holds_eight_bit_values, ssim)

SIZE = 48
NAMES = "EN,SF,SSIM,Qabf"
#: The start of the note ``read_scored`` says of a 16-bit file of 8-bit values.
FILE_NOTE = "(8-bit values saved as 16-bit?)"
#: What the warning of a uint16 array of 8-bit values says.
ARRAY_WARNING = "(8-bit values in 16 bits?)"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="defusion metrics")
    cli.add_arguments(parser)
    with as_lines():  # what the library says, said as the command says it (as under main())
        return run_guarded(lambda: cli.run(parser.parse_args(argv)), cli.EXPECTED_ERRORS)


@pytest.fixture()
def images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two grey uint8 sources and a grey fused image of them."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    a = np.clip(128 + 80 * np.sin(x / 5.0), 0, 255).astype(np.uint8)
    b = np.clip(128 + 80 * np.cos(y / 4.0), 0, 255).astype(np.uint8)
    fused = ((a.astype(np.int64) + b) // 2).astype(np.uint8)
    return fused, a, b


@pytest.fixture()
def sources(tmp_path: Path, images) -> tuple[Path, Path]:
    _, a, b = images
    write_image(tmp_path / "a.png", a)
    write_image(tmp_path / "b.png", b)
    return tmp_path / "a.png", tmp_path / "b.png"


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: note:")]


# --- 1. grey stored as RGB: the note bench gives


def test_a_grey_result_stored_as_rgb_gets_benchs_note(tmp_path, images, sources, capsys):
    fused, a, b = images
    path = tmp_path / "grey_as_rgb.png"
    write_image(path, np.dstack([fused] * 3))
    assert _run([str(path), *map(str, sources), "--names", NAMES, "--json"]) == 0
    captured = capsys.readouterr()
    assert _notes(captured.err) == [f"defusion: note: {path} is grey stored as RGB (R = G = B): {GREY_RGB_SCORED}, "
                                    "so it scores otherwise than the same pixels in a 1-channel file, which score as grey"]
    json.loads(captured.out)  # the JSON on stdout is untouched


def test_the_grey_rgb_note_has_benchs_words(capsys):
    from defusion.benchmark.findings import say_found

    pair = types.SimpleNamespace(said=[], narrow=[], grey_rgb={"Mine": "audit_words/01.png"})
    with as_lines():  # as defusion bench says it
        say_found(pair, set())
    assert GREY_RGB_SCORED in capsys.readouterr().err


def test_a_one_channel_or_colour_result_gets_no_grey_rgb_note(tmp_path, images, sources, capsys):
    fused, a, b = images
    write_image(tmp_path / "grey1.png", fused)
    write_image(tmp_path / "colour.png", np.dstack([fused, a, b]))
    for name in ("grey1.png", "colour.png"):
        assert _run([str(tmp_path / name), *map(str, sources), "--names", "EN"]) == 0
        assert "grey stored as RGB" not in capsys.readouterr().err


def test_grey_rgb_is_judged_on_the_file_as_stored_not_as_rounded(tmp_path, images, sources, capsys):
    """A 16-bit file of 8-bit values rounds to levels 0 and 1, grey whatever its colours, as bench judges it."""
    fused, a, b = images
    colour, grey = tmp_path / "colour16.png", tmp_path / "grey16.png"
    write_image(colour, np.dstack([fused, a, b]).astype(np.uint16))
    write_image(grey, np.dstack([fused] * 3).astype(np.uint16))
    assert _run([str(colour), *map(str, sources), "--names", "EN"]) == 0
    assert "grey stored as RGB" not in capsys.readouterr().err
    assert _run([str(grey), *map(str, sources), "--names", "EN"]) == 0
    assert any("grey stored as RGB" in line for line in _notes(capsys.readouterr().err))


# --- 2. a uint16 array of 8-bit values: a warning in Python


def _eight_bit_warnings(fn, *args, **kwargs) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args, **kwargs)
    return [w for w in caught if issubclass(w.category, UserWarning) and ARRAY_WARNING in str(w.message)]


def test_compute_metrics_warns_once_per_call_naming_the_argument(images):
    fused, a, b = images
    for names in (NAMES.split(","), None):  # named, and the default set: dozens of metrics, still one
        caught = _eight_bit_warnings(compute_metrics, fused.astype(np.uint16), a, b, names)
        assert len(caught) == 1
        message = str(caught[0].message)
        assert message.startswith("fused: ") and "uint8" in message
        assert caught[0].filename == __file__  # the caller's line, not one deep in the metrics
    assert len(_eight_bit_warnings(compute_metrics, fused.astype(np.uint16), a, b, ["EN"])) == 1  # again: each call


@pytest.mark.parametrize("which, label", [(1, "a"), (2, "b"), (3, "source 3")])
def test_the_warning_names_the_source(images, which, label):
    fused, a, b = images
    inputs = [fused, a, b, b]
    inputs[which] = inputs[which].astype(np.uint16)
    caught = _eight_bit_warnings(compute_stack_metrics, inputs[0], inputs[1:], ["EN", "Qabf"])
    assert [str(w.message).split(":")[0] for w in caught] == [label]


def test_compute_each_and_a_metric_called_alone_warn_once(images):
    fused, a, b = images
    assert len(_eight_bit_warnings(compute_each, fused.astype(np.uint16), [a, b], ["EN", "SSIM", "Qabf"])) == 1
    assert len(_eight_bit_warnings(ssim, fused.astype(np.uint16), a, b)) == 1


def test_uint8_and_full_range_uint16_say_nothing(images):
    fused, a, b = images
    assert _eight_bit_warnings(compute_metrics, fused, a, b, ["EN"]) == []
    assert _eight_bit_warnings(compute_metrics, fused.astype(np.uint16) * 257, a, b, ["EN"]) == []


def test_the_rule_takes_either_byte_order():
    values = np.array([[0, 200], [255, 3]])
    assert holds_eight_bit_values(values.astype("<u2")) and holds_eight_bit_values(values.astype(">u2"))
    assert not holds_eight_bit_values((values * 257).astype(">u2"))
    assert not holds_eight_bit_values(values.astype(np.uint8))


def test_a_16_bit_file_via_the_cli_gets_the_note_not_also_the_warning(tmp_path, images, sources, capsys):
    fused, _, _ = images
    path = tmp_path / "audit_low16.png"
    write_image(path, fused.astype(np.uint16))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert _run([str(path), *map(str, sources), "--names", "EN"]) == 0
    assert [w for w in caught if ARRAY_WARNING in str(w.message)] == []
    assert sum(FILE_NOTE in line for line in capsys.readouterr().err.splitlines()) == 1


# --- 3. a folder


def test_a_folder_is_one_line_saying_how_to_score_folders(tmp_path, sources, capsys):
    assert _run([str(tmp_path), str(tmp_path), str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"defusion: error: {tmp_path}: is a folder")
    assert err[0].endswith(f"{cli.FOLDERS_HINT} (--task mef or mff for exposure or focus pairs)")
    assert _run([str(sources[0]), str(sources[1]), str(tmp_path)]) == 2  # any of them
    assert f"{tmp_path}: is a folder" in capsys.readouterr().err


def test_the_folders_hint_is_a_valid_bench_command():
    from defusion.cli import bench

    parser = argparse.ArgumentParser(prog="defusion bench")
    bench.add_arguments(parser)
    words = cli.FOLDERS_HINT.split()
    assert words[:2] == ["defusion", "bench"]
    args = parser.parse_args(words[2:])  # a missing or unknown flag would exit
    assert args.methods == "none"
