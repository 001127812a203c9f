"""A weights file's config is checked against sane bounds and against its own tensors' shapes before the
network is built. Before, a 2 KB file whose config said ``"ensembler_width": 1000000`` (or
``"encoder_blocks": [3000, 1, 1, 1]``) made ``defusion fuse --weights`` try multi-GB allocations (or spend
11 s building a network) before it was refused, and the error then blamed the input images."""

from __future__ import annotations

import json
import time

import pytest
import torch
from safetensors.torch import save_file

from defusion.cli.errors import EXIT_USAGE
from defusion.model.denet import MAX_BLOCKS, MAX_CHANNELS, MAX_WIDTH, DeNet, DeNetConfig, ModelConfigError
from defusion.model.registry import create_model, model_config
from defusion.model.weights import WeightsError, config_layout, load_weights
from tests.cli.conftest import one_error_line, run_fuse
from tests.conftest import smooth_image

#: Seconds a refusal may take: it reads a small file's header and a config, and builds nothing.
QUICK_S = 5.0


def _forged(tmp_path, **config: object):
    """A small weights file: the tiny network's tensors, its config with ``config``'s settings put in."""
    tiny = create_model("defusion-tiny")
    path = tmp_path / "huge.safetensors"
    settings = {**tiny.cfg.to_dict(), **config}
    save_file(tiny.state_dict(), str(path), metadata={"format": "defusion-denet", "config": json.dumps(settings)})
    return path


@pytest.fixture
def nothing_built(monkeypatch) -> list[DeNetConfig]:
    """The DeNets built (not their layouts): none may be, for a refused file."""
    built: list[DeNetConfig] = []
    original = DeNet._init_weights

    def recorded(self):
        built.append(self.cfg)
        original(self)

    monkeypatch.setattr(DeNet, "_init_weights", recorded)
    return built


@pytest.mark.parametrize("field, value", [("ensembler_width", 1_000_000), ("encoder_blocks", [3000, 1, 1, 1]),
                                          ("stem_channels", 10_000_000), ("in_channels", 100_000),
                                          ("common_blocks", [1, 1, 1, 10**9])])
def test_a_config_past_any_denet_is_refused_naming_file_and_field(tmp_path, nothing_built, field, value):
    path = _forged(tmp_path, **{field: value})
    nothing_built.clear()  # the tiny network the file was made from
    started = time.perf_counter()
    with pytest.raises(WeightsError) as refused:
        load_weights(path)
    assert time.perf_counter() - started < QUICK_S
    message = str(refused.value)
    assert message.startswith(f"{path}: its DeNet config is not valid ({field} must be at most ")
    assert "\n" not in message and nothing_built == []


@pytest.mark.parametrize("field, value, named", [
    ("ensembler_width", MAX_WIDTH, "ensembler_width and ensembler_blocks"),
    ("encoder_widths", [MAX_WIDTH] * 4, "encoder_widths and encoder_blocks, stage 0"),
    ("unique_blocks", [1, 1, MAX_BLOCKS, 1], "unique_widths and unique_blocks, stage 2"),
    ("stem_channels", 64, "in_channels and stem_channels"),
])
def test_a_config_within_bounds_that_misfits_the_tensors_is_refused_before_building(tmp_path, nothing_built, field,
                                                                                    value, named):
    path = _forged(tmp_path, **{field: value})
    nothing_built.clear()
    with pytest.raises(WeightsError, match=f"^{path} does not fit the DeNet config it holds: ") as refused:
        load_weights(path)
    assert f"its {named}" in str(refused.value) and "\n" not in str(refused.value)
    assert nothing_built == []


def test_fewer_blocks_in_the_config_than_the_file_holds_name_the_field(tmp_path):
    net = create_model("defusion-tiny", encoder_blocks=(2, 1, 1, 1))
    path = tmp_path / "w.safetensors"
    config = {**net.cfg.to_dict(), "encoder_blocks": [1, 1, 1, 1]}
    save_file(net.state_dict(), str(path), metadata={"format": "defusion-denet", "config": json.dumps(config)})
    with pytest.raises(WeightsError, match=r"tensors of the file are not in that network \(encoder\.stage0\.1\.") as e:
        load_weights(path)
    assert "encoder_widths and encoder_blocks, stage 0" in str(e.value)


def test_the_command_says_the_weights_not_the_images(tmp_path, rng, capsys):
    from defusion.io.images import write_image

    a = write_image(tmp_path / "a.png", smooth_image(rng, 32, 32))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 32, 32))
    path = _forged(tmp_path, ensembler_width=1_000_000)
    assert run_fuse(a, b, "-o", tmp_path / "out.png", "--weights", path, "--runtime", "torch") == EXIT_USAGE
    line = one_error_line(capsys)
    assert f"{path}: its DeNet config is not valid (ensembler_width must be at most" in line
    assert "max-pixels" not in line and "memory" not in line


def test_bounds_name_the_setting_and_leave_what_denet_is_built_with():
    for name in ("defusion", "defusion-tiny"):
        model_config(name)  # the registered networks are within them
    with pytest.raises(ModelConfigError, match=r"^encoder_blocks must be at most 64 each .*; got \(3000, 1, 1, 1\)$"):
        DeNetConfig(encoder_blocks=(3000, 1, 1, 1))
    with pytest.raises(ModelConfigError, match=f"^out_channels must be at most {MAX_CHANNELS} "):
        model_config("defusion-tiny", out_channels=MAX_CHANNELS + 1)
    assert DeNetConfig(ensembler_width=MAX_WIDTH, ensembler_blocks=MAX_BLOCKS).ensembler_width == MAX_WIDTH


def test_the_layout_is_the_networks_without_building_it():
    cfg = model_config("defusion-tiny")
    net = DeNet(cfg)
    assert config_layout(cfg) == {k: tuple(v.shape) for k, v in net.state_dict().items()}
    huge = DeNetConfig(ensembler_width=MAX_WIDTH, encoder_widths=(MAX_WIDTH,) * 4)  # many GB, were it built
    assert config_layout(huge)["ensembler.0.reduce.weight"][0] == MAX_WIDTH
    config_layout(cfg).clear()  # the caller's own copy
    assert config_layout(cfg)


def test_fitting_weights_still_load_as_before(tmp_path):
    from defusion.model.weights import save_weights

    net = create_model("defusion-tiny")
    save_weights(net, tmp_path / "w.safetensors")
    loaded = load_weights(tmp_path / "w.safetensors")
    assert loaded.cfg == net.cfg
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), loaded.state_dict().values()))


def _onnx_with_config(path, config: dict) -> None:
    """A minimal ONNX file shaped as an exported DeNet (two inputs, the four outputs) whose metadata holds
    ``config``: what a forged export would carry."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from defusion.model.denet import DeNetOutput

    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, 8, 8]) for name in ("x1", "x2")]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, 8, 8]) for name in DeNetOutput._fields]
    nodes = [helper.make_node("Identity", ["x1"], [name]) for name in DeNetOutput._fields]
    model = helper.make_model(helper.make_graph(nodes, "denet", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # what ONNX Runtime reads, whatever onnx writes by default
    helper.set_model_props(model, {"format": "defusion-denet", "config": json.dumps(config)})
    onnx.save(model, str(path))


def test_an_onnx_files_config_is_bounded_too(tmp_path):
    """OnnxDeNet reads a DeNetConfig from the file's metadata (serve's /v1/info then counts the parameters of the
    DeNet it describes, built on the meta device): past the bounds it is refused as the file is loaded."""
    pytest.importorskip("onnxruntime")
    from defusion.fusion.onnx_runtime import OnnxDeNet, OnnxModelError

    path = tmp_path / "forged.onnx"
    _onnx_with_config(path, {**DeNetConfig().to_dict(), "encoder_blocks": [3000, 1, 1, 1]})
    with pytest.raises(OnnxModelError, match=f"^{path}: its DeNet config is not valid \\(encoder_blocks must be at"):
        OnnxDeNet(path)
    _onnx_with_config(path, DeNetConfig().to_dict())
    assert OnnxDeNet(path).cfg == DeNetConfig()
