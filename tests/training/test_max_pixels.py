"""The pixel bound of ``defusion train``: ``max_pixels`` in TrainConfig (YAML, ``--max-pixels``, the run's
record and a resume, as the other options), an image over it named with how to raise it, and skipped."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.cli.train import add_arguments, resolve_config
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.training.config import TrainConfig, read_options

TINY = ["--model", "defusion-tiny", "--batch-size", "2", "--crop", "32", "--workers", "0", "--no-progress"]


def test_max_pixels_is_a_config_option_with_defusion_fuses_default(tmp_path):
    assert TrainConfig().max_pixels == DEFAULT_MAX_PIXELS
    (tmp_path / "c.yaml").write_text("max_pixels: 1.5e8\n", encoding="utf-8")  # a whole number in YAML's float form
    cfg = TrainConfig().updated(read_options(tmp_path / "c.yaml"))
    assert cfg.max_pixels == 150_000_000 and isinstance(cfg.max_pixels, int)
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg  # survives the checkpoint's JSON
    with pytest.raises(ValueError, match="max_pixels must be at least 1, got 0"):
        TrainConfig(max_pixels=0)


def test_the_command_line_sets_max_pixels_over_the_config_and_leaves_it_alone_otherwise(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    base = ["--data", str(tmp_path), "--out", str(tmp_path / "run")]
    (tmp_path / "c.yaml").write_text("max_pixels: 5000\n", encoding="utf-8")
    with_config = base + ["--config", str(tmp_path / "c.yaml")]
    assert resolve_config(parser.parse_args(base)).max_pixels == DEFAULT_MAX_PIXELS
    assert resolve_config(parser.parse_args(with_config)).max_pixels == 5000
    assert resolve_config(parser.parse_args(with_config + ["--max-pixels", "7000"])).max_pixels == 7000
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--max-pixels", "0"])
    assert "--max-pixels: must be at least 1, got 0" in capsys.readouterr().err


def test_a_run_skips_an_image_over_its_bound_names_the_option_and_records_it(images, tmp_path, capsys):
    big = images / "big.png"
    Image.fromarray((np.random.default_rng(1).random((80, 96, 3)) * 255).astype(np.uint8)).save(big)  # 7,680 pixels
    out = tmp_path / "run"
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "4", "--epoch-samples", "7",
                 "--max-pixels", "5000", *TINY]) == 0  # the six 48x40 images are read; big.png is not
    err = capsys.readouterr().err
    assert (f"defusion: warning: skipping {big}: 96x80 is 7,680 pixels, over the limit of 5,000 pixels "
            "(raise it with --max-pixels)") in err.splitlines(), err
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["max_pixels"] == 5000
    # a resume keeps the run's bound (its checkpoint's config); raising it is said and recorded
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "5", "--resume", *TINY]) == 0
    assert "max_pixels" not in capsys.readouterr().err
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["max_pixels"] == 5000
    assert main(["train", "--data", str(images), "--out", str(out), "--max-steps", "6", "--resume",
                 "--max-pixels", "10000", *TINY]) == 0
    assert "max_pixels 5000 -> 10000" in capsys.readouterr().err
    record = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert record["max_pixels"] == 10000 and record["settings_changed"][0]["max_pixels"] == [5000, 10000]
