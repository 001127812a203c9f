import pytest
import torch

from defusion.model.denet import UNIQUE_DETAIL_SIGMA, DeNet, default_detail_gain
from defusion.model.filters import high_pass
from defusion.model.profile import count_macs, count_parameters
from defusion.model.registry import create_model, list_models, model_config


def test_published_size_matches_the_paper():
    net = create_model("defusion")
    # Published DeFusion: about 8.0M parameters and 15.4 GMACs per 256x256 pair.
    assert 7.5e6 < count_parameters(net) < 8.5e6
    assert 14.5e9 < count_macs(net, 256, 256) < 16.0e9


def test_forward_shapes_and_four_projections():
    net = create_model("defusion-tiny")
    out = net(torch.rand(2, 3, 48, 64), torch.rand(2, 3, 48, 64))
    assert len(out) == 4
    for t in out:
        assert t.shape == (2, 3, 48, 64)
        assert torch.isfinite(t).all()


def test_embeddings_are_full_resolution_and_symmetric_in_unique_decoder():
    net = create_model("defusion-tiny").eval()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    f_c, f_u1, f_u2 = net.embed(a, b)
    assert f_c.shape[-2:] == (32, 32) and f_u1.shape == f_u2.shape == f_c.shape
    assert not torch.allclose(f_u1, f_u2)
    # Du is shared by both sources: identical sources give identical unique embeddings.
    _, g_u1, g_u2 = net.embed(a, a)
    assert torch.equal(g_u1, g_u2)


def test_unique_gain_weighs_the_unique_embeddings_in_the_fused_projection_only():
    torch.manual_seed(0)  # unseeded, 1 run in 40 fell outside the tolerance
    net = create_model("defusion-tiny").eval()
    a, b = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        paper, zero, half = (net(a, b, gain) for gain in (1.0, 0.0, 0.5))
        f_c, f_u1, f_u2 = net.embed(a, b)
        assert torch.allclose(paper.fused, net.fusion_head(f_c + f_u1 + f_u2))  # the paper's Pr at 1
        assert torch.allclose(zero.fused, net.fusion_head(f_c), atol=1e-6)  # 0: the common part alone
        # Up to 1, Pr is linear in the gain: fused(g) = fused(0) + g (fused(1) - fused(0)),
        # for a tensor gain too
        for gain, out in ((0.5, half), (torch.tensor(0.5), net(a, b, torch.tensor(0.5)))):
            assert torch.allclose(out.fused, zero.fused + gain * (paper.fused - zero.fused), atol=1e-5)
            for name in ("common", "unique1", "unique2"):
                assert torch.equal(getattr(out, name), getattr(paper, name))


def test_unique_gain_above_one_weighs_the_unique_detail_twice_as_much_as_its_local_mean():
    net = create_model("defusion-tiny").eval()
    a, b = torch.rand(1, 3, 48, 64), torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        f_c, f_u1, f_u2 = net.embed(a, b)
        u = f_u1 + f_u2
        unique_image = net.fusion_head(f_c + u) - net.fusion_head(f_c)  # what u adds through Pr
        fused = net(a, b, 1.5).fused
        expected = net.fusion_head(f_c + 1.5 * u) + 0.5 * high_pass(unique_image, UNIQUE_DETAIL_SIGMA)
        assert torch.allclose(fused, expected, atol=1e-5)
        # local mean at the gain (1.5), fine detail at 2g - 1 (2): the difference from the plain
        # gain is the unique image's detail alone, which a flat unique image would not have
        extra = fused - net.fusion_head(f_c + 1.5 * u)
        assert extra.abs().max() > 1e-4
        assert high_pass(torch.full_like(extra, 0.3), UNIQUE_DETAIL_SIGMA).abs().max() < 1e-6
        # a traced or exported graph passes the gain as a tensor: same output
        assert torch.allclose(net(a, b, torch.tensor(1.5)).fused, fused, atol=1e-6)
        assert not torch.allclose(fused, net(a, b, 1.0).fused)


def test_detail_gain_weighs_the_unique_detail_apart_from_its_local_mean():
    net = create_model("defusion-tiny").eval()
    a, b = torch.rand(1, 3, 48, 64), torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        f_c, f_u1, f_u2 = net.embed(a, b)
        u = f_u1 + f_u2
        detail = high_pass(net.fusion_head(f_c + u) - net.fusion_head(f_c), UNIQUE_DETAIL_SIGMA)
        # local mean at 1 (the paper's), detail at 1.5: Pr plus half the unique detail
        fused = net(a, b, 1.0, 1.5).fused
        assert torch.allclose(fused, net.fusion_head(f_c + u) + 0.5 * detail, atol=1e-5)
        # the default detail gain is the one that goes with the unique gain, float or tensor
        assert torch.equal(net(a, b, 1.5, default_detail_gain(1.5)).fused, net(a, b, 1.5).fused)
        assert torch.equal(net(a, b, 1.0, 1.0).fused, net(a, b).fused)
        for gains in ((torch.tensor(1.0), torch.tensor(1.5)), (1.0, torch.tensor(1.5))):
            assert torch.allclose(net(a, b, *gains).fused, fused, atol=1e-6)
        # a detail gain under the unique gain smooths what only one source shows
        assert torch.allclose(net(a, b, 1.25, 1.0).fused, net.fusion_head(f_c + 1.25 * u) - 0.25 * detail, atol=1e-5)


def test_rejects_sizes_that_are_not_multiples_of_8_and_mismatches():
    net = create_model("defusion-tiny")
    with pytest.raises(ValueError, match="multiples of 8"):
        net(torch.rand(1, 3, 30, 32), torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="differ in shape"):
        net(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 32))


def test_registry():
    assert {"defusion", "defusion-tiny"} <= set(list_models())
    assert model_config("defusion", radix=2).radix == 2
    with pytest.raises(ValueError, match="unknown model"):
        create_model("nope")
    assert isinstance(create_model("defusion-tiny"), DeNet)


def test_initial_activations_are_bounded():
    """Without normalisation layers the residual gain keeps deep activations sane."""
    torch.manual_seed(0)
    net = create_model("defusion").eval()
    with torch.no_grad():
        f_c, f_u1, _ = net.embed(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64))
    assert f_c.std() < 10 and f_u1.std() < 10


def test_reset_parameters_reinitialises_only_the_named_parts():
    torch.manual_seed(0)
    net = create_model("defusion-tiny")
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)  # stands for training
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.reset_parameters("unique_decoder", "unique_head")
    after = net.state_dict()
    changed = {k.split(".")[0] for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"unique_decoder", "unique_head"}
    assert after["unique_head.weight"].abs().max() < 0.01 and torch.all(after["unique_head.bias"] == 0)
    with pytest.raises(ValueError, match="unknown DeNet part"):
        net.reset_parameters("decoder")


def test_project_after_embed_is_forward():
    from defusion.model.registry import create_model

    torch.manual_seed(0)
    net = create_model("defusion-tiny").eval()
    x1, x2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        direct = net(x1, x2, unique_gain=1.5, detail_gain=2.5)
        split = net.project(*net.embed(x1, x2), unique_gain=1.5, detail_gain=2.5)
    assert all(torch.equal(a, b) for a, b in zip(direct, split))
