"""Config files as people write them: numbers YAML reads as strings, typos inside sections."""

from __future__ import annotations

import pytest

from defusion.training.config import TrainConfig


def _from_yaml(tmp_path, text: str) -> TrainConfig:
    (tmp_path / "c.yaml").write_text(text)
    return TrainConfig.from_yaml(tmp_path / "c.yaml")


def test_exponent_numbers_that_yaml_reads_as_strings_are_numbers(tmp_path):
    cfg = _from_yaml(tmp_path, "lr: 1e-3\nmax_seconds: 36e2\nepoch_samples: 5e4\ncrop: 1.28e2\n"
                               "cud: {degrade_prob: 5e-1, keep_prob: [1e-1, 0.99], coarse_cells: [13, 1.4e1]}\n"
                               "mfm: {mask_ratio: 75e-2, patch: 8}\n")
    assert cfg.lr == 1e-3 and isinstance(cfg.lr, float) and cfg.max_seconds == 3600.0
    assert cfg.epoch_samples == 50_000 and isinstance(cfg.epoch_samples, int) and cfg.crop == 128
    assert cfg.cud.degrade_prob == 0.5 and cfg.cud.keep_prob == (0.1, 0.99) and cfg.cud.coarse_cells == (13, 14)
    assert cfg.mfm.mask_ratio == 0.75 and cfg.mfm.patch == 8
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg  # survives the checkpoint's JSON
    assert TrainConfig().updated({"lr": "2e-4"}).lr == 2e-4  # as `--config` on top of a resumed run's config


@pytest.mark.parametrize("text, message", [
    ("lr: abc", "lr must be a float, got 'abc'"), ("lr: nan", "lr must be a float"),
    ("batch_size: 2.5", "batch_size must be an int, got 2.5"), ("epochs: 1e-1", "epochs must be an int"),
    ("amp: 1e0", "amp must be a bool"), ("cud: {degrade_prob: high}", "cud.degrade_prob must be a float"),
    ("mfm: {patch: 1.55e1}", "mfm.patch must be an int"),
])
def test_what_is_no_number_is_still_refused_by_name(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        _from_yaml(tmp_path, text + "\n")


@pytest.mark.parametrize("text, section, typo, known", [
    ("cud: {degrade_prb: 0.5}", "cud", "degrade_prb", "degrade_prob"),
    ("mfm: {mask_ratoi: 0.5, patch: 8}", "mfm", "mask_ratoi", "mask_ratio"),
])
def test_a_typo_in_a_section_names_the_section_the_key_and_the_known_keys(tmp_path, text, section, typo, known):
    with pytest.raises(ValueError) as caught:
        _from_yaml(tmp_path, text + "\n")
    message = str(caught.value)
    assert message.startswith(f"unknown training option(s) in {section}: {typo}")
    assert f"did you mean {known}?" in message and known in message.split(f"{section} takes ")[1]
    assert "__init__" not in message and "keyword argument" not in message


def test_a_top_level_typo_suggests_the_option():
    with pytest.raises(ValueError, match=r"unknown training option\(s\): crpo \(did you mean crop\?\)"):
        TrainConfig.from_dict({"crpo": 128})
    with pytest.raises(ValueError, match="unknown training option"):  # YAML keys need not be strings
        TrainConfig.from_dict({1: 2, "zzz": 3})
