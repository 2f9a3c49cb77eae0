"""``TiffHeader.stamp``: the source's ETag, last-modified time and size come with the header read, at no extra
request."""

from __future__ import annotations

import numpy as np
import obstore
import tifffile

from tests.support.helpers import file_url, make_registry
from virtual_geotiff import Limits
from virtual_geotiff._sync import run_sync
from virtual_geotiff.tiff.headers import read_header


class _RangeOnly:
    """A store exposing only the ranged half of obspec (no metadata): the stamp stays empty."""

    def __init__(self, store):
        self.store = store

    async def get_range_async(self, path, *, start, end=None, length=None):
        return await self.store.get_range_async(path, start=start, end=end, length=length)


def test_stamp_from_first_get(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((64, 64), np.uint16), tile=(16, 16), compression="zlib")
    header = run_sync(read_header(file_url(path), make_registry(), Limits()))
    meta = obstore.head(obstore.store.LocalStore(), str(path))
    assert header.stats.requests == 1
    assert header.stamp is not None and header.stamp.url == file_url(path)
    assert header.stamp.etag == meta["e_tag"] and header.stamp.etag
    assert header.stamp.last_modified == meta["last_modified"]
    assert header.stamp.size == path.stat().st_size


def test_no_stamp_without_metadata(tmp_path):
    from obspec_utils.registry import ObjectStoreRegistry

    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((8, 8), np.uint8))
    registry = ObjectStoreRegistry({"file://": _RangeOnly(obstore.store.LocalStore())})
    header = run_sync(read_header(file_url(path), registry, Limits()))
    assert header.stamp is None and header.ifds[0].width == 8
