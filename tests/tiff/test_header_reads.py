"""Header-read economy: one GET for a COG, targeted reads (never the pixel bytes) for late IFDs.

Counts the requests and bytes ``read_tiff_header`` sends to a real ``LocalStore`` and checks the
chunk offsets it reports against tifffile, so reading less can never mean reading wrong.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import tifffile
from obstore.store import LocalStore

from virtual_geotiff.limits import Limits
from virtual_geotiff.tiff.reader import TiffHeader, read_tiff_header

rasterio = pytest.importorskip("rasterio")


class RecordingStore:
    """A LocalStore that records every range it is asked for."""

    def __init__(self, root: Path) -> None:
        self.store = LocalStore(str(root))
        self.ranges: list[tuple[int, int]] = []

    async def get_range_async(self, path, *, start, end=None, length=None):
        end = start + length if end is None else end
        self.ranges.append((start, end))
        return await self.store.get_range_async(path, start=start, end=end)


def _read(path: Path) -> tuple[TiffHeader, RecordingStore]:
    store = RecordingStore(path.parent)
    header = asyncio.run(read_tiff_header(store, path.name, path.as_uri(), Limits()))
    return header, store


def _assert_offsets_match_tifffile(header: TiffHeader, path: Path) -> None:
    with tifffile.TiffFile(path) as tif:
        pages = list(tif.pages)
        assert len(pages) == len(header.ifds)
        for page, ifd in zip(pages, header.ifds):
            np.testing.assert_array_equal(ifd.offsets, np.asarray(page.dataoffsets, dtype=np.uint64))
            np.testing.assert_array_equal(ifd.byte_counts, np.asarray(page.databytecounts, dtype=np.uint64))


def _data(size: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 1000, (size, size), dtype=np.uint16)


def test_cog_header_is_one_request(tmp_path):
    path = tmp_path / "cog.tif"
    with rasterio.open(path, "w", driver="COG", width=1024, height=1024, count=1, dtype="uint16",
                       compress="DEFLATE", blocksize=256, overviews="AUTO") as dst:
        dst.write(_data(1024), 1)
    header, store = _read(path)
    assert len(header.ifds) >= 2  # overviews present
    assert store.ranges == [(0, Limits().prefetch_bytes)]
    assert header.stats.requests == 1
    _assert_offsets_match_tifffile(header, path)


@pytest.mark.parametrize("writer", ["gdal-mask", "tifffile-pyramid"])
def test_ifds_after_the_pixels_are_read_without_the_pixels(tmp_path, writer):
    path = tmp_path / f"{writer}.tif"
    data = _data(1024)
    if writer == "gdal-mask":
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
            with rasterio.open(path, "w", driver="GTiff", width=1024, height=1024, count=1, dtype="uint16",
                               compress="DEFLATE", tiled=True, blockxsize=256, blockysize=256) as dst:
                dst.write(data, 1)
                dst.write_mask(data > 10)
            with rasterio.open(path, "r+") as dst:
                dst.build_overviews([2, 4])
    else:
        with tifffile.TiffWriter(path) as tw:
            tw.write(data, tile=(256, 256), compression="zlib")
            tw.write(data[::2, ::2], tile=(256, 256), compression="zlib", subfiletype=1)
            tw.write(data[::4, ::4], tile=(256, 256), compression="zlib", subfiletype=1)
    header, store = _read(path)
    size = path.stat().st_size
    assert len(header.ifds) >= 3
    # One read for the start of the file, then at most one per late IFD (IFD tables and their values).
    assert header.stats.requests <= len(header.ifds)
    assert header.stats.bytes <= 3 * Limits().prefetch_bytes < size / 4
    assert all(end - start <= Limits().prefetch_bytes for start, end in store.ranges)
    _assert_offsets_match_tifffile(header, path)


def test_truncated_tag_values_still_fail(tmp_path):
    """Zero-filling gaps must never stand in for tag values the file does not have."""
    path = tmp_path / "late.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(_data(256), tile=(16, 16), compression="zlib")
        tw.write(_data(256)[::2, ::2], tile=(16, 16), compression="zlib", subfiletype=1)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[1]
        tag = page.tags["TileOffsets"]
        cut = tag.valueoffset + 8  # inside the second IFD's TileOffsets array
        assert cut > page.offset
    path.write_bytes(path.read_bytes()[:cut])
    from virtual_geotiff.errors import TiffFormatError

    with pytest.raises(TiffFormatError):
        _read(path)
