import pytest

from defusion.training.config import TrainConfig


def test_defaults_are_the_papers_schedule():
    cfg = TrainConfig()
    assert (cfg.crop, cfg.batch_size, cfg.lr, cfg.epochs) == (256, 8, 1e-3, 50)
    assert cfg.grey_prob == 0.0  # the paper trains on colour images
    assert cfg.crop_scale == (0.08, 1.0)  # the usual random resized crop
    assert cfg.lr_at_epoch(9) == 1e-3 and cfg.lr_at_epoch(10) == 5e-4 and cfg.lr_at_epoch(49) == 1e-3 / 16


def test_crop_scale_from_yaml_is_a_tuple_and_survives_a_checkpoint_round_trip(tmp_path):
    (tmp_path / "c.yaml").write_text("crop_scale: [0.02, 0.2]\n", encoding="utf-8")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml")
    assert cfg.crop_scale == (0.02, 0.2)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_yaml_and_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text("crop: 128\ncud:\n  coarse_cells: [4, 5]\n", encoding="utf-8")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml").override(batch_size=2, lr=None)
    assert cfg.crop == 128 and cfg.batch_size == 2 and cfg.lr == 1e-3
    assert cfg.cud.coarse_cells == (4, 5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    (tmp_path / "bad.yaml").write_text("crpo: 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="crpo"):
        TrainConfig.from_yaml(tmp_path / "bad.yaml")


def test_degrade_prob_from_yaml_is_checked_and_survives_a_checkpoint_round_trip(tmp_path):
    (tmp_path / "c.yaml").write_text("cud:\n  degrade_prob: 0.5\n", encoding="utf-8")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml")
    assert cfg.cud.degrade_prob == 0.5 and TrainConfig().cud.degrade_prob == 0.0  # the paper's pretext
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="degrade_prob must be in"):
        TrainConfig.from_dict({"cud": {"degrade_prob": 1.5}})


@pytest.mark.parametrize("field, value", [
    ("batch_size", 0), ("crop", 36), ("crop", 0), ("epochs", 0), ("lr", -1.0), ("lr_gamma", 0.0),
    ("workers", -1), ("max_steps", 0), ("max_seconds", -5.0), ("epoch_samples", 0), ("checkpoint_every", 0),
    ("grey_prob", -0.1), ("grey_prob", 1.5), ("outside_weight", -0.5), ("outside_weight", 2.0), ("gradient_weight", -1.0),
    ("common_weight", -1.0), ("unique_weight", -0.1), ("fused_weight", -2.0), ("ssim_weight", -0.5), ("mfm_weight", -1.0),
    ("reinit", ("decoder",)), ("reinit", "unique_head"),
    ("crop_scale", (0.0, 0.5)), ("crop_scale", (0.5, 0.2)), ("crop_scale", (0.1, 1.5)), ("crop_scale", 0.3),
    ("crop_scale", ("a", "b")),
])
def test_out_of_range_options_are_refused_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        TrainConfig().override(**{field: value})


@pytest.mark.parametrize("text, message", [
    ("crop: abc", "crop must be an int"), ("amp: 3", "amp must be a bool"), ("epochs: true", "epochs must be an int"),
    ("cud: 5", "cud must be a mapping"), ("cud: {cells: [1, 2]}", "cud"), ("[1, 2]", "mapping"),
    ("mfm: 0.75", "mfm must be a mapping"), ("mfm: {mask_ratio: 1.0}", "mfm"), ("mfm: {tokens: 3}", "mfm"),
])
def test_wrong_types_in_yaml_are_a_value_error(tmp_path, text, message):
    (tmp_path / "c.yaml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_yaml(tmp_path / "c.yaml")


def test_ints_are_fine_floats_and_none_is_fine_where_optional():
    cfg = TrainConfig.from_dict({"lr": 1, "max_seconds": None, "epoch_samples": 100})
    assert cfg.lr == 1 and cfg.max_seconds is None


def test_a_yaml_file_that_is_not_a_mapping_or_not_yaml_is_a_value_error(tmp_path):
    from defusion.training.config import read_options
    (tmp_path / "list.yaml").write_text("[1, 2]\n", encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("crop: [1, 2\n", encoding="utf-8")
    for name, message in (("list.yaml", "mapping"), ("broken.yaml", "not valid YAML")):
        with pytest.raises(ValueError, match=message):
            TrainConfig().updated(read_options(tmp_path / name))


def test_shipped_config_files_are_valid():
    from tests.conftest import REPO
    files = sorted((REPO / "configs").glob("*.yaml"))
    assert {f.name for f in files} >= {"paper.yaml", "cpu-128.yaml", "gpu-256.yaml"}
    for f in files:
        TrainConfig.from_yaml(f)
    assert TrainConfig.from_yaml(REPO / "configs" / "paper.yaml") == TrainConfig()  # the paper = the defaults


def test_from_yaml_is_what_the_command_trains_with_on_a_fresh_run():
    """``defusion train --config FILE`` lays the file over the defaults (or a resumed run's config):
    on a fresh run, the same config as ``TrainConfig.from_yaml(FILE)``."""
    import argparse

    from defusion.cli.train import add_arguments, resolve_config
    from tests.conftest import REPO

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    for f in sorted((REPO / "configs").glob("*.yaml")):
        args = parser.parse_args(["--data", str(REPO), "--out", str(REPO / "no-run"), "--config", str(f)])
        assert resolve_config(args) == TrainConfig.from_yaml(f), f.name


def test_reinit_from_yaml_is_a_tuple_of_denet_parts(tmp_path):
    (tmp_path / "c.yaml").write_text("reinit: [unique_decoder, unique_head]\noutside_weight: 0.015\n", encoding="utf-8")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml")
    assert cfg.reinit == ("unique_decoder", "unique_head") and cfg.outside_weight == 0.015
    assert TrainConfig().reinit == () and TrainConfig().outside_weight == 1.0  # the paper's loss


def test_defusion_plusplus_loss_options_from_yaml(tmp_path):
    (tmp_path / "c.yaml").write_text("common_weight: 0.2\nunique_weight: 0.1\nssim_weight: 0.25\n"
                                     "mfm_weight: 0.01\nmfm: {mask_ratio: 0.5, patch: 8}\n", encoding="utf-8")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml")
    assert cfg.loss_options() == {"outside_weight": 1.0, "gradient_weight": 0.0, "term_weights": (0.2, 0.1, 1.0),
                                  "ssim_weight": 0.25, "mfm_weight": 0.01}
    assert cfg.mfm.mask_ratio == 0.5 and cfg.mfm.patch == 8 and cfg.mfm.width == 64
    assert cfg.extra_loss_terms() == ("fused_ssim", "mfm")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg  # survives the checkpoint's JSON
    paper = TrainConfig()  # the paper's loss: the four MAEs summed, nothing else
    assert paper.loss_options()["term_weights"] == (1.0, 1.0, 1.0) and paper.extra_loss_terms() == ()
