import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

import spectral
from spectral.plot import plot_mean_spectra, plot_profiles, plot_spectrum


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def saved_png(fig, path):
    fig.savefig(path)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000
    return data


def centred_log_power(image):
    p = np.abs(np.fft.fftshift(np.fft.fft2(image))) ** 2
    return 10 * np.log10(p + 1e-12)


# ------------------------------------------------------------ plot_spectrum


def test_plot_spectrum_renders_on_new_figure(tmp_path):
    rng = np.random.default_rng(1)
    spec = centred_log_power(rng.normal(size=(32, 48)))
    image = plot_spectrum(spec, title="noise")
    assert isinstance(image, matplotlib.image.AxesImage)
    ax = image.axes
    assert ax.get_title() == "noise"
    assert "cycles/px" in ax.get_xlabel() and "cycles/px" in ax.get_ylabel()
    # One image axes and its colour bar.
    assert len(ax.figure.axes) == 2 and image.colorbar is not None
    saved_png(ax.figure, tmp_path / "spectrum.png")


@pytest.mark.parametrize("shape", [(8, 6), (7, 5), (1, 4)])
def test_plot_spectrum_extent_centres_pixels_on_dft_frequencies(shape):
    _, ax = plt.subplots()
    image = plot_spectrum(np.zeros(shape), ax=ax, colorbar=False, vmin=0, vmax=1)
    fy = np.fft.fftshift(np.fft.fftfreq(shape[0]))
    fx = np.fft.fftshift(np.fft.fftfreq(shape[1]))
    x0, x1, y0, y1 = image.get_extent()
    # Pixel edges half a bin outside the first and last frequency.
    assert x0 == pytest.approx(fx[0] - 0.5 / shape[1])
    assert x1 == pytest.approx(fx[-1] + 0.5 / shape[1])
    assert y0 == pytest.approx(fy[0] - 0.5 / shape[0])
    assert y1 == pytest.approx(fy[-1] + 0.5 / shape[0])
    assert image.origin == "lower" and image.colorbar is None
    assert len(ax.figure.axes) == 1


def test_plot_spectrum_given_freqs_and_limits():
    fy = np.linspace(-1, 1, 5)
    fx = np.linspace(0, 2, 3)
    _, ax = plt.subplots()
    image = plot_spectrum(np.arange(15.0).reshape(5, 3), ax=ax, freqs=(fy, fx),
                          vmin=2, vmax=9, cmap="gray")
    assert image.get_clim() == (2, 9)
    assert image.get_cmap().name == "gray"
    assert image.get_extent() == pytest.approx((-0.5, 2.5, -1.25, 1.25))


def test_plot_spectrum_bad_input():
    with pytest.raises(spectral.ShapeError, match="spectrum must be a 2-D"):
        plot_spectrum(np.zeros((2, 4, 4)))
    with pytest.raises(spectral.ShapeError, match="freqs fx must be 1-D of length 4"):
        plot_spectrum(np.zeros((3, 4)), freqs=(np.arange(3), np.arange(5)))
    with pytest.raises(ValueError, match="freqs must be a pair"):
        plot_spectrum(np.zeros((3, 4)), freqs=np.arange(3))
    with pytest.raises(ValueError, match="freqs fy must increase"):
        plot_spectrum(np.zeros((3, 4)), freqs=(np.array([0, 2, 1]), np.arange(4)))
    with pytest.raises(ValueError, match="vmin must be below vmax"):
        plot_spectrum(np.zeros((3, 4)), vmin=2, vmax=1)
    with pytest.raises(ValueError, match="vmax must be a finite"):
        plot_spectrum(np.zeros((3, 4)), vmax=np.inf)
    with pytest.raises(TypeError, match="vmin must be a number"):
        plot_spectrum(np.zeros((3, 4)), vmin="low")
    with pytest.raises(TypeError, match="real-valued"):
        plot_spectrum(np.zeros((3, 4), dtype=complex))
    # Nothing was drawn before the errors.
    assert plt.get_fignums() == []


# -------------------------------------------------------- plot_mean_spectra


def test_plot_mean_spectra_grid_shares_one_colour_scale(tmp_path):
    rng = np.random.default_rng(2)
    spectra = {f"gen{i}": centred_log_power(rng.normal(size=(32, 32)) * (i + 1))
               for i in range(5)}
    fig, axes = plot_mean_spectra(spectra, ncols=3)
    assert axes.shape == (5,)
    # Five panels (the sixth grid cell removed) and one shared colour bar.
    assert len(fig.axes) == 6
    clims = {ax.images[0].get_clim() for ax in axes}
    assert len(clims) == 1
    pooled = np.concatenate([s.ravel() for s in spectra.values()])
    # Robust default: the 1st and 99th percentiles of everything pooled.
    assert clims.pop() == pytest.approx(tuple(np.percentile(pooled, [1, 99])))
    assert [ax.get_title() for ax in axes] == list(spectra)
    saved_png(fig, tmp_path / "grid.png")


def test_plot_mean_spectra_marks_predicted_peaks():
    spectra = {"a": np.zeros((16, 16)), "b": np.ones((16, 16))}
    fig, axes = plot_mean_spectra(spectra, peaks=(2, 4), titles=False)
    lines = {line.get_label(): line for line in axes[0].lines}
    assert set(lines) == {"x2", "x4"}
    x2 = set(zip(lines["x2"].get_ydata(), lines["x2"].get_xdata(), strict=True))
    assert x2 == {(-0.5, 0.0), (0.0, -0.5), (-0.5, -0.5)}
    # x4 marks only the positions that x2 does not already predict.
    assert len(lines["x4"].get_xdata()) == 16 - 1 - 3
    assert axes[0].get_title() == "" and axes[0].get_legend() is not None
    # Constant spectra: a unit colour range around the value, shared.
    assert axes[0].images[0].get_clim() == axes[1].images[0].get_clim()


def test_plot_mean_spectra_on_given_figure_with_limits(tmp_path):
    fig = plt.figure()
    spectra = {"real": np.zeros((8, 8)), "fake": np.full((8, 8), 3.0)}
    out_fig, axes = plot_mean_spectra(spectra, fig=fig, vmin=-1, vmax=4,
                                      freqs=(np.arange(8.0), np.arange(8.0)))
    assert out_fig is fig and len(fig.axes) == 3
    assert all(ax.images[0].get_clim() == (-1, 4) for ax in axes)
    saved_png(fig, tmp_path / "given.png")


def test_plot_mean_spectra_different_shapes_without_freqs():
    fig, axes = plot_mean_spectra({"small": np.zeros((8, 8)),
                                   "large": np.ones((16, 12))}, peaks=True)
    assert len(axes) == 2 and len(fig.axes) == 3


def test_plot_mean_spectra_bad_input():
    with pytest.raises(TypeError, match="spectra must be a mapping"):
        plot_mean_spectra([np.zeros((4, 4))])
    with pytest.raises(ValueError, match="at least one spectrum"):
        plot_mean_spectra({})
    with pytest.raises(spectral.ShapeError, match=r"spectra\['x'\] must be a 2-D"):
        plot_mean_spectra({"x": np.zeros(4)})
    with pytest.raises(spectral.ShapeError, match="must be 1-D of length 8"):
        plot_mean_spectra({"a": np.zeros((4, 4)), "b": np.zeros((8, 8))},
                          freqs=(np.arange(4), np.arange(4)))
    with pytest.raises(ValueError, match="peaks must be >= 2, got 1"):
        plot_mean_spectra({"a": np.zeros((4, 4))}, peaks=(1, 2))
    with pytest.raises(ValueError, match="ncols must be >= 1"):
        plot_mean_spectra({"a": np.zeros((4, 4))}, ncols=0)
    with pytest.raises(ValueError, match="no finite value"):
        plot_mean_spectra({"a": np.full((4, 4), np.nan)})
    with pytest.raises(ValueError, match="past the data's robust range"):
        plot_mean_spectra({"a": np.zeros((4, 4))}, vmin=5)
    assert plt.get_fignums() == []


# ------------------------------------------------------------ plot_profiles


def test_plot_profiles_std_band_matches_numpy(tmp_path):
    rng = np.random.default_rng(3)
    real = rng.normal(size=(6, 20))
    fake = rng.normal(2, 1, size=(4, 20))
    freqs = np.linspace(0, 0.5, 20)
    ax = plot_profiles({"real": real, "fake": fake}, freqs=freqs)
    assert [line.get_label() for line in ax.lines] == ["real", "fake"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), real.mean(axis=0),
                               rtol=1e-12)
    np.testing.assert_allclose(ax.lines[0].get_xdata(), freqs)
    # The band's vertices span mean - std .. mean + std (ddof=0).
    verts = ax.collections[0].get_paths()[0].vertices
    assert verts[:, 1].min() == pytest.approx(
        (real.mean(0) - real.std(0)).min(), rel=1e-12)
    assert verts[:, 1].max() == pytest.approx(
        (real.mean(0) + real.std(0)).max(), rel=1e-12)
    assert ax.get_xlabel() == "frequency (cycles/px)"
    assert ax.get_legend() is not None
    saved_png(ax.figure, tmp_path / "profiles.png")


def test_plot_profiles_iqr_pairs_and_single_lines():
    rng = np.random.default_rng(4)
    stack = rng.normal(size=(9, 10))
    mean = np.linspace(0, 1, 10)
    _, ax = plt.subplots()
    out = plot_profiles({"iqr": stack, "pm": (mean, np.full(10, 0.1)),
                         "lohi": (mean, np.stack([mean - 1, mean + 2])),
                         "single": mean}, ax=ax, band="iqr", ylabel="dB")
    assert out is ax and len(ax.lines) == 4
    # Three bands: the single profile has none.
    assert len(ax.collections) == 3
    verts = ax.collections[0].get_paths()[0].vertices
    q25, q75 = np.percentile(stack, [25, 75], axis=0)
    assert verts[:, 1].min() == pytest.approx(q25.min(), rel=1e-12)
    assert verts[:, 1].max() == pytest.approx(q75.max(), rel=1e-12)
    lohi = ax.collections[2].get_paths()[0].vertices
    assert lohi[:, 1].min() == pytest.approx(-1) and lohi[:, 1].max() == 3
    assert ax.get_xlabel() == "bin" and ax.get_ylabel() == "dB"


def test_plot_profiles_no_band():
    ax = plot_profiles({"a": np.ones((3, 5))}, band=None, xlabel="radius")
    assert len(ax.collections) == 0 and ax.get_xlabel() == "radius"


def test_plot_profiles_bad_input():
    with pytest.raises(TypeError, match="profiles must be a mapping"):
        plot_profiles(np.ones((3, 5)))
    with pytest.raises(ValueError, match="at least one entry"):
        plot_profiles({})
    with pytest.raises(ValueError, match="band must be one of"):
        plot_profiles({"a": np.ones((3, 5))}, band="sem")
    with pytest.raises(spectral.ShapeError, match="has 5 bins but freqs has 4"):
        plot_profiles({"a": np.ones((3, 5))}, freqs=np.arange(4))
    with pytest.raises(spectral.ShapeError, match=r"\(N, R\) array"):
        plot_profiles({"a": np.ones((2, 3, 5))})
    with pytest.raises(spectral.ShapeError, match="spread must have shape"):
        plot_profiles({"a": (np.ones(5), np.ones(4))})
    with pytest.raises(ValueError, match="NaN"):
        plot_profiles({"a": np.full((2, 5), np.nan)})
    assert plt.get_fignums() == []


def test_import_is_lazy():
    import subprocess
    import sys

    code = ("import sys, spectral.plot; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
