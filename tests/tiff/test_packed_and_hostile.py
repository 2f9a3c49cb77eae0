"""Packed bit depths, FillOrder=2, and hostile files (loops, truncation, absurd sizes, lies).

Every readable case is compared with tifffile/rasterio; every broken one must end in a typed error,
never a hang or a wrong array (pytest-timeout enforces the no-hang part).
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import tifffile
import zarr
from obspec_utils.registry import ObjectStoreRegistry

from tests.support.helpers import make_registry, read_array
from virtual_geotiff import (
    InvalidArgumentError,
    LimitExceededError,
    Limits,
    TiffFormatError,
    UnsupportedTiffError,
    VirtualTIFF,
)
from virtual_geotiff.tiff.chain import TiffFormatWarning

pytestmark = pytest.mark.timeout(60)


def codec_names(path: Path, registry: ObjectStoreRegistry) -> list[str]:
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    return [c.to_dict()["name"] for c in zarr.open_group(store, mode="r", zarr_format=3)["0"].metadata.codecs]


@pytest.mark.parametrize("nbits", [1, 2, 4, 7, 12, 15])
@pytest.mark.parametrize("blockysize", [10, 37])
def test_gdal_nbits_matches_rasterio_and_tifffile(tmp_path, registry, nbits, blockysize):
    dtype = "uint8" if nbits <= 8 else "uint16"
    data = (np.arange(37 * 53).reshape(37, 53) * 7 % (2**nbits)).astype(dtype)
    path = tmp_path / f"n{nbits}.tif"
    with rasterio.open(path, "w", driver="GTiff", width=53, height=37, count=1, dtype=dtype, nbits=nbits,
                       blockysize=blockysize) as ds:
        ds.write(data, 1)
    ours = read_array(path, registry)
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, data)
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(ours, ds.read(1))
    np.testing.assert_array_equal(ours, tifffile.imread(path))
    assert "virtual_geotiff.bitunpack" in codec_names(path, registry)


@pytest.mark.parametrize("nbits", [1, 4])
def test_packed_chunky_rgb_and_tiles(tmp_path, registry, nbits):
    data = (np.arange(3 * 40 * 33).reshape(3, 40, 33) % (2**nbits)).astype("u1")
    path = tmp_path / "rgb.tif"
    with rasterio.open(path, "w", driver="GTiff", width=33, height=40, count=3, dtype="uint8", nbits=nbits,
                       tiled=True, blockxsize=16, blockysize=16, interleave="pixel") as ds:
        ds.write(data)
    np.testing.assert_array_equal(read_array(path, registry), data)


def test_fill_order_2_is_reversed_before_decoding(tmp_path, registry):
    data = (np.arange(20 * 30).reshape(20, 30) % 16).astype("u1")
    path = tmp_path / "lsb.tif"
    tifffile.imwrite(path, data, bitspersample=4, rowsperstrip=7)
    raw = bytearray(path.read_bytes())
    page = tifffile.TiffFile(path).pages[0]
    # reverse the bits of the strip bytes in place and add FillOrder=2 by rewriting the tag table
    for offset, count in zip(page.dataoffsets, page.databytecounts):
        for i in range(offset, offset + count):
            raw[i] = int(f"{raw[i]:08b}"[::-1], 2)
    path.write_bytes(bytes(raw))
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["Compression"].overwrite(1)
    _set_short_tag(path, 266, 2)
    assert tifffile.TiffFile(path).pages[0].fillorder == 2
    np.testing.assert_array_equal(read_array(path, registry), tifffile.imread(path))
    np.testing.assert_array_equal(read_array(path, registry), data)


def _set_short_tag(path: Path, code: int, value: int) -> None:
    """Rewrite the value of an existing tag, or replace the Software tag (305) with ``code``."""
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        tags = {t.code: t for t in page.tags.values()}
        target = tags.get(code) or tags.get(305)
        assert target is not None, "test file needs the tag or a Software tag to replace"
        entry = target.offset
    raw = bytearray(path.read_bytes())
    raw[entry : entry + 12] = struct.pack("<HHII", code, 3, 1, value)
    path.write_bytes(bytes(raw))


# --------------------------------------------------------------------------- hostile input


def _small_tiff(tmp_path: Path, **kwargs) -> Path:
    path = tmp_path / "small.tif"
    tifffile.imwrite(path, np.arange(64, dtype="u1").reshape(8, 8), software="x", **kwargs)
    return path


def test_not_a_tiff(tmp_path, registry):
    path = tmp_path / "x.tif"
    path.write_bytes(b"GIF89a" + b"\0" * 100)
    with pytest.raises(TiffFormatError, match="not a TIFF"):
        read_array(path, registry)


def test_empty_file(tmp_path, registry):
    path = tmp_path / "empty.tif"
    path.write_bytes(b"")
    with pytest.raises(TiffFormatError, match="too short"):
        read_array(path, registry)


def test_missing_file_names_the_url(tmp_path, registry):
    with pytest.raises(FileNotFoundError, match=r"nope\.tif"):
        read_array(tmp_path / "nope.tif", registry)


def test_ifd_loop_is_cut_with_a_warning(tmp_path, registry):
    data = np.arange(64, dtype="u1").reshape(8, 8)
    path = tmp_path / "loop.tif"
    tifffile.imwrite(path, data)
    raw = bytearray(path.read_bytes())
    first = struct.unpack("<I", raw[4:8])[0]
    n = struct.unpack("<H", raw[first : first + 2])[0]
    raw[first + 2 + 12 * n : first + 6 + 12 * n] = struct.pack("<I", first)  # next IFD -> itself
    path.write_bytes(bytes(raw))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        np.testing.assert_array_equal(read_array(path, registry), data)
    assert any(issubclass(w.category, TiffFormatWarning) for w in caught)


def test_ifd_offset_past_end_of_file(tmp_path, registry):
    path = _small_tiff(tmp_path)
    raw = bytearray(path.read_bytes())
    raw[4:8] = struct.pack("<I", len(raw) + 1000)
    path.write_bytes(bytes(raw))
    with pytest.raises(TiffFormatError, match="past the end"):
        read_array(path, registry)


@pytest.mark.parametrize("cut", [10, 30, 60, 100])
def test_truncated_header_gives_typed_error(tmp_path, registry, cut):
    path = _small_tiff(tmp_path)
    raw = path.read_bytes()
    first = struct.unpack("<I", raw[4:8])[0]
    path.write_bytes(raw[: first + cut])
    with pytest.raises((TiffFormatError, UnsupportedTiffError)):
        read_array(path, registry)


def test_truncated_data_fails_at_build_time_for_uncompressed(tmp_path, registry):
    path = tmp_path / "big.tif"
    data = np.arange(100 * 100, dtype="u2").reshape(100, 100)
    tifffile.imwrite(path, data, rowsperstrip=100)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["StripByteCounts"].overwrite([1000])
    with pytest.raises(TiffFormatError, match="needs 20000"):
        read_array(path, registry)


def test_absurd_dimensions_hit_a_limit(tmp_path, registry):
    path = _small_tiff(tmp_path)
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["ImageWidth"].overwrite(2**31)
        tif.pages[0].tags["ImageLength"].overwrite(2**31)
        tif.pages[0].tags["RowsPerStrip"].overwrite(2**31)
    with pytest.raises((LimitExceededError, TiffFormatError)):
        read_array(path, registry)


def test_tile_count_disagreeing_with_grid(tmp_path, registry):
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, np.zeros((64, 64), "u1"), tile=(16, 16))
    with tifffile.TiffFile(path, mode="r+b") as tif:
        tif.pages[0].tags["ImageLength"].overwrite(200)  # now needs 13 x 4 tiles, the file has 16
    with pytest.raises(TiffFormatError, match="needs 52"):
        read_array(path, registry)


def test_header_byte_limit(tmp_path, registry):
    path = _small_tiff(tmp_path)
    with pytest.raises(LimitExceededError, match="max_header_bytes"):
        read_array(path, registry, limits=Limits(max_header_bytes=4, prefetch_bytes=4))


def test_ifd_count_limit(tmp_path, registry):
    path = tmp_path / "pages.tif"
    with tifffile.TiffWriter(path) as tw:
        for _ in range(5):
            tw.write(np.zeros((4, 4), "u1"))
    with pytest.raises(LimitExceededError, match="max_ifds=3"):
        read_array(path, registry, limits=Limits(max_ifds=3))
    assert read_array(path, registry, name="4").shape == (4, 4)


def test_chunk_count_limit(tmp_path, registry):
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, np.zeros((64, 64), "u1"), tile=(16, 16))
    with pytest.raises(LimitExceededError, match="max_chunks_per_array"):
        read_array(path, registry, limits=Limits(max_chunks_per_array=15))


def test_invalid_limits_and_arguments():
    with pytest.raises(InvalidArgumentError):
        Limits(max_ifds=0)
    with pytest.raises(InvalidArgumentError):
        VirtualTIFF(ifd=-1)
    with pytest.raises(InvalidArgumentError):
        VirtualTIFF(ifd_layout="tree")  # type: ignore[arg-type]


def test_ifd_out_of_range_names_the_count(tmp_path, registry):
    path = _small_tiff(tmp_path)
    with pytest.raises(TiffFormatError, match="has 1 IFD"):
        read_array(path, registry, ifd=3)


def test_unregistered_url_says_how_to_register(tmp_path):
    with pytest.raises(InvalidArgumentError, match="register"):
        VirtualTIFF()(url="s3://bucket/x.tif", registry=make_registry())


@pytest.mark.parametrize("orientation", [2, 3, 6, 8])
def test_orientation_is_returned_as_stored_like_gdal(tmp_path, registry, orientation):
    """GDAL/rasterio and tifffile return the pixels as stored, never rotated: so do we, with a warning and a
    ``tiff_orientation`` attribute."""
    import rasterio

    from virtual_geotiff.errors import StoredOrientationWarning

    path = _small_tiff(tmp_path)
    _set_short_tag(path, 274, orientation)
    with pytest.warns(StoredOrientationWarning, match=f"Orientation={orientation}"):
        store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    array = zarr.open_group(store, mode="r", zarr_format=3)["0"]
    assert array.attrs["tiff_orientation"] == orientation
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(array[...], ds.read(1))
    np.testing.assert_array_equal(array[...], tifffile.imread(path))
