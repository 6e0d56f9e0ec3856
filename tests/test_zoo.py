import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from analysis import cli, photos, zoo
from analysis._zoo_nets import ellipse_mask, quantised_labels, raw_from_rgb

# Peak scores (dB above the local median, spectral.upsampling_peaks) of the mean
# residual spectrum of 32 test crops. The reals and the low-pass families of the
# shipped zoo score at most 0.6 dB; "clear" asks for 3 dB (twice the
# neighbourhood's power), "none" for less than 1.5 dB.
CLEAR_DB = 3.0
NO_PEAK_DB = 1.5

@pytest.fixture(scope="module")
def test_crops():
    parts = photos.split_photos(photos.load_photos())
    crops = photos.sample_crops(parts["test"], zoo.EVAL_COUNT, size=zoo.EVAL_SIZE,
                                seed=1)
    return np.stack([c.image for c in crops])


@pytest.fixture(scope="module")
def fake_peaks(test_crops):
    # Peak scores of each family's outputs on the test crops, computed once.
    cache = {}

    def peaks(family):
        if family not in cache:
            cache[family] = zoo.peak_scores(zoo.generate(family, test_crops))
        return cache[family]

    return peaks


@pytest.mark.parametrize("family", zoo.FAMILIES)
def test_forward_shapes_and_determinism(family):
    torch.manual_seed(3)
    net = zoo.create_generator(family).eval()
    torch.manual_seed(3)
    twin = zoo.create_generator(family).eval()
    for a, b in zip(net.state_dict().values(), twin.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)
    x = torch.rand(2, 3, 16, 24, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        y1 = net(x, generator=torch.Generator().manual_seed(5))
        y2 = twin(x, generator=torch.Generator().manual_seed(5))
    assert y1.shape == x.shape
    assert torch.isfinite(y1).all()
    torch.testing.assert_close(y1, y2, rtol=0, atol=0)
    assert isinstance(net.upsampler, str) and net.upsampler


@pytest.mark.parametrize("family", zoo.FAMILIES)
def test_every_parameter_gets_a_gradient(family):
    torch.manual_seed(0)
    net = zoo.create_generator(family)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    # Zero-initialised style/noise gains block the gradient of what they gate on
    # the first step; one optimiser step opens them.
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(2):
        opt.zero_grad()
        net(x, generator=torch.Generator().manual_seed(1)).square().mean().backward()
        opt.step()
    missing = [n for n, p in net.named_parameters() if p.grad is None]
    assert not missing


def test_degradations():
    rng = torch.Generator().manual_seed(0)
    x = torch.rand(1, 3, 8, 8, generator=rng) * 2 - 1
    raw = raw_from_rgb(x, generator=torch.Generator().manual_seed(1), read=0.0,
                       shot=0.0)
    x01 = (x + 1) / 2
    # Without noise the packed RGGB planes are the mosaic of the input.
    torch.testing.assert_close(raw[0, 0], x01[0, 0, 0::2, 0::2])
    torch.testing.assert_close(raw[0, 3], x01[0, 2, 1::2, 1::2])
    labels = quantised_labels(x)
    assert labels.shape == (1, 27, 8, 8)
    torch.testing.assert_close(labels.sum(dim=1), torch.ones(1, 8, 8))
    mask = ellipse_mask(64, 64)
    assert mask[0, 0, 32, 32] > 0.99 and mask[0, 0, 0, 0] < 0.01


def test_unknown_family_and_bad_images():
    with pytest.raises(ValueError, match="family must be one of"):
        zoo.create_generator("dcgan")
    with pytest.raises(ValueError, match="multiples of 8"):
        zoo.generate("san", np.zeros((12, 16, 3)))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\)"):
        zoo.generate("san", np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="shapes differ"):
        zoo.psnr(np.zeros((4, 4)), np.zeros((4, 5)))


def test_psnr_known_answer():
    a = np.zeros((3, 8, 8, 3))
    b = np.full((3, 8, 8, 3), 0.01)
    assert zoo.psnr(a, b) == pytest.approx(40.0, abs=1e-9)  # 10 log10(1 / 1e-4)
    assert zoo.psnr(a, a) == 100.0


def test_shipped_weights_are_small_and_recorded():
    info = zoo.zoo_info()
    assert list(info["families"]) == list(zoo.FAMILIES)
    for family, rec in info["families"].items():
        path = zoo.WEIGHTS_DIR / f"{family}.pt"
        assert path.stat().st_size == rec["bytes"] < 1_000_000
        state = torch.load(path, weights_only=True)
        assert all(v.dtype == torch.float16 for v in state.values())
        net = zoo.load_generator(family)
        assert sum(p.numel() for p in net.parameters()) == rec["parameters"]
        assert rec["steps"] == zoo.TRAIN_CONFIG[family]["steps"]
        assert rec["loss_last"] < rec["loss_first"]
        assert set(rec["peaks"]) == {"2", "4", "8"}


@pytest.mark.parametrize("family", zoo.FAMILIES)
def test_shipped_weights_reproduce_the_recorded_psnr(family, test_crops):
    rec = zoo.zoo_info()["families"][family]
    check = test_crops[: zoo.CHECK_COUNT]
    fake = zoo.generate(family, check, seed=zoo.zoo_info()["seed"])
    # Same crops, weights and noise seed: only float summation order differs
    # between machines and thread counts (far below 0.05 dB).
    assert zoo.psnr(fake, check) == pytest.approx(rec["psnr_check"], abs=0.05)


@pytest.mark.parametrize(
    ("family", "factor"),
    [("cyclegan", 2), ("stargan", 2), ("sitd", 2), ("san", 4), ("deepfake", 2)],
)
def test_transposed_conv_and_pixel_shuffle_families_peak(family, factor, fake_peaks):
    out = fake_peaks(family)
    assert out["peaks"][factor] >= CLEAR_DB
    assert out["peaks"] == {
        int(k): v for k, v in zoo.zoo_info()["families"][family]["peaks"].items()
    }


@pytest.mark.parametrize("family", ["cyclegan", "sitd"])
def test_strongest_peaks_reach_the_factor_estimate(family, fake_peaks):
    # spectral.estimate_upsampling_factor asks for 10 dB on every sub-grid.
    out = fake_peaks(family)
    assert out["peaks"][2] >= 10.0
    assert out["factor"] >= 2


@pytest.mark.parametrize("family", ["crn", "imle", "stylegan", "stylegan2"])
def test_bilinear_families_do_not_peak(family, fake_peaks):
    out = fake_peaks(family)
    assert max(out["peaks"].values()) < NO_PEAK_DB
    assert out["factor"] == 1


def test_reals_do_not_peak(test_crops):
    out = zoo.peak_scores(test_crops)
    assert max(out["peaks"].values()) < NO_PEAK_DB
    assert out["factor"] == 1
    assert zoo.zoo_info()["reals"]["factor"] == 1


def test_peak_scores_see_a_planted_checkerboard():
    rng = np.random.default_rng(0)
    smooth = rng.random((8, 64, 64)) * 0.1 + 0.5
    # Unequal values in the four phases of each 2x2 cell: peaks on all three
    # non-DC bins of the x2 grid.
    checker = np.tile([[0.2, 0.0], [0.1, 0.3]], (32, 32))
    out = zoo.peak_scores(smooth + checker)
    assert out["peaks"][2] > 10.0 and out["factor"] == 2
    assert zoo.peak_scores(smooth)["peaks"][2] < NO_PEAK_DB


def test_training_smoke_loss_falls():
    net, hist = zoo.train_generator("san", steps=30, batch=4, crop=32, seed=1)
    assert hist["loss"][-1] < hist["loss"][0]
    assert hist["config"]["steps"] == 30
    assert not net.training
    again, _ = zoo.train_generator("san", steps=3, batch=2, crop=32, seed=1)
    twin, _ = zoo.train_generator("san", steps=3, batch=2, crop=32, seed=1)
    for a, b in zip(again.state_dict().values(), twin.state_dict().values(),
                    strict=True):
        assert torch.equal(a, b)


def test_imle_objective_runs():
    _, hist = zoo.train_generator("imle", steps=2, batch=2, crop=32, samples=2)
    assert len(hist["loss"]) == 2 and all(np.isfinite(hist["loss"]))


def test_train_zoo_writes_weights_and_record(tmp_path):
    info = zoo.train_zoo(tmp_path, families=["san"], steps=2, progress=False)
    rec = info["families"]["san"]
    assert (tmp_path / "san.pt").stat().st_size == rec["bytes"]
    on_disk = json.loads((tmp_path / "zoo.json").read_text())
    assert on_disk["families"]["san"]["steps"] == 2
    net = zoo.load_generator("san", weights_dir=tmp_path)
    assert not net.training
    with pytest.raises(FileNotFoundError, match="no weights"):
        zoo.load_generator("crn", weights_dir=tmp_path)


def _tree(root):
    return {
        p: p.stat().st_mtime_ns for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_build_writes_layout_and_manifest(tmp_path):
    root = tmp_path / "zoo"
    counts = {"train": 3, "val": 1, "test": 2}
    out = zoo.build_zoo(root, families=["cyclegan", "san"], size=64,
                        n_per_split=counts, seed=2, progress=False)
    assert out.written == 2 * 2 * sum(counts.values())
    for split, n in counts.items():
        for fam in ("cyclegan", "san"):
            for label in ("0_real", "1_fake"):
                files = sorted((root / split / fam / label).glob("*.png"))
                assert len(files) == n
                with Image.open(files[0]) as im:
                    assert im.size == (64, 64) and im.mode == "RGB"
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["complete"] and manifest["config"]["seed"] == 2
    assert manifest["config"]["n_per_split"] == counts
    assert set(manifest["psnr"]["test"]) == {"cyclegan", "san"}
    # Every image pair names a source photo of its own split.
    for split, by_family in manifest["images"].items():
        allowed = set(manifest["splits"][split])
        for entries in by_family.values():
            assert {e["source"] for e in entries} <= allowed
    split_of = {n: s for s, names in manifest["splits"].items() for n in names}
    assert len(split_of) == sum(len(v) for v in manifest["splits"].values())
    # The stored real is the crop named in the manifest, through 8-bit rounding.
    entry = manifest["images"]["test"]["san"][0]
    src = {p.name: p for p in photos.load_photos()}[entry["source"]]
    top, left, size = entry["box"]
    crop = src.view(entry["view"], entry["scale"])[top : top + size, left : left + size]
    stored = np.asarray(Image.open(root / "test" / "san" / "0_real" / "00000.png"))
    np.testing.assert_array_equal(stored, np.round(crop * 255).astype(np.uint8))


def test_second_build_writes_nothing_and_other_config_refuses(tmp_path):
    root = tmp_path / "zoo"
    kwargs = dict(families=["san", "sitd"], size=64, n_per_split=1, progress=False)
    first = zoo.build_zoo(root, **kwargs)
    before = _tree(root)
    again = zoo.build_zoo(root, **kwargs)
    assert again.written == 0
    assert _tree(root) == before
    with pytest.raises(FileExistsError, match="another configuration"):
        zoo.build_zoo(root, **{**kwargs, "size": 32})
    with pytest.raises(FileExistsError, match="jpeg_quality"):
        zoo.build_zoo(root, **kwargs, jpeg_quality=90)
    assert _tree(root) == before
    assert first.manifest["config"] == again.manifest["config"]


def test_build_refuses_a_foreign_folder(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not empty"):
        zoo.build_zoo(tmp_path, families=["san"], size=32, n_per_split=1,
                      progress=False)
    assert os.listdir(tmp_path) == ["mine.txt"]


def test_build_applies_jpeg_to_both_classes(tmp_path):
    out = zoo.build_zoo(tmp_path / "q", families=["san"], size=64,
                        n_per_split={"test": 2}, jpeg_quality=30, progress=False)
    plain = zoo.build_zoo(tmp_path / "p", families=["san"], size=64,
                          n_per_split={"test": 2}, progress=False)
    for label in ("0_real", "1_fake"):
        a = np.asarray(Image.open(out.root / "test/san" / label / "00000.png"))
        b = np.asarray(Image.open(plain.root / "test/san" / label / "00000.png"))
        # Quality 30 changes every image of both classes; the PNG holds the result.
        assert np.abs(a.astype(int) - b.astype(int)).mean() > 0.5
    assert not (out.root / "train").exists()


def test_build_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="multiple of 8"):
        zoo.build_zoo(tmp_path, families=["san"], size=60, n_per_split=1)
    with pytest.raises(ValueError, match="jpeg_quality"):
        zoo.build_zoo(tmp_path, families=["san"], size=64, n_per_split=1,
                      jpeg_quality=101)
    with pytest.raises(ValueError, match="unknown split"):
        zoo.build_zoo(tmp_path, families=["san"], n_per_split={"tests": 1})
    with pytest.raises(ValueError, match="family"):
        zoo.build_zoo(tmp_path, families=["vqgan"], n_per_split=1)


def test_build_from_a_user_folder(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        arr = (rng.random((72, 80, 3)) * 255).astype(np.uint8)
        Image.fromarray(arr).save(real / f"img{i}.png")
    out = zoo.build_zoo(tmp_path / "zoo", families=["san"], size=64, n_per_split=1,
                        real_dir=real, progress=False)
    names = {n for v in out.manifest["splits"].values() for n in v}
    assert names == {f"img{i}" for i in range(4)}


def test_cli_info_and_build(tmp_path, capsys):
    assert cli.main(["zoo", "info"]) == 0
    table = capsys.readouterr().out
    assert all(f in table for f in zoo.FAMILIES) and "reals" in table
    args = ["zoo", "build", str(tmp_path / "d"), "--families", "san", "--size", "32",
            "--count", "1", "--quiet"]
    assert cli.main(args) == 0
    assert "wrote 6 images" in capsys.readouterr().out
    assert cli.main(args) == 0
    assert "nothing written" in capsys.readouterr().out
    assert cli.main([*args[:-1], "--seed", "1", "--quiet"]) == 2
    assert "another configuration" in capsys.readouterr().err
