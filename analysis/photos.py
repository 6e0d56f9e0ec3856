"""Real photographs for the simulated generator zoo: sources, crops and splits.

The default real class is made of the photographs that ship inside installed
packages (scikit-image, scikit-learn, matplotlib), so nothing is downloaded. A
folder of the user's own photos can replace or extend them.

Splits are made **by source photo**, never by crop: crops of one photo are
correlated, so a photo belongs to exactly one of ``train``, ``val`` and ``test``.
The bundled photos follow the fixed table :data:`BUNDLED_SPLITS`; photos from a
user folder are assigned by a seeded permutation of their sorted names.

Crops are taken at several scales: the photo is first downscaled by an integer
factor with a Lanczos (antialiasing) filter, then a square box is cut. JPEG
sources are only used at scales >= 2: the downscaling smooths the 8x8 block
grid of JPEG coding, whose harmonics sit exactly where upsampling generators put
their spectral peaks (multiples of N/8), so the real class does not carry a
grid that the fakes lack.
"""

import dataclasses
import functools
import hashlib
import os
from pathlib import Path

import numpy as np

from spectral._validate import check_positive_int

__all__ = [
    "BUNDLED_SPLITS",
    "Crop",
    "PhotoSource",
    "SPLITS",
    "bundled_photos",
    "folder_photos",
    "load_photos",
    "sample_crops",
    "sources_digest",
    "split_photos",
]

SPLITS = ("train", "val", "test")

# Fixed split of the bundled photos. Test and validation hold lossless and JPEG,
# colour and grey photos so that each split sees every kind of source; the large
# or many-view photos train, where most crops are needed.
BUNDLED_SPLITS = {
    "astronaut": "train",
    "rocket": "train",
    "stereo_motorcycle": "train",
    "hubble_deep_field": "train",
    "immunohistochemistry": "train",
    "retina": "train",
    "china": "train",
    "moon": "train",
    "brick": "train",
    "gravel": "train",
    "camera": "val",
    "grace_hopper": "val",
    "grass": "val",
    "chelsea": "test",
    "coffee": "test",
    "flower": "test",
    "coins": "test",
}

# Downscaling factors tried for lossless and JPEG sources.
LOSSLESS_SCALES = (1, 2, 3)
JPEG_SCALES = (2, 3)

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm"}
_JPEG_SUFFIXES = {".jpg", ".jpeg"}


@dataclasses.dataclass(frozen=True)
class PhotoSource:
    """One source photograph, possibly with several views (a stereo pair).

    Attributes
    ----------
    name : str
        Unique name of the photo (the split unit).
    paths : tuple of str
        File of each view; ``"skimage:<name>"`` style entries for bundled arrays.
    jpeg : bool
        True when the stored file is JPEG-compressed.
    origin : {"skimage", "sklearn", "matplotlib", "folder"}
        Where the photo comes from.
    """

    name: str
    paths: tuple
    jpeg: bool
    origin: str

    @property
    def scales(self):
        """Downscaling factors allowed for this photo (>= 2 for JPEG sources)."""
        return JPEG_SCALES if self.jpeg else LOSSLESS_SCALES

    def views(self):
        """Return the views as a tuple of float32 ``(H, W, 3)`` arrays in [0, 1]."""
        return tuple(_load_view(p) for p in self.paths)

    def view(self, index, scale=1):
        """Return view ``index`` downscaled by ``scale``, float32 in [0, 1]."""
        return _scaled_view(self.paths[index], scale)


@dataclasses.dataclass(frozen=True)
class Crop:
    """A square crop of a source photo.

    Attributes
    ----------
    source : str
        Name of the source photo.
    view : int
        Index of the view of that photo.
    scale : int
        Downscaling factor applied to the photo before cropping.
    box : tuple of int
        ``(top, left, size)`` in the downscaled photo; the crop covers
        ``(top * scale, left * scale, size * scale)`` of the original.
    image : numpy.ndarray
        float32 ``(size, size, 3)`` in [0, 1].
    """

    source: str
    view: int
    scale: int
    box: tuple
    image: np.ndarray = dataclasses.field(repr=False, compare=False)

    def record(self):
        """Return the JSON-ready description (everything but the pixels)."""
        return {
            "source": self.source,
            "view": self.view,
            "scale": self.scale,
            "box": list(self.box),
        }


def _skimage_path(name):
    import skimage.data

    return os.path.join(skimage.data.data_dir, name)


def _bundled_table():
    # name -> (files, origin). Files are looked up in the installed packages.
    import matplotlib.cbook
    import sklearn.datasets

    sk = {
        "astronaut": ["astronaut.png"],
        "chelsea": ["chelsea.png"],
        "coffee": ["coffee.png"],
        "rocket": ["rocket.jpg"],
        "stereo_motorcycle": ["motorcycle_left.png", "motorcycle_right.png"],
        "camera": ["camera.png"],
        "hubble_deep_field": ["hubble_deep_field.jpg"],
        "immunohistochemistry": ["ihc.png"],
        "retina": ["retina.jpg"],
        "moon": ["moon.png"],
        "coins": ["coins.png"],
        "brick": ["brick.png"],
        "grass": ["grass.png"],
        "gravel": ["gravel.png"],
    }
    table = {k: ([_skimage_path(f) for f in v], "skimage") for k, v in sk.items()}
    sk_images = Path(sklearn.datasets.__file__).parent / "images"
    for name in ("china", "flower"):
        table[name] = ([str(sk_images / f"{name}.jpg")], "sklearn")
    table["grace_hopper"] = (
        [matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)],
        "matplotlib",
    )
    return table


def bundled_photos():
    """Return the photographs bundled with scikit-image, scikit-learn and matplotlib.

    Returns
    -------
    list of PhotoSource
        Sorted by name; photos whose file is missing from the installation are
        left out.

    Notes
    -----
    Photo-like images only: scikit-image's astronaut, chelsea, coffee, rocket,
    stereo_motorcycle (both views, one source), camera, hubble_deep_field,
    immunohistochemistry, retina, moon, coins and the brick, grass and gravel
    textures; scikit-learn's china and flower; matplotlib's grace_hopper. Grey
    photos are replicated to three channels. Nothing is downloaded.

    Examples
    --------
    >>> names = [p.name for p in bundled_photos()]
    >>> "astronaut" in names and "grace_hopper" in names
    True
    """
    out = []
    for name, (files, origin) in sorted(_bundled_table().items()):
        if not all(os.path.isfile(f) for f in files):
            continue
        jpeg = Path(files[0]).suffix.lower() in _JPEG_SUFFIXES
        out.append(PhotoSource(name, tuple(files), jpeg, origin))
    return out


def folder_photos(folder):
    """Return the photos of a folder (recursively), one source per file.

    Parameters
    ----------
    folder : str or os.PathLike
        Directory holding PNG, JPEG, BMP, TIFF, WebP or PPM files.

    Returns
    -------
    list of PhotoSource
        Sorted by relative path; the name is the relative path without suffix.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a directory.
    ValueError
        If it holds no image file.

    Notes
    -----
    The JPEG flag comes from the file suffix. Files are decoded lazily; an
    unreadable file raises :class:`spectral.ImageReadError` when first used.

    Examples
    --------
    >>> import tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as d:
    ...     Image.new("RGB", (8, 8)).save(os.path.join(d, "a.png"))
    ...     [p.name for p in folder_photos(d)]
    ['a']
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"real_dir={str(folder)!r} is not a directory")
    files = sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
    )
    if not files:
        raise ValueError(
            f"real_dir={str(folder)!r} holds no image file "
            f"(suffixes {sorted(_IMAGE_SUFFIXES)})"
        )
    return [
        PhotoSource(
            str(p.relative_to(root).with_suffix("")).replace(os.sep, "/"),
            (str(p),),
            p.suffix.lower() in _JPEG_SUFFIXES,
            "folder",
        )
        for p in files
    ]


def load_photos(real_dir=None, *, bundled=None):
    """Return the real photo sources: bundled photos, a folder, or both.

    Parameters
    ----------
    real_dir : str or os.PathLike, optional
        Folder of the user's photos.
    bundled : bool, optional
        Include the bundled photos. Default: True without ``real_dir``, False
        with it (the folder replaces them); pass True to extend them.

    Returns
    -------
    list of PhotoSource

    Raises
    ------
    ValueError
        If two sources share a name, or if no source is left.

    Examples
    --------
    >>> len(load_photos()) >= 15
    True
    """
    if bundled is None:
        bundled = real_dir is None
    sources = bundled_photos() if bundled else []
    if real_dir is not None:
        sources += folder_photos(real_dir)
    names = [s.name for s in sources]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"photo names {dupes!r} occur twice; rename the files")
    if not sources:
        raise ValueError("no real photo source: pass real_dir or bundled=True")
    return sources


def split_photos(sources, *, seed=0):
    """Assign each source photo to exactly one of ``train``, ``val``, ``test``.

    Parameters
    ----------
    sources : list of PhotoSource
        Photos to split (names must be unique).
    seed : int, default 0
        Seed of the permutation used for photos outside the bundled table.

    Returns
    -------
    dict
        ``{"train": [...], "val": [...], "test": [...]}`` lists of sources.

    Notes
    -----
    Bundled photos follow :data:`BUNDLED_SPLITS` (10 train, 3 val, 4 test),
    whatever the seed. Other photos are sorted by name, permuted with
    ``numpy.random.default_rng(seed)`` and cut 70/15/15 %; with 3 or more such
    photos every split gets at least one. The split depends only on the names
    and the seed, never on the crops.

    Examples
    --------
    >>> parts = split_photos(load_photos())
    >>> [p.name for p in parts["test"]]
    ['chelsea', 'coffee', 'coins', 'flower']
    """
    parts = {s: [] for s in SPLITS}
    others = []
    for src in sources:
        if src.origin != "folder" and src.name in BUNDLED_SPLITS:
            parts[BUNDLED_SPLITS[src.name]].append(src)
        else:
            others.append(src)
    others.sort(key=lambda s: s.name)
    order = np.random.default_rng(seed).permutation(len(others))
    n = len(others)
    n_test = max(round(0.15 * n), 1 if n >= 3 else 0)
    n_val = max(round(0.15 * n), 1 if n >= 3 else 0)
    for rank, idx in enumerate(order):
        split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        parts[split].append(others[idx])
    for split in SPLITS:
        parts[split].sort(key=lambda s: s.name)
    return parts


def _load_view(path):
    return _cached_view(path)


@functools.lru_cache(maxsize=64)
def _cached_view(path):
    from PIL import Image, ImageOps

    from spectral._errors import ImageReadError

    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I"):
                arr = np.asarray(im, dtype=np.float32) / 65535.0
                arr = np.repeat(arr[..., None], 3, axis=-1)
            else:
                arr = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    except (OSError, ValueError) as exc:
        raise ImageReadError(path, str(exc)) from exc
    arr.setflags(write=False)
    return arr


@functools.lru_cache(maxsize=128)
def _scaled_view(path, scale):
    from PIL import Image

    base = _cached_view(path)
    if scale == 1:
        return base
    h, w = base.shape[0] // scale, base.shape[1] // scale
    # Lanczos on float channels: antialiased, no uint8 rounding in between.
    out = np.stack(
        [
            np.asarray(
                Image.fromarray(base[..., c]).resize((w, h), Image.Resampling.LANCZOS)
            )
            for c in range(3)
        ],
        axis=-1,
    )
    out = np.clip(out, 0.0, 1.0).astype(np.float32)
    out.setflags(write=False)
    return out


def _candidates(sources, size):
    # (source, view, scale, height, width) of every downscaled view that fits a crop.
    out = []
    for src in sources:
        for view in range(len(src.paths)):
            for scale in src.scales:
                h, w = _scaled_view(src.paths[view], scale).shape[:2]
                if h >= size and w >= size:
                    out.append((src, view, scale, h, w))
    return out


def sample_crops(sources, n, *, size=128, seed=0):
    """Cut ``n`` random square crops from the given photos.

    Parameters
    ----------
    sources : list of PhotoSource
        Photos to crop (usually one split of :func:`split_photos`).
    n : int
        Number of crops.
    size : int, default 128
        Side of the crops in pixels.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``; the same arguments give the same
        crops.

    Returns
    -------
    list of Crop

    Raises
    ------
    ValueError
        If ``n`` or ``size`` is not a positive integer, or if no photo is large
        enough for ``size``.

    Notes
    -----
    Each crop first draws a (photo, view, scale) triple with probability
    proportional to the number of pixels of the downscaled view, so large
    photos give more crops and small ones are not over-sampled; then a uniform
    position. Crops of one photo may overlap. Scales are 1, 2, 3 for lossless
    photos and 2, 3 for JPEG ones; a scale is skipped when the downscaled view
    is smaller than ``size``.

    Examples
    --------
    >>> parts = split_photos(load_photos())
    >>> crops = sample_crops(parts["test"], 3, size=32, seed=1)
    >>> [c.image.shape for c in crops]
    [(32, 32, 3), (32, 32, 3), (32, 32, 3)]
    >>> {c.source for c in crops} <= {"chelsea", "coffee", "coins", "flower"}
    True
    """
    n = check_positive_int(n, name="n")
    size = check_positive_int(size, name="size")
    cands = _candidates(sources, size)
    if not cands:
        raise ValueError(
            f"size={size!r} is larger than every photo at every scale; "
            "use a smaller size or larger photos"
        )
    weights = np.array([h * w for *_, h, w in cands], dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(cands), size=n, p=weights / weights.sum())
    crops = []
    for idx in picks:
        src, view, scale, h, w = cands[idx]
        top = int(rng.integers(0, h - size + 1))
        left = int(rng.integers(0, w - size + 1))
        pix = _scaled_view(src.paths[view], scale)[top : top + size, left : left + size]
        crops.append(Crop(src.name, view, scale, (top, left, size), np.array(pix)))
    return crops


def sources_digest(sources):
    """Return a short hash of the photos' names and file sizes.

    Parameters
    ----------
    sources : list of PhotoSource
        Photos, in any order.

    Returns
    -------
    str
        16 hexadecimal digits of a SHA-256; it changes when a photo is added,
        removed, renamed or replaced by a file of another size.

    Examples
    --------
    >>> len(sources_digest(bundled_photos()))
    16
    """
    h = hashlib.sha256()
    for src in sorted(sources, key=lambda s: s.name):
        h.update(src.name.encode())
        for p in src.paths:
            h.update(str(os.path.getsize(p)).encode())
    return h.hexdigest()[:16]
