"""Write the zoo's real/fake datasets in the CNNDetection folder layout."""

import dataclasses
import hashlib
import io
import json
import os
from pathlib import Path

import numpy as np

from analysis import photos as _photos
from spectral._validate import check_positive_int

__all__ = ["DEFAULT_COUNTS", "ZooBuild", "build_zoo"]

DEFAULT_COUNTS = {"train": 200, "val": 50, "test": 100}
MANIFEST = "manifest.json"


@dataclasses.dataclass(frozen=True)
class ZooBuild:
    """Result of :func:`build_zoo`.

    Attributes
    ----------
    root : pathlib.Path
        Dataset root.
    manifest : dict
        Content of ``<root>/manifest.json``.
    written : int
        Image files written by this call (0 when an identical build was reused).
    """

    root: Path
    manifest: dict
    written: int


def _counts(n_per_split):
    if n_per_split is None:
        return dict(DEFAULT_COUNTS)
    if isinstance(n_per_split, dict):
        unknown = sorted(set(n_per_split) - set(_photos.SPLITS))
        if unknown:
            raise ValueError(
                f"n_per_split has unknown split(s) {unknown!r}; "
                f"allowed {list(_photos.SPLITS)!r}"
            )
        out = {}
        for split in _photos.SPLITS:
            out[split] = check_positive_int(
                n_per_split.get(split, 0), name=f"n_per_split[{split!r}]", minimum=0
            )
        if not any(out.values()):
            raise ValueError(f"n_per_split={n_per_split!r} asks for no image")
        return out
    n = check_positive_int(n_per_split, name="n_per_split")
    return {split: n for split in _photos.SPLITS}


def _derived_seed(*parts):
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1)[0])


def _file_pipeline(image, jpeg_quality):
    # The one path every written image takes, real or fake: 8-bit rounding,
    # then optionally a JPEG round trip; the result is stored as PNG.
    from PIL import Image

    arr = np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)
    if jpeg_quality is None:
        return arr
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=int(jpeg_quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"))


def _write_png(path, arr):
    from PIL import Image

    Image.fromarray(arr).save(path, format="PNG")


def _weights_digest(families):
    from analysis.zoo import WEIGHTS_DIR

    h = hashlib.sha256()
    for fam in families:
        h.update((WEIGHTS_DIR / f"{fam}.pt").read_bytes())
    return h.hexdigest()[:16]


def _expected_files(root, config):
    files = []
    for split, n in config["n_per_split"].items():
        for fam in config["families"]:
            for label in ("0_real", "1_fake"):
                folder = root / split / fam / label
                files += [folder / f"{i:05d}.png" for i in range(n)]
    return files


def _check_root(root, config):
    # Returns True when an identical, complete build is already there.
    manifest_path = root / MANIFEST
    if not root.exists() or not any(root.iterdir()):
        return False
    if not manifest_path.is_file():
        raise FileExistsError(
            f"root={str(root)!r} is not empty and holds no zoo {MANIFEST}; "
            "refusing to write into it: choose an empty or new folder"
        )
    try:
        old = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise FileExistsError(
            f"root={str(root)!r} holds an unreadable {MANIFEST} ({exc}); "
            "refusing to overwrite it"
        ) from exc
    old_config = old.get("config", {})
    if old_config != config:
        keys = sorted(
            k
            for k in set(old_config) | set(config)
            if old_config.get(k) != config.get(k)
        )
        raise FileExistsError(
            f"root={str(root)!r} holds a zoo built with another configuration "
            f"(differs in {keys!r}); refusing to overwrite it: choose another root "
            "or delete that folder"
        )
    return bool(old.get("complete")) and all(
        p.is_file() for p in _expected_files(root, config)
    )


def build_zoo(root, *, families=None, size=128, n_per_split=None, seed=0,
              real_dir=None, jpeg_quality=None, progress=True, bundled=None):
    """Write real/fake image sets of the zoo in the CNNDetection folder layout.

    Parameters
    ----------
    root : str or os.PathLike
        Dataset root; created if missing. It must be empty, or hold a build of
        this function with the same configuration.
    families : list of str, optional
        Zoo families to write; default all of ``analysis.zoo.FAMILIES``.
    size : int, default 128
        Side of the square images, a multiple of 8.
    n_per_split : int or dict, optional
        Images per class, family and split: one count for every split or
        ``{"train": .., "val": .., "test": ..}`` (a missing split gets 0).
        Default ``{"train": 200, "val": 50, "test": 100}``.
    seed : int, default 0
        Seed of the photo split of user photos, the crops and the generators'
        noise.
    real_dir : str or os.PathLike, optional
        Folder of real photos; replaces the bundled photos unless ``bundled``
        is True.
    jpeg_quality : int, optional
        JPEG quality (1..100) applied to every image, real and fake, before it
        is stored; default none.
    progress : bool, default True
        Show a tqdm progress bar.
    bundled : bool, optional
        Use the bundled photos (default: only without ``real_dir``).

    Returns
    -------
    ZooBuild
        ``root``, the manifest and the number of files written.

    Raises
    ------
    FileExistsError
        If ``root`` is not empty and is not a build with the same configuration.
    ValueError
        For a bad family, size, count or quality.

    Notes
    -----
    Layout: ``<root>/<split>/<family>/{0_real,1_fake}/NNNNN.png`` and
    ``<root>/manifest.json`` (configuration, seed, package and torch versions,
    the photos of each split, the source photo, view, scale and crop box of
    each image pair, and the PSNR of each family's fakes against their reals
    as stored).

    Reals and fakes are **paired**: ``1_fake/NNNNN.png`` is the family's
    output on the crop stored as ``0_real/NNNNN.png`` (the setting of
    super-resolution, face swap and label-to-image generators, where real and
    fake share content). Each (split, family) draws its own crops from the
    photos of its split, so real images are not repeated across families.
    Both classes take the same file path: rounding to 8 bits, the optional JPEG
    round trip, the same PNG writer.

    Fakes come from the shipped weights (``analysis/zoo_weights``); a digest of
    them is part of the configuration, so retrained weights need a new root.

    A second call with the same configuration finds the complete manifest and
    all files and writes nothing. An interrupted build (manifest marked
    incomplete) is redone by a call with the same configuration.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     out = build_zoo(d, families=["san"], size=32, n_per_split=1,
    ...                     progress=False)
    ...     sorted(p.name for p in (out.root / "test" / "san").iterdir())
    ['0_real', '1_fake']
    """
    import torch
    from tqdm.auto import tqdm

    import spectral
    from analysis import zoo

    fams = list(zoo.FAMILIES if families is None else families)
    for fam in fams:
        zoo._family(fam)
    size = check_positive_int(size, name="size", minimum=8)
    if size % 8:
        raise ValueError(f"size must be a multiple of 8; got {size!r}")
    counts = _counts(n_per_split)
    seed = int(seed)
    if jpeg_quality is not None:
        jpeg_quality = check_positive_int(jpeg_quality, name="jpeg_quality")
        if jpeg_quality > 100:
            raise ValueError(f"jpeg_quality must be in 1..100; got {jpeg_quality!r}")
    sources = _photos.load_photos(real_dir, bundled=bundled)
    parts = _photos.split_photos(sources, seed=seed)

    config = {
        "families": fams,
        "size": size,
        "n_per_split": counts,
        "seed": seed,
        "real_dir": None if real_dir is None else str(Path(real_dir).resolve()),
        "bundled": any(s.origin != "folder" for s in sources),
        "sources": _photos.sources_digest(sources),
        "jpeg_quality": jpeg_quality,
        "weights": _weights_digest(fams),
    }
    root = Path(root)
    if _check_root(root, config):
        manifest = json.loads((root / MANIFEST).read_text())
        return ZooBuild(root, manifest, 0)

    manifest = {
        "format": 1,
        "complete": False,
        "config": config,
        "package_version": spectral.__version__,
        "torch": torch.__version__,
        "layout": "<split>/<family>/{0_real,1_fake}/NNNNN.png, pairs share NNNNN",
        "splits": {s: [p.name for p in parts[s]] for s in _photos.SPLITS},
        "psnr": {},
        "images": {},
    }
    root.mkdir(parents=True, exist_ok=True)
    _write_manifest(root, manifest)

    written = 0
    total = 2 * len(fams) * sum(counts.values())
    bar = tqdm(total=total, desc="zoo build", unit="img", disable=not progress)
    for fi, fam in enumerate(fams):
        net = zoo.load_generator(fam)
        for si, split in enumerate(_photos.SPLITS):
            n = counts[split]
            if n == 0:
                continue
            if not parts[split]:
                raise ValueError(
                    f"split {split!r} has no photo; add photos to real_dir or set "
                    f"n_per_split[{split!r}] to 0"
                )
            crops = _photos.sample_crops(
                parts[split], n, size=size, seed=_derived_seed(seed, si, fi)
            )
            reals = np.stack([c.image for c in crops])
            fakes = zoo.generate(net, reals, seed=_derived_seed(seed, si, fi, 1))
            stored = {"0_real": [], "1_fake": []}
            for label, images in (("0_real", reals), ("1_fake", fakes)):
                folder = root / split / fam / label
                folder.mkdir(parents=True, exist_ok=True)
                for i, image in enumerate(images):
                    arr = _file_pipeline(image, jpeg_quality)
                    _write_png(folder / f"{i:05d}.png", arr)
                    stored[label].append(arr)
                    written += 1
                    bar.update(1)
            manifest["images"].setdefault(split, {})[fam] = [
                {"index": i, **c.record()} for i, c in enumerate(crops)
            ]
            fake_u8, real_u8 = np.stack(stored["1_fake"]), np.stack(stored["0_real"])
            manifest["psnr"].setdefault(split, {})[fam] = round(
                zoo.psnr(fake_u8 / 255.0, real_u8 / 255.0), 3
            )
    bar.close()
    manifest["complete"] = True
    _write_manifest(root, manifest)
    return ZooBuild(root, manifest, written)


def _write_manifest(root, manifest):
    tmp = root / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, root / MANIFEST)
