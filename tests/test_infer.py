import numpy as np
import pytest
import torch
from PIL import Image

from detectors import PreprocessConfig, Scores, create_detector, score_images
from detectors.infer import resolve_precision
from detectors.preprocess import preprocess_image
from spectral._errors import ImageReadError


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    net = create_detector("resnet_tiny")
    # Non-trivial batch-norm statistics: eval mode must use them.
    gen = torch.Generator().manual_seed(1)
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1, generator=gen)
            module.running_var.uniform_(0.5, 1.5, generator=gen)
    return net.eval()


def _reference(model, images, cfg):
    """One image at a time, float32, NCHW: the official demo's path."""
    with torch.no_grad():
        logits = [model(preprocess_image(im, cfg)[None]).item() for im in images]
    return 1 / (1 + np.exp(-np.array(logits)))


def _images(seed, sizes):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in sizes]


def test_batched_fp32_equals_one_at_a_time(model):
    cfg = PreprocessConfig(crop=32)
    images = _images(0, [(40, 40)] * 5 + [(36, 50)] * 4)
    scores = score_images(model, images, cfg=cfg, batch_size=4, precision="fp32",
                          progress=False)
    assert isinstance(scores, Scores) and scores.precision == "fp32"
    # Batching and channels-last change only the float32 summation order.
    np.testing.assert_allclose(scores.probabilities, _reference(model, images, cfg),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(scores), scores.probabilities)


def test_full_image_mode_buckets_sizes_in_input_order(model):
    cfg = PreprocessConfig(crop=None)
    sizes = [(32, 32), (48, 40), (32, 32), (40, 56), (48, 40), (32, 32), (33, 35)]
    images = _images(1, sizes)
    scores = score_images(model, images, cfg=cfg, batch_size=2, precision="fp32",
                          progress=False)
    np.testing.assert_allclose(scores.probabilities, _reference(model, images, cfg),
                               rtol=1e-5, atol=1e-6)
    # Many distinct sizes with a small batch: pending buckets are flushed early.
    many = _images(2, [(32 + i, 32) for i in range(12)])
    flushed = score_images(model, many, cfg=cfg, batch_size=1, precision="fp32",
                           progress=False)
    np.testing.assert_allclose(flushed.probabilities, _reference(model, many, cfg),
                               rtol=1e-5, atol=1e-6)


def test_bf16_is_close_to_fp32(model):
    cfg = PreprocessConfig(crop=32)
    images = _images(3, [(32, 32)] * 8)
    fp32 = score_images(model, images, cfg=cfg, precision="fp32", progress=False)
    bf16 = score_images(model, images, cfg=cfg, precision="bf16", progress=False)
    assert bf16.precision == "bf16"
    # bfloat16 keeps 8 bits of mantissa: logits agree to a few percent here.
    np.testing.assert_allclose(bf16.logits, fp32.logits, rtol=0.05, atol=0.05)


def test_bad_files_are_skipped_and_reported(model, tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(_images(4, [(32, 32)])[0]).save(good)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    inputs = [good, bad, tmp_path / "missing.png", good]
    cfg = PreprocessConfig(crop=32)
    with pytest.warns(UserWarning, match="skipped 2 of 4 input.*bad.png") as record:
        scores = score_images(model, inputs, cfg=cfg, precision="fp32",
                              progress=False)
    assert record[0].filename == __file__  # points at the caller
    assert sorted(scores.errors) == [1, 2]
    assert np.isnan(scores.probabilities[[1, 2]]).all()
    assert scores.probabilities[0] == scores.probabilities[3]
    quiet = score_images(model, inputs, cfg=cfg, on_error="ignore", progress=False)
    assert "missing.png" in quiet.errors[2]
    with pytest.raises(ImageReadError, match="bad.png"):
        score_images(model, inputs, cfg=cfg, on_error="raise", progress=False)


def test_uses_the_models_preprocessing_and_restores_training_mode():
    torch.manual_seed(5)
    net = create_detector("resnet_tiny",
                          preprocess_config=PreprocessConfig(crop=None))
    net.train()
    image = _images(6, [(40, 48)])[0]
    scores = score_images(net, image, precision="fp32", progress=False)
    assert net.training
    expected = _reference(net.eval(), [image], PreprocessConfig(crop=None))
    np.testing.assert_allclose(scores.probabilities, expected, rtol=1e-5, atol=1e-6)


def test_precision_choice():
    assert resolve_precision("bf16", "cpu") == "bf16"
    assert resolve_precision("auto", "cpu") in ("fp32", "bf16")
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp16", "cpu")
    with pytest.raises(ValueError, match="on_error must be one of"):
        score_images(torch.nn.Identity(), [], on_error="skip")
