import numpy as np
import pytest
from scipy import integrate
from scipy.ndimage import gaussian_filter
from sklearn.metrics import roc_auc_score

from analysis.blur import (
    ap_against_prob,
    band_discrimination,
    blur_study,
    blur_transfer,
    evidence_removed,
    high_frequency_share,
)


def _integrated(f, prob, lo, hi, power):
    # Direct numerical integration of the Gaussian transfer over sigma ~ U[lo, hi].
    k = 2 if power else 1
    val, _ = integrate.quad(
        lambda s: np.exp(-2 * k * np.pi**2 * s**2 * f**2), lo, hi, epsabs=1e-13
    )
    return (1 - prob) + prob * val / (hi - lo)


@pytest.mark.parametrize("kind", ["amplitude", "power"])
@pytest.mark.parametrize("sigma_range", [(0.0, 3.0), (0.5, 1.5), (2.0, 2.1)])
def test_closed_form_matches_numerical_integration(kind, sigma_range):
    freqs = np.array([0.0, 1e-9, 0.01, 0.07, 0.2, 0.33, 0.5, 0.7])
    got = blur_transfer(freqs, prob=0.37, sigma_range=sigma_range, kind=kind)
    want = [_integrated(f, 0.37, *sigma_range, kind == "power") for f in freqs]
    # quad is accurate to ~1e-12 on this smooth integrand.
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)


def test_fixed_sigma_and_probability_limits():
    f = np.linspace(0, 0.5, 11)
    np.testing.assert_allclose(
        blur_transfer(f, prob=1.0, sigma_range=(1.2, 1.2)),
        np.exp(-2 * np.pi**2 * 1.2**2 * f**2), rtol=1e-12, atol=0,
    )
    assert np.all(blur_transfer(f, prob=0.0) == 1.0)
    full = blur_transfer(f, prob=1.0)
    # Linear in prob: the mixture of "untouched" and "blurred".
    np.testing.assert_allclose(
        blur_transfer(f, prob=0.3), 0.7 + 0.3 * full, rtol=1e-12, atol=0
    )
    # Symmetric in the sign of f, shape preserved.
    assert blur_transfer(-f.reshape(1, -1), prob=0.5).shape == (1, 11)
    np.testing.assert_allclose(blur_transfer(-f, prob=0.5), blur_transfer(f, prob=0.5))


def _measured_transfer(sigmas, n=64, seed=0, power=False):
    """Orientation map of the mean transfer of gaussian_filter on white noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n))
    fx = np.fft.fft2(x)
    acc = np.zeros((n, n))
    for s in sigmas:
        # 'wrap' makes the filter a circular convolution, so Y = H X per DFT bin.
        y = gaussian_filter(x, s, mode="wrap") if s > 0 else x
        fy = np.fft.fft2(y)
        if power:
            acc += np.abs(fy) ** 2 / np.abs(fx) ** 2
        else:
            acc += np.real(fy * np.conj(fx)) / np.abs(fx) ** 2
    return acc / len(sigmas)


@pytest.mark.parametrize("kind", ["amplitude", "power"])
def test_sampled_model_matches_gaussian_filter_on_white_noise(kind):
    n = 64
    sigmas = 3.0 * (np.arange(120) + 0.5) / 120
    measured = _measured_transfer(sigmas, n=n, power=kind == "power")
    f = np.fft.fftfreq(n)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fy, fx)

    # Along an axis the 2-D transfer is the 1-D kernel's: compare ring averages of
    # the measurement with the orientation-averaged model on thin rings.
    # Beyond 0.5 the rings exist only in the corners: the model averages over
    # those arcs only.
    for r0 in (0.05, 0.12, 0.2, 0.3, 0.4, 0.48, 0.55, 0.62, 0.68):
        ring = np.abs(radius - r0) < 0.6 / n
        model = blur_transfer(radius[ring], prob=1.0, kind=kind, model="sampled")
        # Model and measurement differ by the sigma quadrature (120 vs 600 nodes)
        # and the ring's few angles: 0.01 covers both.
        assert abs(measured[ring].mean() - model.mean()) < 0.01, r0


def test_continuous_and_sampled_models_agree_at_low_frequency_only():
    f = np.array([0.02, 0.08, 0.14, 0.5])
    cont = blur_transfer(f, prob=1.0, kind="power")
    samp = blur_transfer(f, prob=1.0, kind="power", model="sampled")
    # Below 0.15 cycles/px the ideal Gaussian describes the filter to 0.01 ...
    np.testing.assert_allclose(cont[:3], samp[:3], rtol=0, atol=0.01)
    # ... at Nyquist the sampled kernel (nearly a delta for small sigma) keeps more.
    assert samp[3] > cont[3] + 0.04


def test_monte_carlo_augmentation_matches_expected_attenuation():
    # The augmentation itself: Bernoulli(p) blur with sigma ~ U[0, 3].
    rng = np.random.default_rng(3)
    n, p = 64, 0.5
    draws = [rng.uniform(0, 3) if rng.random() < p else 0.0 for _ in range(400)]
    measured = _measured_transfer(draws, n=n, seed=4)
    f = np.fft.fftfreq(n)
    ring = np.abs(np.hypot(*np.meshgrid(f, f, indexing="ij")) - 0.25) < 0.6 / n
    radius = np.hypot(*np.meshgrid(f, f, indexing="ij"))[ring]
    expected = blur_transfer(radius, prob=p, model="sampled").mean()
    # 400 draws: standard error of the mean transfer ~ 0.015; allow 3.5 of them.
    assert abs(measured[ring].mean() - expected) < 0.05


def test_blur_transfer_rejects_bad_input():
    with pytest.raises(ValueError, match="prob"):
        blur_transfer([0.1], prob=1.5)
    with pytest.raises(TypeError, match="prob"):
        blur_transfer([0.1], prob="0.5")
    with pytest.raises(ValueError, match="sigma_range"):
        blur_transfer([0.1], prob=0.5, sigma_range=(3.0, 1.0))
    with pytest.raises(TypeError, match="sigma_range"):
        blur_transfer([0.1], prob=0.5, sigma_range=3.0)
    with pytest.raises(ValueError, match="kind"):
        blur_transfer([0.1], prob=0.5, kind="energy")
    with pytest.raises(ValueError, match="model"):
        blur_transfer([0.1], prob=0.5, model="fast")
    with pytest.raises(ValueError, match="freqs"):
        blur_transfer([np.nan], prob=0.5)


def test_band_auc_equals_sklearn():
    rng = np.random.default_rng(5)
    freqs = np.linspace(0.01, 0.5, 7)
    real = rng.normal(size=(23, 7))
    fake = rng.normal(size=(31, 7)) + np.linspace(-1, 1, 7)
    # Ties: rounding makes many equal values; sklearn gives ties one half too.
    real, fake = np.round(real, 1), np.round(fake, 1)
    res = band_discrimination(real, fake, freqs)
    labels = np.r_[np.zeros(23), np.ones(31)]
    for b in range(7):
        want = roc_auc_score(labels, np.r_[real[:, b], fake[:, b]])
        assert res.auc[b] == pytest.approx(want, abs=1e-12)
    np.testing.assert_allclose(res.separability, np.maximum(res.auc, 1 - res.auc))
    assert res.weights.sum() == pytest.approx(1.0)
    assert np.all(res.weights >= 0)
    assert res.peak_separability == pytest.approx(np.max(res.separability))
    # A band where fakes have less power is as useful as one where they have more.
    assert res.auc[0] < 0.5 < res.auc[-1]
    assert res.n_real == 23 and res.n_fake == 31


def test_grouped_bands_average_their_bins():
    rng = np.random.default_rng(6)
    freqs = np.linspace(0.0, 0.5, 12)
    real, fake = rng.normal(size=(15, 12)), rng.normal(size=(17, 12))
    res = band_discrimination(real, fake, freqs, bands=3)
    assert res.freqs.shape == (3,) and res.edges.shape == (4,)
    labels = np.r_[np.zeros(15), np.ones(17)]
    cols = freqs < res.edges[1]
    want = roc_auc_score(labels, np.r_[real[:, cols].mean(1), fake[:, cols].mean(1)])
    assert res.auc[0] == pytest.approx(want, abs=1e-12)
    with pytest.raises(ValueError, match="holds no frequency bin"):
        band_discrimination(real, fake, freqs, bands=50)


def test_chance_margin_keeps_noise_bands_out_of_the_weights():
    rng = np.random.default_rng(11)
    freqs = np.linspace(0.01, 0.5, 50)
    real, fake = rng.normal(size=(60, 50)), rng.normal(size=(60, 50))
    fake[:, 45:] += 2.0
    with_margin = band_discrimination(real, fake, freqs, chance_sd=2)
    no_margin = band_discrimination(real, fake, freqs, chance_sd=0)
    bonferroni = band_discrimination(real, fake, freqs)
    s0 = np.sqrt(121 / (12 * 3600))
    assert no_margin.chance == 0.5
    assert with_margin.chance == pytest.approx(0.5 + 2 * s0)
    # Two-sided 5 % over 50 bands: the normal quantile at 0.0005 is 3.29.
    assert bonferroni.chance == pytest.approx(0.5 + 3.2905 * s0, abs=1e-4)
    # Pure-noise bands carry half the weight without the margin (0.50 here); with
    # 2 sd only the few that pass by chance keep a little (0.09 here); with the
    # Bonferroni margin none do.
    assert no_margin.weights[:45].sum() > 0.3
    assert with_margin.weights[:45].sum() < no_margin.weights[:45].sum() / 4
    assert bonferroni.weights[:45].sum() == 0
    assert bonferroni.weights[45:].sum() == pytest.approx(1.0)
    for bad in (-1, "holm", np.nan):
        with pytest.raises(ValueError, match="chance_sd"):
            band_discrimination(real, fake, freqs, chance_sd=bad)


def test_bonferroni_margin_gives_no_weight_to_identical_sets():
    # Both classes drawn from one distribution: in 40 of 40 repeats at most a
    # rare one may pass (family-wise 5 %); at 2 sd nearly every repeat does.
    rng = np.random.default_rng(12)
    freqs = np.linspace(0.01, 0.7, 90)
    passed_bonf = passed_2sd = 0
    for _ in range(40):
        real, fake = rng.normal(size=(30, 90)), rng.normal(size=(30, 90))
        passed_bonf += band_discrimination(real, fake, freqs).weights.sum() > 0
        passed_2sd += band_discrimination(real, fake, freqs,
                                          chance_sd=2).weights.sum() > 0
    assert passed_bonf <= 6 and passed_2sd >= 35


def test_band_without_difference_has_zero_weight_and_nan_share():
    x = np.ones((5, 4))
    res = band_discrimination(x, x.copy(), np.linspace(0.1, 0.4, 4))
    np.testing.assert_array_equal(res.auc, 0.5)
    assert np.all(res.weights == 0)
    assert np.isnan(evidence_removed(res.weights, res.freqs, prob=0.5))
    assert np.isnan(res.centroid)


def test_band_discrimination_ignores_nan_bins():
    rng = np.random.default_rng(7)
    real, fake = rng.normal(size=(10, 3)), rng.normal(size=(10, 3)) + 2
    real[0, 1] = np.nan
    res = band_discrimination(real, fake, [0.1, 0.2, 0.3])
    labels = np.r_[np.zeros(9), np.ones(10)]
    want = roc_auc_score(labels, np.r_[real[1:, 1], fake[:, 1]])
    assert res.auc[1] == pytest.approx(want, abs=1e-12)


def test_band_discrimination_rejects_bad_shapes():
    with pytest.raises(ValueError, match="one entry per profile bin"):
        band_discrimination(np.ones((3, 4)), np.ones((3, 4)), [0.1, 0.2])
    with pytest.raises(ValueError, match="shape"):
        band_discrimination(np.ones(4), np.ones((3, 4)), [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="increasing"):
        band_discrimination(np.ones((3, 2)), np.ones((3, 2)), [0.2, 0.1])


def _profiles(rng, n, freqs, bump_at=None, factor=3.0, width=0.03):
    # Power-law spectra with log-normal scatter; the fake set gets a bump.
    base = (freqs + 0.02) ** -2.0 * np.exp(0.3 * rng.normal(size=(n, freqs.size)))
    if bump_at is not None:
        band = np.abs(freqs - bump_at) < width
        base[:, band] *= factor
    return base


def test_high_frequency_difference_loses_far_more_evidence_than_low():
    rng = np.random.default_rng(8)
    freqs = np.linspace(0.01, 0.5, 50)
    real = _profiles(rng, 80, freqs)
    fake_high = _profiles(rng, 80, freqs, bump_at=0.42)
    fake_low = _profiles(rng, 80, freqs, bump_at=0.02)
    high = band_discrimination(real, fake_high, freqs)
    low = band_discrimination(real, fake_low, freqs)
    assert 0.36 < high.centroid < 0.48 and 0.0 < low.centroid < 0.1

    for p in (0.1, 0.5):
        r_high = evidence_removed(high.weights, high.freqs, prob=p)
        r_low = evidence_removed(low.weights, low.freqs, prob=p)
        # Known answer: p times the mean of (1 - E[H^2]) over the bump's bins, up
        # to the small weights that chance-level bins get from sampling noise.
        bump = freqs[np.abs(freqs - 0.42) < 0.03]
        kept = blur_transfer(bump, prob=1, kind="power", model="sampled")
        assert r_high == pytest.approx(p * (1 - kept.mean()), abs=0.08 * p)
        # Below 0.05 cycles/px the blur keeps most power; near 0.42 it keeps ~15 %.
        assert r_high > 3 * r_low
        assert r_high <= p


def test_evidence_removed_rows_and_kinds():
    freqs = np.array([0.1, 0.3, 0.5])
    w = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    out = evidence_removed(w, freqs, prob=0.5, model="continuous")
    want = 1 - blur_transfer(freqs, prob=0.5, kind="power")
    np.testing.assert_allclose(out, [want[0], want[2]], rtol=1e-12)
    amp = evidence_removed(w, freqs, prob=0.5, kind="amplitude", model="continuous")
    assert np.all(amp < out)
    with pytest.raises(ValueError, match="non-negative"):
        evidence_removed([-1.0, 1.0, 0.0], freqs, prob=0.5)
    with pytest.raises(ValueError, match="shape"):
        evidence_removed([1.0, 0.0], freqs, prob=0.5)


def test_high_frequency_share_is_parseval_energy_share():
    # A 2-D white spectrum has a flat azimuthal profile. Over the whole square
    # (area 1) the energy above c is the area outside the disk of radius c.
    freqs = (np.arange(2000) + 0.5) / 2000 * np.sqrt(0.5)
    for c in (0.1, 0.25, 0.45):
        share = high_frequency_share(np.ones(2000), freqs, cutoff=c)
        assert share == pytest.approx(1 - np.pi * c**2, abs=0.002)
    # Above 0.5 only the corners are left: their area, counted on a fine grid.
    share = high_frequency_share(np.ones(2000), freqs, cutoff=0.6)
    g = (np.arange(1000) + 0.5) / 1000 - 0.5
    corner = np.mean(np.hypot(*np.meshgrid(g, g)) >= 0.6)
    assert share == pytest.approx(corner, abs=0.002)
    two = high_frequency_share(np.ones((3, 2000)), freqs, cutoff=0.25)
    assert two.shape == (3,)
    assert np.isnan(high_frequency_share(np.zeros(2000), freqs))
    with pytest.raises(ValueError, match="dB"):
        high_frequency_share(-np.ones(2000), freqs)
    with pytest.raises(ValueError, match="weighting"):
        high_frequency_share(np.ones(2000), freqs, weighting="area")


def test_blur_study_ranks_the_high_frequency_generator_first():
    rng = np.random.default_rng(9)
    freqs = np.linspace(0.01, 0.5, 40)
    profiles = {
        "lowgan": (_profiles(rng, 40, freqs), _profiles(rng, 40, freqs, 0.06)),
        "san": (_profiles(rng, 40, freqs), _profiles(rng, 40, freqs, 0.44)),
    }
    study = blur_study(profiles, freqs, probs=(0.1, 0.5))
    assert [g for g, _ in study.ranking(0.5)] == ["san", "lowgan"]
    assert study.removed["san"][0.5] > study.removed["san"][0.1]
    assert study.hf_share_fake["san"] > study.hf_share_real["san"]
    d = study.to_dict()
    assert set(d["generators"]["san"]["removed"]) == {"0.1", "0.5"}
    with pytest.raises(ValueError, match="at least one"):
        blur_study({}, freqs)


def test_ap_against_prob_mean_and_spread():
    rows = [
        {"generator": "san", "prob": 0.5, "seed": 0, "ap": 0.6},
        {"generator": "san", "prob": 0.5, "seed": 1, "ap": 0.7},
        {"generator": "san", "prob": 0.0, "seed": 0, "ap": 0.9},
        {"generator": "crn", "prob": 0.0, "seed": 0, "ap": 1.0},
    ]
    out = ap_against_prob(rows)
    assert out["san"]["probs"] == [0.0, 0.5]
    assert out["san"]["mean"] == pytest.approx([0.9, 0.65])
    assert out["san"]["std"] == pytest.approx([0.0, np.std([0.6, 0.7], ddof=1)])
    assert out["crn"]["n"] == [1]
    with pytest.raises(KeyError):
        ap_against_prob([{"generator": "x", "prob": 0.1}])
