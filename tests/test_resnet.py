import numpy as np
import pytest
import torch
import torch.nn.functional as F

from detectors import create_detector, list_detectors, register_detector
from detectors.resnet import ResNetDetector


def _reference_forward(state, x, layers):
    """Plain functional ResNet (torchvision v1.5 semantics) from a state dict."""

    def bn(t, prefix):
        return F.batch_norm(t, state[f"{prefix}.running_mean"],
                            state[f"{prefix}.running_var"], state[f"{prefix}.weight"],
                            state[f"{prefix}.bias"], training=False, eps=1e-5)

    x = F.relu(bn(F.conv2d(x, state["conv1.weight"], stride=2, padding=3), "bn1"))
    x = F.max_pool2d(x, 3, stride=2, padding=1)
    for stage, blocks in enumerate(layers, start=1):
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            out = F.relu(bn(F.conv2d(x, state[f"{p}.conv1.weight"]), f"{p}.bn1"))
            out = F.relu(bn(F.conv2d(out, state[f"{p}.conv2.weight"], stride=stride,
                                     padding=1), f"{p}.bn2"))
            out = bn(F.conv2d(out, state[f"{p}.conv3.weight"]), f"{p}.bn3")
            if f"{p}.downsample.0.weight" in state:
                x = bn(F.conv2d(x, state[f"{p}.downsample.0.weight"], stride=stride),
                       f"{p}.downsample.1")
            x = F.relu(out + x)
    pooled = x.mean(dim=(2, 3))
    return pooled @ state["fc.weight"][0] + state["fc.bias"][0]


def _randomise_batch_norm(model, seed):
    """Non-trivial running statistics so that eval-mode BN is tested."""
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            module.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            module.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def test_resnet50_matches_official_checkpoint_layout():
    model = create_detector("resnet50")
    state = model.state_dict()
    # The official checkpoint's model entry: 320 tensors, 23,510,081 parameters.
    assert len(state) == 320
    assert sum(p.numel() for p in model.parameters()) == 23_510_081
    assert state["conv1.weight"].shape == (64, 3, 7, 7)
    assert state["fc.weight"].shape == (1, 2048)
    assert state["fc.bias"].shape == (1,)
    assert state["layer4.0.downsample.0.weight"].shape == (2048, 1024, 1, 1)
    assert state["layer3.5.conv2.weight"].shape == (256, 256, 3, 3)
    assert "layer4.2.bn3.num_batches_tracked" in state
    assert not any(key.startswith("module.") for key in state)


@pytest.mark.parametrize("name", sorted(list_detectors()))
def test_every_variant_matches_functional_reference(name):
    torch.manual_seed(0)
    model = create_detector(name)
    _randomise_batch_norm(model, seed=1)
    model.eval()
    x = torch.randn(2, 3, 40, 56, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        out = model(x)
        ref = _reference_forward(model.state_dict(), x, model.layers)
    assert out.shape == (2,)
    # float32, same operations in the same order up to the residual sum.
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)


def test_forward_features_and_head_shapes():
    model = create_detector("resnet50").eval()
    x = torch.zeros(2, 3, 64, 96)
    with torch.no_grad():
        features = model.forward_features(x)
        pooled = model.forward_head(features, pre_logits=True)
        logits = model.forward_head(features)
    assert features.shape == (2, 2048, 2, 3)
    assert pooled.shape == (2, 2048)
    assert logits.shape == (2,)
    torch.testing.assert_close(logits, model(x))


def test_backward_gives_every_parameter_a_finite_gradient():
    torch.manual_seed(3)
    model = create_detector("resnet_tiny").train()
    x = torch.randn(4, 3, 32, 32)
    loss = F.binary_cross_entropy_with_logits(model(x), torch.tensor([0., 1, 0, 1]))
    loss.backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name


def test_head_initialisation_follows_the_paper():
    torch.manual_seed(4)
    model = create_detector("resnet50")
    weight = model.fc.weight.detach().numpy().ravel()
    # 2048 draws of N(0, 0.02): the sample std is within 10 % with p > 0.999.
    assert abs(weight.std() - 0.02) < 0.002
    assert abs(weight.mean()) < 0.002
    assert model.fc.bias.item() == 0.0


def test_registry_and_overrides():
    names = list_detectors()
    expected = {"resnet50", "resnet50_half", "resnet26_quarter", "resnet_tiny"}
    assert expected <= set(names)
    model = create_detector("resnet50", base_width=16, layers=None)
    assert model.layers == (3, 4, 6, 3) and model.num_features == 512
    with pytest.raises(ValueError, match="unknown detector 'resnet51'"):
        create_detector("resnet51")
    with pytest.raises(ValueError, match="already registered"):
        register_detector("resnet50", layers=(1, 1, 1, 1), base_width=8,
                          description="duplicate")
    with pytest.raises(ValueError, match="layers must be 4"):
        ResNetDetector(layers=(1, 1, 1))
    with pytest.raises(ValueError, match="base_width"):
        ResNetDetector(base_width=0)


def test_pretrained_without_local_file_never_downloads():
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        create_detector("resnet50", pretrained=True)


def test_pretrained_path_loads_those_weights(tmp_path):
    from detectors import save_checkpoint

    torch.manual_seed(5)
    source = create_detector("resnet_tiny")
    path = tmp_path / "tiny.pth"
    save_checkpoint(source, path)
    loaded = create_detector("resnet_tiny", pretrained=path)
    for key, value in source.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    assert not loaded.training


def test_same_output_as_torchvision_for_the_same_weights():
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(6)
    ours = create_detector("resnet50")
    theirs = torchvision.models.resnet50(weights=None)
    theirs.fc = torch.nn.Linear(2048, 1)
    _randomise_batch_norm(ours, seed=7)
    theirs.load_state_dict(ours.state_dict(), strict=True)
    x = torch.from_numpy(np.random.default_rng(8).normal(size=(2, 3, 64, 64))
                         .astype(np.float32))
    with torch.no_grad():
        torch.testing.assert_close(ours.eval()(x), theirs.eval()(x).flatten(),
                                   rtol=1e-5, atol=1e-5)


def test_package_exports_resolve():
    import detectors

    assert detectors.__all__ == sorted(detectors.__all__)
    for name in detectors.__all__:
        assert getattr(detectors, name) is not None, name
    with pytest.raises(AttributeError, match="no_such_name"):
        detectors.no_such_name  # noqa: B018
