import pytest
import torch

from defusion.model.registry import create_model
from defusion.model.weights import WeightsError, load_weights, weights_metadata, save_weights


def test_roundtrip_keeps_config_and_values(tmp_path):
    net = create_model("defusion-tiny")
    save_weights(net, tmp_path / "w.safetensors", metadata={"steps": "7"})
    loaded = load_weights(tmp_path / "w.safetensors")
    assert loaded.cfg == net.cfg
    for (k, v), (k2, v2) in zip(net.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(v, v2)
    assert weights_metadata(tmp_path / "w.safetensors")["steps"] == "7"


def test_half_precision_file_loads_as_float32(tmp_path):
    net = create_model("defusion-tiny")
    save_weights(net, tmp_path / "w16.safetensors", half=True)
    loaded = load_weights(tmp_path / "w16.safetensors")
    p = next(loaded.parameters())
    assert p.dtype == torch.float32
    assert torch.allclose(p, next(net.parameters()), atol=1e-2)


def test_clear_errors(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "missing.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file at all")
    with pytest.raises(WeightsError, match="not a valid safetensors"):
        load_weights(tmp_path / "junk.safetensors")
    from safetensors.torch import save_file
    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="not defusion weights"):
        load_weights(tmp_path / "other.safetensors")


@pytest.mark.parametrize("config", ['{"encoder_widths": [4, 8]}', '{"colour": 3}', "[1, 2]", "{not json"])
def test_a_bad_config_inside_weights_is_a_weights_error(tmp_path, config):
    from safetensors.torch import save_file

    net = create_model("defusion-tiny")
    save_file(net.state_dict(), str(tmp_path / "w.safetensors"), metadata={"format": "defusion-denet", "config": config})
    with pytest.raises(WeightsError, match="config is not valid"):
        load_weights(tmp_path / "w.safetensors")


def test_metadata_never_replaces_the_networks_own_config(tmp_path):
    """A tiny network saved with a full DeNet's config in its metadata (as scripts/ship_weights.py
    once merged it) was labelled the full network and could not be loaded."""
    import json

    tiny, full = create_model("defusion-tiny"), create_model("defusion")
    path = tmp_path / "w.safetensors"
    save_weights(tiny, path, metadata={"config": json.dumps(full.cfg.to_dict()), "format": "other", "steps": "3"})
    meta = weights_metadata(path)
    assert meta["format"] == "defusion-denet" and meta["steps"] == "3"
    assert load_weights(path).cfg == tiny.cfg


def test_tensors_that_do_not_fit_their_config_are_one_line(tmp_path):
    import json

    from safetensors.torch import save_file

    full = create_model("defusion")
    save_file(create_model("defusion-tiny").state_dict(), str(tmp_path / "w.safetensors"),
              metadata={"format": "defusion-denet", "config": json.dumps(full.cfg.to_dict())})
    with pytest.raises(WeightsError, match=r"does not fit the DeNet config it holds: \S+ is \d+(x\d+)* in the file") as caught:
        load_weights(tmp_path / "w.safetensors")
    assert "\n" not in str(caught.value)


def _checkpoint(run):
    """A training run's checkpoint where defusion train writes it (RUN/checkpoints/last.safetensors)."""
    from defusion.training.checkpoint import CHECKPOINT_NAME, TrainState, save_checkpoint

    net = create_model("defusion-tiny")
    path = run / "checkpoints" / CHECKPOINT_NAME
    path.parent.mkdir(parents=True)
    save_checkpoint(path, net, torch.optim.SGD(net.parameters(), lr=0.1), TrainState(step=12), {"model": "tiny"})
    return net, path


def test_a_runs_checkpoint_names_the_runs_weights_file(tmp_path):
    """A checkpoint once said only "not defusion weights (no DeNet config inside)"."""
    net, checkpoint = _checkpoint(tmp_path / "run")
    with pytest.raises(WeightsError, match="training checkpoint .step 12.*when it ends or is stopped.*--resume"):
        load_weights(checkpoint)
    save_weights(net, tmp_path / "run" / "weights.safetensors")
    with pytest.raises(WeightsError) as refused:
        load_weights(checkpoint)
    assert str(refused.value).endswith(f"give the run's weights file, {tmp_path / 'run' / 'weights.safetensors'}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.9+ deprecates torch.jit
def test_a_torchscript_export_is_named_with_what_defusion_runs(tmp_path):
    """A TorchScript export (defusion export --format torchscript) was called a pickled PyTorch file."""
    scripted = tmp_path / "denet.pt"
    torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2)).save(str(scripted))  # as defusion export does
    with pytest.raises(WeightsError, match="is a TorchScript export .*safetensors weights, or an ONNX export"):
        load_weights(scripted)
    pickled = tmp_path / "state.pt"
    torch.save({"x": torch.zeros(1)}, pickled)  # a zip too, without TorchScript's code: still a pickle
    with pytest.raises(WeightsError, match="pickled PyTorch files are not loaded"):
        load_weights(pickled)
