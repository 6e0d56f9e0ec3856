"""Image sets in the CNNDetection folder layout.

A *set root* holds one folder per generator; a generator folder holds either
``0_real`` and ``1_fake`` (images, searched recursively) or class sub-folders that
each hold them (the multi-class sets: ProGAN's 20 LSUN classes, and the
StyleGAN, StyleGAN2 and CycleGAN sets of the official test set)::

    <root>/<generator>/{0_real,1_fake}/*.png
    <root>/<generator>/<class>/{0_real,1_fake}/*.png

A *split root* holds ``train``, ``val`` and/or ``test`` folders, each a set root:
the official ``dataset/`` folder and the simulated generator zoo both have this
form. Labels follow the folder names: ``0_real`` -> 0, ``1_fake`` -> 1.
"""

import dataclasses
import os
from pathlib import Path

import numpy as np
import torch

from .preprocess import load_rgb

__all__ = [
    "IMAGE_EXTENSIONS",
    "MULTICLASS_SETS",
    "DatasetLayoutError",
    "ImageFolderDataset",
    "Sample",
    "count_samples",
    "list_dataset",
    "list_images",
]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")

# Sets of the official test set that are split into class sub-folders.
MULTICLASS_SETS = ("progan", "stylegan", "stylegan2", "cyclegan")

SPLITS = ("train", "val", "test")
_LABEL_DIRS = {"0_real": 0, "1_fake": 1}

_LAYOUT = (
    "expected <root>/<generator>/{0_real,1_fake}/ or "
    "<root>/<generator>/<class>/{0_real,1_fake}/ (a split root holds train/, "
    "val/, test/ folders of that form)"
)


class DatasetLayoutError(ValueError):
    """A folder does not follow the CNNDetection layout, or holds no images."""


@dataclasses.dataclass(frozen=True)
class Sample:
    """One image of a data set.

    Attributes
    ----------
    path : str
        Image file.
    label : int
        0 real, 1 fake.
    generator : str
        Generator folder name (the test set's key, e.g. "stylegan").
    subclass : str or None
        Class sub-folder of a multi-class set, else None.
    """

    path: str
    label: int
    generator: str
    subclass: str | None = None


def list_images(folder):
    """Return the image files under ``folder`` (recursive, sorted paths).

    Files are recognised by extension (:data:`IMAGE_EXTENSIONS`, any case); hidden
    files and folders are skipped.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> for name in ("b.PNG", "a.jpg", "notes.txt"):
    ...     open(os.path.join(folder, name), "w").close()
    >>> [os.path.basename(p) for p in list_images(folder)]
    ['a.jpg', 'b.PNG']
    """
    found = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            os.path.join(current, name) for name in files
            if not name.startswith(".")
            and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS
        )
    return sorted(found)


def _subdirs(folder):
    return sorted(p for p in Path(folder).iterdir()
                  if p.is_dir() and not p.name.startswith("."))


def _is_leaf(folder):
    return any((Path(folder) / name).is_dir() for name in _LABEL_DIRS)


def _read_leaf(folder, generator, subclass):
    """Samples of one ``{0_real,1_fake}`` folder pair."""
    samples = []
    for name, label in _LABEL_DIRS.items():
        path = Path(folder) / name
        if not path.is_dir():
            raise DatasetLayoutError(
                f"{str(folder)!r} has no {name}/ folder; {_LAYOUT}"
            )
        images = list_images(path)
        if not images:
            raise DatasetLayoutError(
                f"{str(path)!r} holds no images (extensions "
                f"{', '.join(IMAGE_EXTENSIONS)}); {_LAYOUT}"
            )
        samples.extend(Sample(p, label, generator, subclass) for p in images)
    return samples


def _read_generator(folder):
    """Samples of one generator folder, with or without class sub-folders."""
    generator = Path(folder).name
    if _is_leaf(folder):
        return _read_leaf(folder, generator, None)
    classes = _subdirs(folder)
    if not classes:
        raise DatasetLayoutError(
            f"{str(folder)!r} holds neither 0_real/1_fake nor class sub-folders; "
            f"{_LAYOUT}"
        )
    samples = []
    for sub in classes:
        if not _is_leaf(sub):
            raise DatasetLayoutError(
                f"class folder {str(sub)!r} has no 0_real/1_fake folders; {_LAYOUT}"
            )
        samples.extend(_read_leaf(sub, generator, sub.name))
    return samples


def list_dataset(root, *, split=None, generators=None):
    """List the images of a data set in the CNNDetection layout.

    Parameters
    ----------
    root : str or os.PathLike
        A set root (generator folders), a single generator folder (holding
        ``0_real`` and ``1_fake`` or class folders of them), or a split root with
        ``split`` given.
    split : {"train", "val", "test"}, optional
        Read ``<root>/<split>``.
    generators : sequence of str, optional
        Keep only these generator folders (e.g. ``["progan"]``).

    Returns
    -------
    list of Sample
        Sorted by generator, class, label and path.

    Raises
    ------
    FileNotFoundError
        ``root`` (or its split folder) does not exist.
    DatasetLayoutError
        The tree does not follow the layout, a folder holds no images, a
        requested generator is absent, or ``root`` is a split root and ``split``
        is missing.

    Notes
    -----
    Class sub-folders are detected from the tree, whatever the generator's name:
    the official multi-class sets are :data:`MULTICLASS_SETS`, but the simulated
    zoo's "progan" has no classes. A folder is a leaf when it holds ``0_real`` or
    ``1_fake``; a leaf must hold both, each with at least one image.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> root = tempfile.mkdtemp()
    >>> for sub in ("gan/0_real", "gan/1_fake"):
    ...     os.makedirs(os.path.join(root, sub))
    ...     Image.new("RGB", (4, 4)).save(os.path.join(root, sub, "x.png"))
    >>> [(s.label, s.generator) for s in list_dataset(root)]
    [(0, 'gan'), (1, 'gan')]
    """
    root = Path(root)
    if split is not None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS!r}; got {split!r}")
        root = root / split
    if not root.is_dir():
        raise FileNotFoundError(f"data folder {str(root)!r} does not exist")

    if _is_leaf(root):
        samples = _read_leaf(root, root.name, None)
    else:
        folders = _subdirs(root)
        names = [p.name for p in folders]
        if split is None and folders and set(names) <= set(SPLITS) and not any(
            _is_leaf(p) for p in folders
        ):
            raise DatasetLayoutError(
                f"{str(root)!r} is a split root (holds {names!r}); pass split="
                "'train', 'val' or 'test'"
            )
        if generators is not None:
            missing = sorted(set(generators) - set(names))
            if missing:
                raise DatasetLayoutError(
                    f"generator folder(s) {missing!r} not found in {str(root)!r}; "
                    f"present: {names!r}"
                )
            folders = [p for p in folders if p.name in set(generators)]
        if not folders:
            raise DatasetLayoutError(f"{str(root)!r} holds no folders; {_LAYOUT}")
        samples = [s for folder in folders for s in _read_generator(folder)]

    if generators is not None:
        samples = [s for s in samples if s.generator in set(generators)]
        if not samples:
            raise DatasetLayoutError(
                f"no images of generator(s) {list(generators)!r} in {str(root)!r}"
            )
    return sorted(samples, key=lambda s: (s.generator, s.subclass or "", s.label,
                                          s.path))


def count_samples(samples):
    """Return ``{generator: (n_real, n_fake)}``.

    Examples
    --------
    >>> count_samples([Sample("a", 0, "g"), Sample("b", 1, "g"), Sample("c", 1, "g")])
    {'g': (1, 2)}
    """
    counts = {}
    for sample in samples:
        real, fake = counts.get(sample.generator, (0, 0))
        counts[sample.generator] = (real + (sample.label == 0),
                                    fake + (sample.label == 1))
    return counts


class ImageFolderDataset(torch.utils.data.Dataset):
    """A torch dataset over :class:`Sample` s: ``(tensor, label)`` items.

    Parameters
    ----------
    samples : sequence of Sample
        Images and labels.
    transform : callable
        ``transform(pil_rgb_image, rng) -> tensor``, e.g.
        :class:`~detectors.augment.TrainTransform`; a transform that takes no
        ``rng`` can be wrapped as ``lambda img, rng: f(img)``.
    seed : int, optional
        Base seed. Item ``i`` in epoch ``e`` draws from
        ``numpy.random.default_rng([seed, e, i])``, so augmentations are the same
        for any number of loader workers or processes, and on resume.

    Raises
    ------
    ValueError
        Empty ``samples``.

    Notes
    -----
    A file that cannot be decoded raises :class:`ImageReadError` naming it: a
    training set is expected to be clean.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> path = os.path.join(tempfile.mkdtemp(), "x.png")
    >>> Image.new("RGB", (4, 4)).save(path)
    >>> ds = ImageFolderDataset([Sample(path, 1, "g")],
    ...                         lambda img, rng: np.asarray(img).shape)
    >>> ds[0]
    ((4, 4, 3), 1)
    """

    def __init__(self, samples, transform, *, seed=0):
        self.samples = list(samples)
        if not self.samples:
            raise ValueError("samples is empty: nothing to load")
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch):
        """Select the epoch whose random draws the items use."""
        self.epoch = int(epoch)

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        sample = self.samples[index]
        rng = np.random.default_rng([self.seed, self.epoch, int(index)])
        return self.transform(load_rgb(sample.path), rng), sample.label

    @property
    def labels(self):
        """Labels of all items, as an int64 array."""
        return np.array([s.label for s in self.samples], dtype=np.int64)
