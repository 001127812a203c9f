"""``defusion metrics --metrics NAMES``: the option as ``defusion bench`` names it, ``--names`` its alias."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main

#: Wide enough that argparse wraps no help line.
UNWRAPPED_COLUMNS = "1000"


@pytest.fixture()
def triple(tmp_path: Path) -> list[str]:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (24, 24)).astype(np.uint8) for _ in range(3)]
    paths = [tmp_path / f"{name}.png" for name in ("fused", "a", "b")]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path)
    return [str(p) for p in paths]


def _scored(capsys, argv: list[str]) -> dict[str, float]:
    assert main(["metrics", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["metrics"]


@pytest.mark.parametrize("option", ["--metrics", "--names"])
def test_metrics_and_names_name_the_metrics_alike(triple, capsys, option):
    assert list(_scored(capsys, [*triple, option, "EN,mi"])) == ["EN", "MI"]


def test_metrics_takes_the_sets_and_the_last_of_the_two_given_wins(triple, capsys):
    assert len(_scored(capsys, [*triple, "--metrics", "vifb"])) == 13
    assert list(_scored(capsys, [*triple, "--names", "SD", "--metrics", "EN"])) == ["EN"]
    assert list(_scored(capsys, [*triple, "--metrics", "SD", "--names", "EN"])) == ["EN"]


def test_an_unknown_name_in_metrics_is_one_line_and_exit_2(triple, capsys):
    assert main(["metrics", *triple, "--metrics", "EN,XYZ"]) == 2
    err = capsys.readouterr().err
    assert "XYZ" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_metric_named_in_metrics_that_cannot_be_computed_exits_1(tmp_path, capsys):
    paths = []
    for name in ("fused", "a", "b"):  # 8x8: under SSIM's 11x11 window
        Image.fromarray(np.random.default_rng(1).integers(0, 256, (8, 8)).astype(np.uint8)).save(tmp_path / f"{name}.png")
        paths.append(str(tmp_path / f"{name}.png"))
    assert main(["metrics", *paths, "--metrics", "SSIM"]) == 1
    assert "exit status 1" in capsys.readouterr().err


def test_the_help_and_the_usage_show_metrics_with_names_as_its_alias(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", UNWRAPPED_COLUMNS)
    with pytest.raises(SystemExit) as exit_:
        main(["metrics", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "[--metrics NAMES]" in out.split("\n\n")[0]  # the usage
    assert "--metrics NAMES, --names NAMES" in out
    assert "named in --metrics" in out  # the exit status, under the help
