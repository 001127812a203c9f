import pytest

from defusion.training.config import TrainConfig


def test_defaults_are_the_papers_schedule():
    cfg = TrainConfig()
    assert (cfg.crop, cfg.batch_size, cfg.lr, cfg.epochs) == (256, 8, 1e-3, 50)
    assert cfg.lr_at_epoch(9) == 1e-3 and cfg.lr_at_epoch(10) == 5e-4 and cfg.lr_at_epoch(49) == 1e-3 / 16


def test_yaml_and_overrides(tmp_path):
    (tmp_path / "c.yaml").write_text("crop: 128\ncud:\n  coarse_cells: [4, 5]\n")
    cfg = TrainConfig.from_yaml(tmp_path / "c.yaml").override(batch_size=2, lr=None)
    assert cfg.crop == 128 and cfg.batch_size == 2 and cfg.lr == 1e-3
    assert cfg.cud.coarse_cells == (4, 5)
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    (tmp_path / "bad.yaml").write_text("crpo: 1\n")
    with pytest.raises(ValueError, match="crpo"):
        TrainConfig.from_yaml(tmp_path / "bad.yaml")
