import numpy as np
import pytest

from spectral import ShapeError, SpectrumStats

# Streaming float64 statistics against NumPy's two-pass float64 reductions.
RTOL = 1e-12


def _assert_matches(stats, stack):
    ref = np.asarray(stack, dtype=np.complex128 if stats.complex_mean else np.float64)
    mean = ref.mean(axis=0)
    var = np.mean(np.abs(ref - mean) ** 2, axis=0)
    assert stats.count == ref.shape[0]
    np.testing.assert_allclose(stats.mean, mean, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(stats.var, var, rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(stats.std, np.sqrt(var), rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(stats.m2, var * ref.shape[0], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 7), (5, 4), (8, 9)])
def test_matches_numpy_over_the_stack(dtype, shape):
    rng = np.random.default_rng(1)
    stack = (rng.normal(3.0, 2.0, size=(37, *shape))).astype(dtype)
    stats = SpectrumStats().update(stack)
    _assert_matches(stats, stack)
    assert stats.mean.dtype == np.float64
    assert stats.var.dtype == np.float64


def test_one_image_at_a_time_equals_the_batch():
    rng = np.random.default_rng(2)
    stack = rng.normal(size=(20, 6, 5))
    stats = SpectrumStats()
    for image in stack:
        stats.update(image)
    _assert_matches(stats, stack)


def test_large_offset_keeps_precision():
    # A naive sum-of-squares formula loses every digit here; Welford/Chan does not.
    rng = np.random.default_rng(3)
    stack = 1e8 + rng.normal(size=(50, 3, 3))
    stats = SpectrumStats()
    for part in np.array_split(stack, 7):
        stats.update(part)
    np.testing.assert_allclose(stats.var, stack.var(axis=0), rtol=1e-7)


def test_batch_larger_than_the_internal_chunk(monkeypatch):
    import spectral._stats as mod

    monkeypatch.setattr(mod, "_CHUNK_VALUES", 40)
    rng = np.random.default_rng(4)
    stack = rng.normal(size=(23, 4, 5))
    _assert_matches(SpectrumStats().update(stack), stack)


def test_merging_two_halves_equals_the_whole():
    rng = np.random.default_rng(5)
    stack = rng.normal(size=(30, 8, 8))
    left = SpectrumStats().update(stack[:11])
    right = SpectrumStats().update(stack[11:])
    whole = SpectrumStats().update(stack)
    merged = left.merge(right)
    assert merged is left
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=RTOL)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=RTOL)
    assert right.count == 19  # the other object is left untouched


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_many_uneven_shards_in_any_order(seed):
    rng = np.random.default_rng(seed)
    stack = rng.gamma(2.0, size=(101, 5, 7))
    cuts = np.sort(rng.choice(np.arange(1, 101), size=9, replace=False))
    shards = [SpectrumStats().update(part) for part in np.split(stack, cuts)]
    order = rng.permutation(len(shards))
    total = SpectrumStats()
    for index in order:
        total.merge(shards[index])
    _assert_matches(total, stack)

    # A tree of merges gives the same answer as the chain.
    while len(shards) > 1:
        shards = [
            shards[i].merge(shards[i + 1]) if i + 1 < len(shards) else shards[i]
            for i in range(0, len(shards), 2)
        ]
    _assert_matches(shards[0], stack)


def test_merge_with_empty_stats():
    rng = np.random.default_rng(9)
    stack = rng.normal(size=(4, 3, 3))
    full = SpectrumStats().update(stack)
    empty = SpectrumStats()
    assert empty.merge(full).count == 4
    _assert_matches(empty, stack)
    _assert_matches(full.merge(SpectrumStats()), stack)


def test_complex_mean_equals_numpy_mean_of_complex_stack():
    rng = np.random.default_rng(10)
    images = rng.normal(size=(40, 6, 9))
    spectra = np.fft.fft2(images)
    stats = SpectrumStats(complex_mean=True)
    for part in np.array_split(spectra, 3):
        stats.update(part)
    assert stats.mean.dtype == np.complex128
    assert stats.var.dtype == np.float64
    _assert_matches(stats, spectra)
    np.testing.assert_allclose(stats.mean, spectra.mean(axis=0), rtol=RTOL, atol=1e-12)


def test_complex_mean_keeps_phase_coherent_artifact():
    # A fixed periodic pattern survives complex averaging; content with random
    # phase (randomly shifted noise) cancels, so the pattern's bins dominate.
    rng = np.random.default_rng(11)
    n = 32
    xx = np.arange(n)[np.newaxis, :]
    pattern = np.cos(2 * np.pi * xx * 8 / n) * np.ones((n, 1))
    stats = SpectrumStats(complex_mean=True)
    base = rng.normal(size=(n, n))
    for _ in range(200):
        shifted = np.roll(base, tuple(rng.integers(0, n, size=2)), axis=(0, 1))
        stats.update(np.fft.fft2(shifted + 0.2 * pattern))
    magnitude = np.abs(stats.mean)
    magnitude[0, 0] = 0  # the image mean is phase-coherent too
    peaks = magnitude[0, [8, 24]]
    magnitude[0, [8, 24]] = 0
    # Pattern bins: 0.2 * n * n / 2 = 102; noise bins ~ n / sqrt(200) = 2.3.
    assert peaks.min() > 10 * magnitude.max()


def test_real_input_with_complex_mean():
    rng = np.random.default_rng(12)
    stack = rng.normal(size=(5, 4, 4))
    stats = SpectrumStats(complex_mean=True).update(stack)
    np.testing.assert_allclose(stats.mean.real, stack.mean(axis=0), rtol=RTOL)
    assert np.all(stats.mean.imag == 0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, bool, np.float16])
def test_integer_and_half_input(dtype):
    rng = np.random.default_rng(13)
    stack = rng.integers(0, 2, size=(6, 3, 4)).astype(dtype)
    stats = SpectrumStats().update(stack)
    ref = stack.astype(np.float64)
    np.testing.assert_allclose(stats.mean, ref.mean(axis=0), rtol=RTOL)
    np.testing.assert_allclose(stats.var, ref.var(axis=0), rtol=RTOL, atol=1e-15)


def test_variance_ddof():
    rng = np.random.default_rng(14)
    stack = rng.normal(size=(9, 2, 3))
    stats = SpectrumStats().update(stack)
    np.testing.assert_allclose(stats.variance(1), stack.var(axis=0, ddof=1), rtol=RTOL)
    with pytest.raises(ValueError, match="ddof=9"):
        stats.variance(9)


def test_explicit_shape_for_channel_spectra():
    rng = np.random.default_rng(15)
    stack = rng.normal(size=(7, 3, 4, 5))
    stats = SpectrumStats(shape=(3, 4, 5))
    stats.update(stack[:4]).update(stack[4])
    stats.update(stack[5:])
    _assert_matches(stats, stack)
    with pytest.raises(ShapeError, match=r"\(4, 5\).*\(3, 4, 5\)"):
        stats.update(np.zeros((4, 5)))


def test_from_moments_round_trip_and_merge():
    rng = np.random.default_rng(16)
    stack = rng.normal(size=(12, 4, 4))
    first, second = stack[:5], stack[5:]
    built = SpectrumStats.from_moments(
        5, first.mean(axis=0), ((first - first.mean(axis=0)) ** 2).sum(axis=0)
    )
    built.merge(SpectrumStats().update(second))
    _assert_matches(built, stack)

    spectra = np.fft.fft2(stack)
    mean = spectra.mean(axis=0)
    m2 = (np.abs(spectra - mean) ** 2).sum(axis=0)
    cbuilt = SpectrumStats.from_moments(12, mean, m2, complex_mean=True)
    _assert_matches(cbuilt, spectra)


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(17)
    for complex_mean, stack in [
        (False, rng.normal(size=(6, 5, 3)).astype(np.float32)),
        (True, np.fft.fft2(rng.normal(size=(6, 5, 3)))),
    ]:
        stats = SpectrumStats(complex_mean=complex_mean).update(stack)
        path = stats.save(tmp_path / f"s{int(complex_mean)}.npz")
        back = SpectrumStats.load(path)
        assert back.count == stats.count
        assert back.complex_mean is complex_mean
        assert back.shape == stats.shape
        np.testing.assert_array_equal(back.mean, stats.mean)
        np.testing.assert_array_equal(back.m2, stats.m2)
        # A loaded object keeps accumulating.
        back.update(stack[0])
        assert back.count == 7


def test_save_appends_suffix_and_never_overwrites(tmp_path):
    stats = SpectrumStats().update(np.ones((2, 2)))
    path = stats.save(tmp_path / "stats")
    assert path == tmp_path / "stats.npz"
    with pytest.raises(FileExistsError, match="stats.npz"):
        stats.save(tmp_path / "stats.npz")
    stats.update(np.zeros((2, 2)))
    stats.save(path, overwrite=True)
    assert SpectrumStats.load(path).count == 2


def test_load_rejects_wrong_files(tmp_path):
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, mean=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="foreign.npz.*format tag"):
        SpectrumStats.load(foreign)

    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="notes.npz.*not a SpectrumStats file"):
        SpectrumStats.load(text)

    broken = tmp_path / "broken.npz"
    stats = SpectrumStats().update(np.ones((2, 2)))
    np.savez(
        broken,
        format=np.array("spectral-forensics/SpectrumStats"),
        version=np.array(1),
        count=np.array(3),
        complex_mean=np.array(False),
        mean=stats.mean,
        m2=-np.ones((2, 2)),
    )
    with pytest.raises(ValueError, match="broken.npz.*non-negative"):
        SpectrumStats.load(broken)

    with pytest.raises(FileNotFoundError):
        SpectrumStats.load(tmp_path / "missing.npz")


def test_empty_stats_raise():
    stats = SpectrumStats()
    assert stats.count == 0
    for attribute in ("mean", "var", "std", "m2"):
        with pytest.raises(ValueError, match="empty SpectrumStats"):
            getattr(stats, attribute)
    with pytest.raises(ValueError, match="empty"):
        stats.save("never-written.npz")


def test_input_errors():
    stats = SpectrumStats().update(np.zeros((3, 4)))
    with pytest.raises(ShapeError, match=r"\(4, 3\).*\(3, 4\)"):
        stats.update(np.zeros((4, 3)))
    with pytest.raises(ShapeError, match=r"\(2, 4, 3\).*\(3, 4\)"):
        stats.update(np.zeros((2, 4, 3)))
    with pytest.raises(ShapeError, match="got shape"):
        SpectrumStats().update(np.zeros(5))
    with pytest.raises(ShapeError, match="empty batch"):
        SpectrumStats().update(np.zeros((0, 2, 2)))

    bad = np.zeros((3, 4))
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        stats.update(bad)
    assert stats.count == 1  # a rejected update leaves the statistics unchanged

    with pytest.raises(TypeError, match="complex_mean=True"):
        stats.update(np.zeros((3, 4), dtype=complex))
    with pytest.raises(TypeError, match="SpectrumStats"):
        stats.merge(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="complex_mean"):
        stats.merge(SpectrumStats(complex_mean=True).update(np.zeros((3, 4))))
    with pytest.raises(ShapeError, match=r"\(2, 2\).*\(3, 4\)"):
        stats.merge(SpectrumStats().update(np.zeros((2, 2))))
    with pytest.raises(ValueError, match="count must be >= 1"):
        SpectrumStats.from_moments(0, np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="same shape"):
        SpectrumStats.from_moments(2, np.zeros((2, 2)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        SpectrumStats(shape=(0, 3))
