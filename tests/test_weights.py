import hashlib
import os

import pytest
import torch

from detectors import (
    CheckpointError,
    PreprocessConfig,
    create_detector,
    load_backbone,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)


def _tiny(seed):
    torch.manual_seed(seed)
    return create_detector("resnet_tiny")


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_official_format_file_loads_strictly(tmp_path):
    # What the official BaseModel.save_networks writes: model, optimizer, steps.
    torch.manual_seed(0)
    source = create_detector("resnet50")
    optimizer = torch.optim.Adam(source.parameters(), lr=1e-4)
    path = tmp_path / "blur_jpg_prob0.1.pth"
    torch.save({"model": source.state_dict(), "optimizer": optimizer.state_dict(),
                "total_steps": 270048}, path)
    model = load_checkpoint(path)
    assert _same_weights(source, model)
    assert not model.training
    # Official files carry no preprocessing: the paper's 224 centre crop applies.
    assert model.preprocess_config == PreprocessConfig()
    assert read_checkpoint(path)["total_steps"] == 270048


def test_round_trip_in_official_format(tmp_path):
    model = _tiny(1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    config = PreprocessConfig(crop=None, small_image_policy="error")
    path = tmp_path / "ckpt.pth"
    save_checkpoint(model, path, config=config, optimizer=optimizer, total_steps=17)

    raw = torch.load(path, weights_only=True)
    assert {"model", "optimizer", "total_steps"} <= set(raw)
    assert raw["total_steps"] == 17
    assert raw["arch"] == "resnet_tiny"
    loaded = load_checkpoint(path)
    assert _same_weights(model, loaded)
    assert loaded.preprocess_config == config
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(x), loaded(x), rtol=0, atol=0)


def test_bare_state_dict_with_module_prefix(tmp_path):
    model = _tiny(2)
    path = tmp_path / "bare.pth"
    torch.save({f"module.{k}": v for k, v in model.state_dict().items()}, path)
    assert _same_weights(model, load_checkpoint(path, arch="resnet_tiny"))


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.makedirs, (self.marker,))


def test_pickle_that_carries_code_is_refused(tmp_path):
    marker = str(tmp_path / "code-ran")
    path = tmp_path / "evil.pth"
    torch.save({"model": {}, "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_checkpoint(path)
    assert not os.path.exists(marker)


def test_sha256_checked(tmp_path):
    path = tmp_path / "ckpt.pth"
    save_checkpoint(_tiny(3), path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    load_checkpoint(path, sha256=digest.upper())
    wrong = "0" * 64
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, sha256=wrong)
    assert digest in str(info.value) and wrong in str(info.value)


def test_missing_file_is_named(tmp_path):
    path = tmp_path / "nowhere.pth"
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        load_checkpoint(path)


def test_wrong_architecture_lists_keys_and_shapes(tmp_path):
    path = tmp_path / "tiny.pth"
    save_checkpoint(_tiny(4), path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, arch="resnet50")
    message = str(info.value)
    assert "missing keys" in message and "shape mismatches" in message
    assert "conv1.weight: checkpoint (8, 3, 7, 7) vs model (64, 3, 7, 7)" in message
    assert "more)" in message and "records arch 'resnet_tiny'" in message


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "junk.pth"
    path.write_bytes(b"not a zip and not a pickle")
    with pytest.raises(CheckpointError, match="junk.pth"):
        load_checkpoint(path)
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(CheckpointError, match="holds a list"):
        load_checkpoint(tmp_path / "list.pth")


def test_save_refuses_to_overwrite_and_strips_ddp_prefix(tmp_path):
    model = _tiny(5)
    path = tmp_path / "ckpt.pth"
    save_checkpoint(model, path)
    with pytest.raises(FileExistsError, match="overwrite"):
        save_checkpoint(model, path)

    class Wrapper(torch.nn.Module):  # stands in for DistributedDataParallel
        def __init__(self, module):
            super().__init__()
            self.module = module

    save_checkpoint(Wrapper(model), path, overwrite=True)
    assert not any(k.startswith("module.") for k in read_checkpoint(path)["model"])
    assert not list(tmp_path.glob("*.tmp*"))
    with pytest.raises(ValueError, match="reserved key 'model'"):
        save_checkpoint(model, path, overwrite=True, extra={"model": 1})


def test_load_backbone_skips_the_head(tmp_path):
    source = _tiny(6)
    state = dict(source.state_dict())
    # An ImageNet-style file: 1000-class head.
    state["fc.weight"] = torch.zeros(1000, 256)
    state["fc.bias"] = torch.zeros(1000)
    path = tmp_path / "imagenet.pth"
    torch.save(state, path)
    target = _tiny(7)
    head = target.fc.weight.detach().clone()
    load_backbone(target, path)
    assert torch.equal(target.conv1.weight, source.conv1.weight)
    assert torch.equal(target.fc.weight, head)
    with pytest.raises(CheckpointError, match="do not fit"):
        load_backbone(create_detector("resnet26_quarter"), path)
