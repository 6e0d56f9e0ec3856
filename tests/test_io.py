import struct
import zlib

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image, ImageOps

import spectral
from spectral import _io
from spectral._color import to_gray
from spectral._errors import ImageReadError

# The exact scaling of read_image, written out: float32 division of the stored
# integer by the format's maximum.


def _scaled(values, maximum):
    return np.asarray(values).astype(np.float32) / np.float32(maximum)


@pytest.fixture(params=["pillow", "pyspng"])
def png_decoder(request, monkeypatch):
    """Run a test with the PNG fast path on and off."""
    if request.param == "pillow":
        monkeypatch.setattr(_io, "_spng", None)
    elif _io._spng is None:
        pytest.skip("pyspng is not installed")
    return request.param


# A PNG writer independent of Pillow, for the 16-bit colour kinds Pillow cannot
# write, with every row filter and optional Adam7 interlacing.


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _filter_rows(rows, bpp):
    out = bytearray()
    prev = np.zeros(rows.shape[1], dtype=np.int64)
    for i, row in enumerate(rows.astype(np.int64)):
        kind = i % 5
        filtered = np.empty_like(row)
        for j in range(row.size):
            a = row[j - bpp] if j >= bpp else 0
            b = prev[j]
            c = prev[j - bpp] if j >= bpp else 0
            pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
            filtered[j] = (row[j] - pred) % 256
        out.append(kind)
        out.extend(filtered.astype(np.uint8).tobytes())
        prev = row
    return bytes(out)


def _chunk(kind, payload):
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _write_png16(path, samples, colour, *, interlace=False):
    height, width, channels = samples.shape
    bpp = 2 * channels
    big = samples.astype(">u2")
    if interlace:
        raw = b""
        for x0, y0, dx, dy in _io._ADAM7:
            part = big[y0::dy, x0::dx]
            if part.size:
                rows = part.reshape(part.shape[0], -1).view(np.uint8)
                raw += _filter_rows(rows, bpp)
    else:
        raw = _filter_rows(big.reshape(height, -1).view(np.uint8), bpp)
    header = struct.pack(">IIBBBBB", width, height, 16, colour, 0, 0, int(interlace))
    data = (_io._PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))
    path.write_bytes(data)
    return data


# Pixel kinds ------------------------------------------------------------------


def test_png_rgb_8bit_all_modes(tmp_path, png_decoder):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (7, 5, 3), dtype=np.uint8)
    path = tmp_path / "rgb.png"
    Image.fromarray(pixels).save(path)

    rgb = spectral.read_image(path)
    assert rgb.dtype == np.float32 and rgb.shape == (7, 5, 3)
    assert_array_equal(rgb, _scaled(pixels, 255))
    assert_array_equal(spectral.read_image(path, mode="keep"), rgb)
    gray = spectral.read_image(path, mode="gray")
    assert gray.shape == (7, 5) and gray.dtype == np.float32
    assert_array_equal(gray, to_gray(_scaled(pixels, 255)))


def test_png_grey_8bit_stays_grey(tmp_path, png_decoder):
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 256, (6, 9), dtype=np.uint8)
    path = tmp_path / "grey.png"
    Image.fromarray(pixels).save(path)

    expected = _scaled(pixels, 255)
    assert_array_equal(spectral.read_image(path, mode="gray"), expected)
    assert_array_equal(spectral.read_image(path, mode="keep"), expected)
    rgb = spectral.read_image(path)
    assert rgb.shape == (6, 9, 3)
    assert_array_equal(rgb, np.repeat(expected[..., None], 3, axis=2))


def test_png_16bit_grey_keeps_every_level(tmp_path, png_decoder):
    ramp = np.arange(65536, dtype=np.uint16).reshape(256, 256)
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as image:
        assert image.mode == "I;16"

    gray = spectral.read_image(path, mode="gray")
    assert gray.dtype == np.float32
    assert_array_equal(gray, _scaled(ramp, 65535))
    assert np.unique(gray).size == 65536
    assert gray.min() == 0.0 and gray.max() == 1.0


def test_tiff_16bit_big_endian(tmp_path):
    rng = np.random.default_rng(2)
    values = rng.integers(0, 65536, (5, 4), dtype=np.uint16)
    image = Image.frombytes("I;16B", (4, 5), values.astype(">u2").tobytes())
    path = tmp_path / "big.tif"
    image.save(path)

    assert_array_equal(spectral.read_image(path, mode="keep"), _scaled(values, 65535))


@pytest.mark.parametrize("interlace", [False, True])
@pytest.mark.parametrize("colour, channels", [(2, 3), (4, 2), (6, 4)])
def test_png_16bit_colour_keeps_16_bits(tmp_path, png_decoder, colour, channels,
                                        interlace):
    rng = np.random.default_rng(3)
    samples = rng.integers(0, 65536, (11, 9, channels), dtype=np.uint16)
    path = tmp_path / "colour16.png"
    _write_png16(path, samples, colour, interlace=interlace)

    keep = spectral.read_image(path, mode="keep")
    values = _scaled(samples, 65535)
    if channels == 2:
        assert_array_equal(keep, values[..., [0, 0, 0, 1]])
    else:
        assert_array_equal(keep, values)
    rgb = spectral.read_image(path)
    assert rgb.shape == (11, 9, 3)


def test_png_16bit_colour_with_exif_orientation(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "_spng", None)
    rng = np.random.default_rng(4)
    samples = rng.integers(0, 65536, (3, 5, 3), dtype=np.uint16)
    data = _write_png16(tmp_path / "plain.png", samples, 2)
    exif = Image.Exif()
    exif[_io._EXIF_ORIENTATION] = 6
    payload = exif.tobytes()[6:]  # eXIf holds the TIFF structure, no "Exif" tag
    cut = data.index(b"IEND") - 4
    path = tmp_path / "rotated.png"
    path.write_bytes(data[:cut] + _chunk(b"eXIf", payload) + data[cut:])

    keep = spectral.read_image(path, mode="keep")
    assert_array_equal(keep, np.rot90(_scaled(samples, 65535), -1))


def test_png_corrupt_16bit_colour_data(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "_spng", None)
    samples = np.zeros((4, 4, 3), dtype=np.uint16)
    header = struct.pack(">IIBBBBB", 4, 4, 16, 2, 0, 0, 0)
    raw = (b"\x07" + b"\x00" * 24) * 4  # filter type 7 does not exist
    data = (_io._PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))
    path = tmp_path / "badfilter.png"
    path.write_bytes(data)
    with pytest.raises(ImageReadError, match="badfilter.png"):
        spectral.read_image(path)
    assert samples.shape == (4, 4, 3)


def test_png_16bit_colour_checksum_mismatch(tmp_path, png_decoder):
    samples = np.random.default_rng(14).integers(0, 65536, (6, 5, 3), dtype=np.uint16)
    data = bytearray(_write_png16(tmp_path / "ok.png", samples, 2))
    data[data.index(b"IDAT") + 10] ^= 0xFF
    path = tmp_path / "crc.png"
    path.write_bytes(bytes(data))
    _assert_read_error(path, "checksum mismatch")


def test_png_rgba_alpha_dropped_not_composited(tmp_path, png_decoder):
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (4, 6, 4), dtype=np.uint8)
    pixels[..., 3] = 0  # fully transparent: colours must survive anyway
    path = tmp_path / "rgba.png"
    Image.fromarray(pixels, mode="RGBA").save(path)

    assert_array_equal(spectral.read_image(path), _scaled(pixels[..., :3], 255))
    keep = spectral.read_image(path, mode="keep")
    assert keep.shape == (4, 6, 4)
    assert_array_equal(keep, _scaled(pixels, 255))
    assert_array_equal(spectral.read_image(path, mode="gray"),
                       to_gray(_scaled(pixels[..., :3], 255)))


def test_png_grey_alpha(tmp_path, png_decoder):
    rng = np.random.default_rng(6)
    pixels = rng.integers(0, 256, (3, 4, 2), dtype=np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(pixels, mode="LA").save(path)

    values = _scaled(pixels, 255)
    assert_array_equal(spectral.read_image(path, mode="gray"), values[..., 0])
    keep = spectral.read_image(path, mode="keep")
    assert_array_equal(keep, values[..., [0, 0, 0, 1]])


def test_palette_without_and_with_transparency(tmp_path):
    palette = [255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (3 * 253)
    index = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
    image = Image.fromarray(index, mode="P")
    image.putpalette(palette)
    colours = np.array(palette[:9], dtype=np.uint8).reshape(3, 3)[index]

    opaque = tmp_path / "palette.png"
    image.save(opaque)
    keep = spectral.read_image(opaque, mode="keep")
    assert keep.shape == (2, 3, 3)
    assert_array_equal(keep, _scaled(colours, 255))

    transparent = tmp_path / "palette_t.png"
    image.save(transparent, transparency=1)
    keep = spectral.read_image(transparent, mode="keep")
    assert keep.shape == (2, 3, 4)
    assert_array_equal(keep[..., :3], _scaled(colours, 255))
    assert_array_equal(keep[..., 3], np.where(index == 1, 0.0, 1.0))
    assert_array_equal(spectral.read_image(transparent), _scaled(colours, 255))


def test_one_bit(tmp_path):
    bits = np.array([[1, 0, 1], [0, 0, 1]], dtype=bool)
    path = tmp_path / "bits.png"
    Image.fromarray(bits).save(path)
    with Image.open(path) as image:
        assert image.mode == "1"
    gray = spectral.read_image(path, mode="gray")
    assert gray.dtype == np.float32
    assert_array_equal(gray, bits.astype(np.float32))


def test_one_by_one(tmp_path):
    path = tmp_path / "dot.png"
    Image.fromarray(np.array([[[10, 20, 30]]], dtype=np.uint8)).save(path)
    assert spectral.read_image(path).shape == (1, 1, 3)
    assert spectral.read_image(path, mode="gray").shape == (1, 1)


@pytest.mark.parametrize("suffix, options", [
    (".bmp", {}),
    (".tif", {}),
    (".tiff", {"compression": "tiff_lzw"}),
    (".webp", {"lossless": True}),
])
def test_lossless_formats_round_trip(tmp_path, suffix, options):
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
    path = tmp_path / f"image{suffix}"
    Image.fromarray(pixels).save(path, **options)
    assert_array_equal(spectral.read_image(path), _scaled(pixels, 255))


def test_jpeg_colour_and_grey(tmp_path):
    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    colour = tmp_path / "c.jpg"
    Image.fromarray(pixels).save(colour, quality=90)
    with Image.open(colour) as image:
        decoded = np.asarray(image.convert("RGB"))
    assert_array_equal(spectral.read_image(colour), _scaled(decoded, 255))

    grey = tmp_path / "g.JPEG"
    Image.fromarray(pixels[..., 0]).save(grey, quality=90)
    assert spectral.read_image(grey, mode="keep").shape == (16, 24)
    with Image.open(grey) as image:
        decoded = np.asarray(image)
    assert_array_equal(spectral.read_image(grey, mode="gray"), _scaled(decoded, 255))


@pytest.mark.parametrize("suffix", [".jpg", ".tif"])
def test_cmyk_is_converted_by_pillow(tmp_path, suffix):
    # Pure process colours have an exact RGB image under Pillow's formula.
    cmyk = np.array([[[0, 0, 0, 0], [255, 0, 0, 0]],
                     [[0, 255, 0, 0], [0, 0, 0, 255]]], dtype=np.uint8)
    cmyk = np.kron(cmyk, np.ones((8, 8, 1), dtype=np.uint8))  # JPEG-friendly
    path = tmp_path / f"cmyk{suffix}"
    Image.fromarray(cmyk, mode="CMYK").save(path, quality=100)
    rgb = spectral.read_image(path)
    expected = np.array([[[1, 1, 1], [0, 1, 1]], [[1, 0, 1], [0, 0, 0]]],
                        dtype=np.float32)
    expected = np.kron(expected, np.ones((8, 8, 1), dtype=np.float32))
    # JPEG: 8-bit rounding and ringing near the block edges.
    atol = 0.08 if suffix == ".jpg" else 0.0
    assert_allclose(rgb, expected, atol=atol)


def test_exif_rotated_jpeg(tmp_path):
    # Left half dark, right half bright; orientation 6 means "rotate 90
    # clockwise to display", so the bright half must end up at the bottom.
    pixels = np.zeros((16, 32), dtype=np.uint8)
    pixels[:, 16:] = 255
    exif = Image.Exif()
    exif[_io._EXIF_ORIENTATION] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(pixels).save(path, exif=exif, quality=95)

    gray = spectral.read_image(path, mode="gray")
    assert gray.shape == (32, 16)
    assert gray[:12].max() < 0.1 and gray[20:].min() > 0.9


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orient_matches_pillow(tmp_path, orientation):
    rng = np.random.default_rng(9)
    pixels = rng.integers(0, 256, (3, 5), dtype=np.uint8)
    exif = Image.Exif()
    exif[_io._EXIF_ORIENTATION] = orientation
    path = tmp_path / "o.png"
    Image.fromarray(pixels).save(path, exif=exif)

    with Image.open(path) as image:
        expected = np.asarray(ImageOps.exif_transpose(image))
    assert_array_equal(_io._orient(pixels, orientation), expected)
    assert_array_equal(spectral.read_image(path, mode="gray"), _scaled(expected, 255))


def test_integer_and_float_modes(tmp_path):
    values = np.array([[0, 1000], [65535, 7]], dtype=np.int32)
    path = tmp_path / "i.tif"
    Image.fromarray(values, mode="I").save(path)
    assert_array_equal(spectral.read_image(path, mode="gray"), _scaled(values, 65535))

    wide = tmp_path / "wide.tif"
    Image.fromarray(np.array([[0, 70000]], dtype=np.int32), mode="I").save(wide)
    with pytest.raises(ImageReadError, match="0..65535"):
        spectral.read_image(wide)

    floats = np.array([[0.25, -0.5], [1.5, 0.0]], dtype=np.float32)
    fpath = tmp_path / "f.tif"
    Image.fromarray(floats, mode="F").save(fpath)
    assert_array_equal(spectral.read_image(fpath, mode="gray"), floats)


@pytest.mark.skipif(_io._spng is None, reason="pyspng is not installed")
@pytest.mark.parametrize("kind", ["L", "LA", "RGB", "RGBA", "I;16"])
def test_pyspng_and_pillow_paths_identical(tmp_path, monkeypatch, kind):
    rng = np.random.default_rng(10)
    shape = {"L": (13, 10), "LA": (13, 10, 2), "RGB": (13, 10, 3),
             "RGBA": (13, 10, 4), "I;16": (13, 10)}[kind]
    dtype = np.uint16 if kind == "I;16" else np.uint8
    pixels = rng.integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    path = tmp_path / "p.png"
    Image.fromarray(pixels, mode=None if kind == "I;16" else kind).save(path)

    fast = {mode: spectral.read_image(path, mode=mode)
            for mode in ("rgb", "gray", "keep")}
    monkeypatch.setattr(_io, "_spng", None)
    for mode, array in fast.items():
        assert_array_equal(array, spectral.read_image(path, mode=mode))


# Errors -------------------------------------------------------------------------


def _assert_read_error(path, reason):
    with pytest.raises(ImageReadError, match=reason) as info:
        spectral.read_image(path)
    assert str(path) in str(info.value)
    assert info.value.path == str(path)
    assert isinstance(info.value, OSError)


def test_missing_and_empty_and_folder(tmp_path):
    _assert_read_error(tmp_path / "nope.png", "no such file")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _assert_read_error(empty, "empty")
    _assert_read_error(tmp_path, "folder")


def test_text_file_named_png_and_garbage(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    _assert_read_error(text, "not recognised")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(np.random.default_rng(11).bytes(500))
    _assert_read_error(garbage, "not recognised")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_truncated_files(tmp_path, png_decoder, suffix):
    rng = np.random.default_rng(12)
    pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    whole = tmp_path / f"whole{suffix}"
    Image.fromarray(pixels).save(whole)
    data = whole.read_bytes()
    half = tmp_path / f"half{suffix}"
    half.write_bytes(data[: len(data) // 2])
    _assert_read_error(half, "cannot read image")


def test_corrupt_png_data(tmp_path, png_decoder):
    pixels = np.random.default_rng(13).integers(0, 256, (32, 32), dtype=np.uint8)
    path = tmp_path / "flipped.png"
    Image.fromarray(pixels).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 8
    data[start:start + 40] = bytes(40)
    path.write_bytes(bytes(data))
    _assert_read_error(path, "cannot read image")


def test_decompression_bomb_is_a_read_error(tmp_path, monkeypatch, png_decoder):
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    _assert_read_error(path, "too many pixels")


def test_bad_mode():
    with pytest.raises(ValueError, match="mode must be one of"):
        spectral.read_image("x.png", mode="bgr")


# Listing folders ----------------------------------------------------------------


def test_iter_images_sorted_filtered_and_recursive(tmp_path):
    for name in ("b.PNG", "a.jpg", "c.TIFF", "d.webp", "e.bmp", "f.jpeg", "g.tif",
                 "notes.txt", ".hidden.png", "noext"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "z.png").write_bytes(b"")
    (tmp_path / "folder.png").mkdir()  # a folder is never listed

    names = [p.name for p in spectral.iter_images(tmp_path)]
    assert names == ["a.jpg", "b.PNG", "c.TIFF", "d.webp", "e.bmp", "f.jpeg", "g.tif"]
    nested = [p.relative_to(tmp_path).as_posix()
              for p in spectral.iter_images(tmp_path, recursive=True)]
    assert nested[-1] == "sub/z.png" and len(nested) == 8
    only = [p.name for p in spectral.iter_images(tmp_path, extensions=["PNG", ".bmp"])]
    assert only == ["b.PNG", "e.bmp"]
    assert all(isinstance(p, type(tmp_path)) for p in spectral.iter_images(tmp_path))


def test_iter_images_errors_are_eager(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        spectral.iter_images(tmp_path / "missing")
    file = tmp_path / "file.png"
    file.write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="file.png"):
        spectral.iter_images(file)
    with pytest.raises(ValueError, match="extensions"):
        spectral.iter_images(tmp_path, extensions=[""])
