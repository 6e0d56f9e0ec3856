"""Reading image files into float arrays, and listing the images of a folder."""

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ._color import to_gray
from ._errors import ImageReadError
from ._validate import check_choice

try:  # libspng decodes PNG faster than Pillow; optional (the ``fast`` extra).
    import pyspng as _spng
except ImportError:  # pragma: no cover - depends on the environment
    _spng = None

__all__ = ["iter_images", "read_image"]

#: File name extensions listed by :func:`iter_images` (compared lower-case).
IMAGE_EXTENSIONS = (".bmp", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")

# Pillow format names accepted by read_image. JPEG covers MPO, the multi-picture
# JPEG some cameras write (read as its first picture).
_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP")

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EXIF_ORIENTATION = 0x0112

# PNG colour type -> channels, for the types with 8 or 16 bits per sample.
_PNG_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}

# Adam7 passes: first column, first row, column step, row step.
_ADAM7 = (
    (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
    (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
)


def read_image(path, *, mode="rgb"):
    """Read an image file into a float32 array with values in [0, 1].

    Parameters
    ----------
    path : str or os.PathLike
        A PNG, JPEG, BMP, TIFF or WebP file.
    mode : {"rgb", "gray", "keep"}, optional
        ``"rgb"`` (default) returns ``(H, W, 3)``, grey sources repeated on the
        three channels; ``"gray"`` returns the ``(H, W)`` BT.601 luma (see
        :func:`to_gray`); ``"keep"`` returns grey sources as ``(H, W)``, colour
        as ``(H, W, 3)`` and sources with alpha as ``(H, W, 4)`` (RGBA).

    Returns
    -------
    image : ndarray of float32
        The decoded image, EXIF orientation applied.

    Raises
    ------
    ImageReadError
        When the file is missing, empty, truncated, corrupt, larger than Pillow's
        decompression-bomb limit, or not an image of a supported kind. The
        message names the file and the reason.
    ValueError
        For an unknown ``mode``.

    See Also
    --------
    iter_images : the image files of a folder.
    to_gray : the grey conversion of ``mode="gray"``.

    Notes
    -----
    The file is decoded completely before the function returns, so truncation
    is reported here rather than later. Pixel kinds:

    - 1-bit: 0 and 1. 8-bit grey (``L``): value / 255, with no detour through
      RGB in ``"gray"`` mode. Grey with alpha (``LA``): the grey value; in
      ``"keep"`` mode RGBA with R = G = B.
    - Palette (``P``): expanded to RGB, or to RGBA when the palette or the file
      carries transparency.
    - RGB, RGBA: value / 255. Alpha is dropped in ``"rgb"`` and ``"gray"``
      modes; colours are kept as stored, not composited onto a background.
    - CMYK (JPEG, TIFF): converted to RGB by Pillow's plain formula
      (no colour profile is applied).
    - 16-bit grey (``I;16``, ``I;16B``, 16-bit PNG and TIFF): value / 65535,
      computed in float32, so every one of the 65536 levels stays distinct.
      16-bit colour PNGs keep their 16 bits too (Pillow would reduce them to 8;
      they are decoded by libspng or, without it, by a built-in decoder whose
      Numba kernel compiles on its first use, in about half a second).
    - 32-bit integer (``I``): taken as 16-bit data, value / 65535; values
      outside 0..65535 raise ``ImageReadError`` since they have no defined
      scale. 32-bit float (``F``): values are returned as stored, neither
      scaled nor clipped.
    - A colour key (``tRNS`` of a grey or RGB PNG) is ignored; palette
      transparency is honoured.

    Multi-frame files (TIFF, MPO) give their first frame. Pillow's limit on
    the pixel count (``PIL.Image.MAX_IMAGE_PIXELS``) is respected: above it
    Pillow warns, above twice it the read fails. When ``pyspng`` is installed
    it decodes 8- and 16-bit PNGs without palette, colour key or EXIF data;
    its arrays are identical to Pillow's.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> import spectral
    >>> pixels = np.zeros((4, 6, 3), dtype=np.uint8)
    >>> pixels[..., 0] = 255
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     name = os.path.join(folder, "red.png")
    ...     Image.fromarray(pixels).save(name)
    ...     rgb = spectral.read_image(name)
    ...     gray = spectral.read_image(name, mode="gray")
    >>> rgb.shape, rgb.dtype, gray.shape
    ((4, 6, 3), dtype('float32'), (4, 6))
    >>> bool(np.allclose(gray, 0.299))
    True
    """
    check_choice(mode, ("rgb", "gray", "keep"), name="mode")

    pixels, scale = _decode(path)
    image = _to_float(pixels, scale)
    return _arrange(image, mode)


def iter_images(folder, *, recursive=False, extensions=None):
    """List the image files of a folder, sorted.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to list.
    recursive : bool, optional
        Also list the sub-folders (default False).
    extensions : iterable of str, optional
        File name extensions to list, with or without the dot, compared
        case-insensitively. Default: ``.png .jpg .jpeg .bmp .tif .tiff .webp``.

    Returns
    -------
    paths : iterator of pathlib.Path
        The files, sorted by their path relative to ``folder`` (component by
        component, so a folder's files stay together).

    Raises
    ------
    FileNotFoundError
        When ``folder`` does not exist.
    NotADirectoryError
        When ``folder`` is not a folder.

    Notes
    -----
    The folder is checked and listed when the function is called, not when the
    iterator is first advanced. Hidden files and folders (names starting with
    a dot, such as the ``._name.png`` companions macOS leaves on shared disks)
    are skipped. The files are not opened: a listed file may still fail in
    :func:`read_image`.

    Examples
    --------
    >>> import os, tempfile
    >>> import spectral
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in ("b.PNG", "a.jpg", "notes.txt"):
    ...         open(os.path.join(folder, name), "wb").close()
    ...     names = [p.name for p in spectral.iter_images(folder)]
    >>> names
    ['a.jpg', 'b.PNG']
    """
    root = Path(os.fspath(folder))
    if not root.exists():
        raise FileNotFoundError(f"folder {str(root)!r} does not exist")
    if not root.is_dir():
        raise NotADirectoryError(f"{str(root)!r} is not a folder")
    wanted = _normalise_extensions(extensions)

    candidates = root.rglob("*") if recursive else root.iterdir()
    found = []
    for path in candidates:
        relative = path.relative_to(root).parts
        if any(part.startswith(".") for part in relative):
            continue
        if path.suffix.lower() in wanted and path.is_file():
            found.append((relative, path))
    found.sort(key=lambda item: item[0])
    return iter([path for _, path in found])


# Decoding -------------------------------------------------------------------


def _decode(path):
    """Decode a file into ``(pixels, scale)``, EXIF orientation applied.

    ``pixels`` is (H, W) grey or (H, W, C) with C = 2 (grey, alpha), 3 (RGB) or
    4 (RGBA), of dtype bool, uint8, uint16, int32 or float32; dividing by
    ``scale`` (None: leave as is) maps it to [0, 1].
    """
    name = os.fspath(path)
    data = _read_bytes(name)

    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageReadError(name, f"too many pixels: {exc}") from None
    except Image.UnidentifiedImageError:
        raise ImageReadError(
            name, "not a PNG, JPEG, BMP, TIFF or WebP image (format not recognised)"
        ) from None
    except Exception as exc:
        raise ImageReadError(name, f"corrupt header ({_describe(exc)})") from None

    if image.format == "PNG":
        decoded = _decode_png_directly(name, data)
        if decoded is not None:
            return decoded

    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        return _pillow_pixels(image, name)
    except ImageReadError:
        raise
    except Exception as exc:
        raise ImageReadError(name, f"cannot decode ({_describe(exc)})") from None


def _read_bytes(name):
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise ImageReadError(name, "no such file") from None
    except IsADirectoryError:
        raise ImageReadError(name, "is a folder, not a file") from None
    except OSError as exc:
        raise ImageReadError(name, exc.strerror or str(exc)) from None
    if not data:
        raise ImageReadError(name, "the file is empty (0 bytes)")
    return data


def _describe(exc):
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _pillow_pixels(image, name):
    """Pixels of a loaded Pillow image as ``(array, scale)``."""
    kind = image.mode
    if kind == "1":
        return np.asarray(image, dtype=bool), 1.0
    if kind in ("L", "LA", "RGB", "RGBA"):
        return np.asarray(image), 255.0
    if kind in ("P", "PA"):
        has_alpha = (
            kind == "PA"
            or "transparency" in image.info
            or (image.palette is not None and image.palette.mode == "RGBA")
        )
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB")), 255.0
    if kind in ("La", "RGBa"):
        return np.asarray(image.convert(kind.upper())), 255.0
    if kind in ("RGBX", "CMYK", "YCbCr"):
        return np.asarray(image.convert("RGB")), 255.0
    if kind.startswith("I;16"):
        return np.asarray(image).astype(np.uint16), 65535.0
    if kind == "I":
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ImageReadError(
                name,
                f"32-bit integer pixels span {int(values.min())}..{int(values.max())}"
                "; only 0..65535 (16-bit data) has a defined scale",
            )
        return values.astype(np.uint16), 65535.0
    if kind == "F":
        return np.asarray(image, dtype=np.float32), None
    raise ImageReadError(name, f"unsupported pixel mode {kind!r}")


# PNG decoding without Pillow -------------------------------------------------


def _decode_png_directly(name, data):
    """Decode a PNG with libspng or the built-in 16-bit decoder, or return None.

    None leaves the file to Pillow: palette images, colour keys, bit depths
    below 8, files whose chunk structure does not parse, and 8-bit files with
    EXIF data when libspng is missing.
    """
    header = _png_chunks(data)
    if header is None:
        return None
    width, height, depth, colour, interlace, chunks = header
    if depth not in (8, 16) or colour not in _PNG_CHANNELS or b"tRNS" in chunks:
        return None
    channels = _PNG_CHANNELS[colour]
    orientation = 1
    if b"eXIf" in chunks:
        if depth == 8 or channels == 1:
            return None
        exif = Image.Exif()
        exif.load(chunks[b"eXIf"][0][0])
        orientation = exif.get(_EXIF_ORIENTATION, 1)

    if _spng is not None:
        pixels = _decode_with_spng(data, depth, channels)
    else:
        if depth == 8 or channels == 1:
            return None
        pixels = None
    if pixels is None and depth == 16 and channels > 1:
        pixels = _decode_png16(name, width, height, channels, interlace, chunks)
    if pixels is None:
        return None
    scale = 255.0 if depth == 8 else 65535.0
    return _orient(pixels, orientation), scale


def _png_chunks(data):
    """Walk the chunks: ``(width, height, depth, colour, interlace, chunks)``.

    ``chunks`` maps a chunk type to a list with one entry per chunk:
    ``(payload, stored CRC)`` for IDAT and eXIf, None for the others. None
    when the structure is broken, so that Pillow reports the problem.
    """
    if not data.startswith(_PNG_SIGNATURE):
        return None
    chunks = {}
    header = None
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return None
        payload = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR" and length == 13:
            header = struct.unpack(">IIBBBBB", payload)
        entry = None
        if kind in (b"IDAT", b"eXIf"):
            entry = (payload, struct.unpack(">I", data[end - 4:end])[0])
        chunks.setdefault(kind, []).append(entry)
        pos = end
        if kind == b"IEND":
            break
    if header is None or b"IEND" not in chunks or b"IDAT" not in chunks:
        return None
    width, height, depth, colour, _, _, interlace = header
    return width, height, depth, colour, interlace, chunks


def _decode_with_spng(data, depth, channels):
    """Decode with libspng; None when it refuses the file (Pillow then decides)."""
    try:
        if depth == 8:
            pixels = _spng.load(data, format=("L", "LA", "RGB", "RGBA")[channels - 1])
        else:
            # libspng widens 16-bit data to grey+alpha or RGBA: drop what the
            # file did not have.
            pixels = _spng.load(data)
            if channels in (1, 3):
                pixels = pixels[..., :channels]
            if channels == 1:
                pixels = pixels[..., 0]
    except Exception:
        return None
    return np.ascontiguousarray(pixels)


def _decode_png16(name, width, height, channels, interlace, chunks):
    """Decode a 16-bit colour PNG (types 2, 4, 6), keeping its 16 bits."""
    from ._kernels.batch import png_unfilter

    for payload, crc in chunks[b"IDAT"]:
        if zlib.crc32(b"IDAT" + payload) != crc:
            raise ImageReadError(name, "corrupt image data (IDAT checksum mismatch)")
    try:
        joined = b"".join(payload for payload, _ in chunks[b"IDAT"])
        raw = np.frombuffer(zlib.decompress(joined), np.uint8)
    except zlib.error as exc:
        raise ImageReadError(name, f"corrupt image data ({exc})") from None
    bpp = 2 * channels
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    samples = np.empty((height, width * channels), dtype=np.uint16)
    planes = samples.reshape(height, width, channels)

    pos = 0
    for x0, y0, dx, dy in passes:
        pass_w = max(0, -(-(width - x0) // dx))
        pass_h = max(0, -(-(height - y0) // dy))
        if pass_w == 0 or pass_h == 0:
            continue
        stride = pass_w * bpp
        size = pass_h * (stride + 1)
        if pos + size > raw.size:
            raise ImageReadError(name, "truncated image data")
        rows = np.empty((pass_h, stride), dtype=np.uint8)
        if not png_unfilter(raw[pos:pos + size], pass_h, stride, bpp, rows):
            raise ImageReadError(name, "corrupt image data (unknown row filter)")
        values = rows.view(">u2").reshape(pass_h, pass_w, channels)
        planes[y0::dy, x0::dx] = values
        pos += size
    return planes


def _orient(pixels, orientation):
    """Apply an EXIF orientation (1-8) the way ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        pixels = pixels[:, ::-1]
    elif orientation == 3:
        pixels = pixels[::-1, ::-1]
    elif orientation == 4:
        pixels = pixels[::-1]
    elif orientation == 5:
        pixels = pixels.swapaxes(0, 1)
    elif orientation == 6:
        pixels = np.rot90(pixels, -1)
    elif orientation == 7:
        pixels = np.rot90(pixels, 2).swapaxes(0, 1)
    elif orientation == 8:
        pixels = np.rot90(pixels, 1)
    return np.ascontiguousarray(pixels)


# Float conversion and channel layout -----------------------------------------


def _to_float(pixels, scale):
    image = pixels.astype(np.float32)
    if scale is not None and scale != 1.0:
        np.divide(image, np.float32(scale), out=image)
    return image


def _arrange(image, mode):
    """Give a float image the channel layout ``mode`` asks for."""
    channels = 1 if image.ndim == 2 else image.shape[2]
    if mode == "gray":
        if channels == 1:
            return image
        if channels == 2:
            return np.ascontiguousarray(image[..., 0])
        return to_gray(image[..., :3])
    if mode == "rgb":
        if channels in (1, 2):
            grey = image if channels == 1 else image[..., 0]
            return np.repeat(grey[..., None], 3, axis=2)
        return np.ascontiguousarray(image[..., :3])
    if channels == 2:
        return np.ascontiguousarray(image[..., [0, 0, 0, 1]])
    return image


def _normalise_extensions(extensions):
    if extensions is None:
        return frozenset(IMAGE_EXTENSIONS)
    if isinstance(extensions, str):
        extensions = (extensions,)
    wanted = set()
    for ext in extensions:
        if not isinstance(ext, str) or not ext.strip("."):
            raise ValueError(
                f"extensions must be file name endings such as '.png'; got {ext!r}"
            )
        wanted.add("." + ext.lower().lstrip("."))
    return frozenset(wanted)
