"""Config files as people write them: numbers YAML 1.1 reads as strings, quoted numbers, keys given
twice, typos inside sections."""

from __future__ import annotations

import pytest

from defusion.training.config import TrainConfig, read_options


def _from_yaml(tmp_path, text: str) -> TrainConfig:
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
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
    (tmp_path / "more.yaml").write_text("lr: 2e-4\n",
                                        encoding="utf-8")  # as `--config` on top of a resumed run's config
    assert TrainConfig().updated(read_options(tmp_path / "more.yaml")).lr == 2e-4
    assert TrainConfig().updated({"lr": "2e-4"}).lr == 2e-4  # from Python or JSON a numeric string is a number


def test_only_quotes_in_a_config_file_make_a_numeric_string_wrong():
    """The refusal of a quoted number is for config files, where the loader reads every unquoted number
    as one; a string from Python (or an old record) is taken as before."""
    cfg = TrainConfig.from_dict({"lr": "0.01", "epochs": "5", "crop_scale": ["0.1", 0.5]})
    assert (cfg.lr, cfg.epochs, cfg.crop_scale) == (0.01, 5, (0.1, 0.5))


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


@pytest.mark.parametrize("text, message", [
    ("cud: {coarse_cells: [0, 0]}", "cud: coarse_cells must be two whole numbers of cells per image side, "
                                    "1 <= low <= high, got (0, 0)"),
    ("cud: {fine_cells: 5}", "cud: fine_cells must be two whole numbers"),
    ("cud: {coarse_cells: [14, 13]}", "coarse_cells must be two whole numbers of cells per image side, 1 <= low <= high"),
    ("cud: {fine_cells: [2.5, 4]}", "fine_cells must be two whole numbers"),
    ("cud: {keep_prob: [0.5]}", "cud: keep_prob must be two probabilities 0 <= low <= high <= 1, got (0.5,)"),
    ("cud: {keep_prob: [0.1, 5]}", "keep_prob must be two probabilities"),
    ("cud: {keep_prob: [0.9, 0.1]}", "keep_prob must be two probabilities"),
    ("cud: {keep_prob: [0.1, .nan]}", "keep_prob must be two probabilities"),
    ("cud: {degrade_prob: .inf}", "degrade_prob must be in [0, 1]"),
    ("lr: .inf", "lr must be a finite number, got inf"),
    ("lr: .nan", "lr must be a finite number, got nan"),
    ("gradient_weight: .inf", "gradient_weight must be a finite number"),
    ("max_seconds: .inf", "max_seconds must be a finite number"),
])
def test_values_that_would_fail_only_once_training_runs_are_refused_up_front(tmp_path, text, message):
    with pytest.raises(ValueError) as caught:
        _from_yaml(tmp_path, text + "\n")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_cud_config_keeps_its_pairs_as_tuples():
    from defusion.data.cud import CUDConfig

    cud = CUDConfig(coarse_cells=[3, 3], fine_cells=[4, 9], keep_prob=[0, 1], degrade_kinds=["blur"])
    assert (cud.coarse_cells, cud.fine_cells, cud.keep_prob, cud.degrade_kinds) == ((3, 3), (4, 9), (0, 1), ("blur",))
    assert hash(cud) == hash(CUDConfig(coarse_cells=(3, 3), fine_cells=(4, 9), keep_prob=(0, 1),
                                       degrade_kinds=("blur",)))


@pytest.mark.parametrize("args", [["--lr", "inf"], ["--lr", "nan"], ["--config", "cud.yaml"]])
def test_the_cli_refuses_them_in_one_line_before_building_anything(tmp_path, capsys, args):
    from defusion.cli.main import main

    (tmp_path / "cud.yaml").write_text("cud:\n  coarse_cells: [0, 0]\n", encoding="utf-8")
    (tmp_path / "images").mkdir()
    args = [str(tmp_path / a) if a.endswith(".yaml") else a for a in args]
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "images"), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: training option") and err.count("\n") == 1 and not out.exists()


@pytest.mark.parametrize("text, message", [
    ('lr: "0.01"', "training option lr must be a float, got the string '0.01' (quoted in the YAML? write the "
                   "number without quotes)"),
    ("epochs: '5'", "training option epochs must be an int, got the string '5' (quoted in the YAML?"),
    ('lr: "1e-3"', "lr must be a float, got the string '1e-3' (quoted"),
    ('cud: {degrade_prob: "0.5"}', "cud.degrade_prob must be a float, got the string '0.5' (quoted"),
    ('crop_scale: ["0.1", 0.5]', "crop_scale must be numbers, got the string '0.1' among them (quoted"),
    ("amp: 0", "amp must be a bool, got 0"),
])
def test_quoted_numbers_are_refused_as_a_number_for_a_bool_is(tmp_path, text, message):
    with pytest.raises(ValueError) as caught:
        _from_yaml(tmp_path, text + "\n")
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_plain_numbers_of_every_spelling_still_load(tmp_path):
    cfg = _from_yaml(tmp_path, "lr: 5e-4\nepochs: 5\ngrey_prob: .5e-1\nmax_seconds: +1E3\nmodel: defusion-tiny\n")
    assert (cfg.lr, cfg.epochs, cfg.grey_prob, cfg.max_seconds) == (5e-4, 5, 0.05, 1000.0)
    # no digits before the exponent: not a number (read, not built: e5 is no registered model)
    (tmp_path / "c.yaml").write_text("model: e5\n", encoding="utf-8")
    assert read_options(tmp_path / "c.yaml")["model"] == "e5"


@pytest.mark.parametrize("text, message", [
    ("lr: 1e-3\ncrop: 64\nlr: 5e-4\n", ": lr is given twice, on lines 1 and 3: keep one"),
    ("cud:\n  degrade_prob: 0.5\n  degrade_prob: 0.2\n", ": degrade_prob is given twice, on lines 2 and 3: keep one"),
    ("mfm: {patch: 8, patch: 16}\n", ": patch is given twice on line 1: keep one"),
])
def test_a_key_given_twice_is_refused_naming_it_and_its_lines(tmp_path, text, message):
    with pytest.raises(ValueError) as caught:
        _from_yaml(tmp_path, text)
    assert str(caught.value) == f"{tmp_path / 'c.yaml'}{message}"


def test_the_cli_says_a_key_given_twice_in_one_line(tmp_path, capsys):
    from defusion.cli.main import main

    (tmp_path / "c.yaml").write_text("lr: 1e-3\nlr: 5e-4\n", encoding="utf-8")
    (tmp_path / "images").mkdir()
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "images"), "--out", str(out), "--config",
                 str(tmp_path / "c.yaml")]) == 2
    err = capsys.readouterr().err
    assert err == f"defusion: error: {tmp_path / 'c.yaml'}: lr is given twice, on lines 1 and 2: keep one\n"
    assert not out.exists()
