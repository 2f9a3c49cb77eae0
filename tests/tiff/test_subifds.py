"""SubIFDs (tag 330: OME-TIFF pyramids, DNG previews) as extra arrays named ``"<ifd>_sub<k>"``, equal to
tifffile's decode of ``pages[ifd].pages[k]``."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import xarray as xr
import zarr

from tests.support.helpers import read_local_header
from virtual_geotiff import VirtualTIFF

pytestmark = pytest.mark.timeout(60)


def write_pyramid(path, *, pages: int = 2, levels: int = 2, bigtiff: bool = False, compression=None,
                  tile=(16, 16), byteorder="<"):
    rng = np.random.default_rng(3)
    with tifffile.TiffWriter(path, bigtiff=bigtiff, byteorder=byteorder) as tif:
        for _ in range(pages):
            data = rng.integers(0, 65535, (70, 90), dtype=np.uint16)
            tif.write(data, subifds=levels, tile=tile, compression=compression, photometric="minisblack")
            for level in range(1, levels + 1):
                tif.write(data[:: 2**level, :: 2**level], subfiletype=1, tile=tile, compression=compression,
                          photometric="minisblack")


@pytest.mark.parametrize("bigtiff, byteorder, compression", [(False, "<", None), (True, "<", "zlib"),
                                                              (False, ">", "zlib")])
def test_subifds_flat(tmp_path, registry, bigtiff, byteorder, compression):
    path = tmp_path / "pyramid.ome.tif"
    write_pyramid(path, bigtiff=bigtiff, byteorder=byteorder, compression=compression)
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    group = zarr.open_group(store, mode="r", zarr_format=3)
    names = sorted(name for name, _ in group.arrays())
    assert names == ["0", "0_sub0", "0_sub1", "1", "1_sub0", "1_sub1"]
    with tifffile.TiffFile(path) as tif:
        for p in range(2):
            page = tif.pages[p]
            np.testing.assert_array_equal(group[str(p)][...], page.asarray())
            for k, sub in enumerate(page.pages):
                np.testing.assert_array_equal(group[f"{p}_sub{k}"][...], sub.asarray())


def test_subifds_nested_open_as_datatree_groups(tmp_path, registry):
    path = tmp_path / "pyramid.tif"
    write_pyramid(path, pages=1, levels=2)
    store = VirtualTIFF(ifd_layout="nested")(url=f"file://{path}", registry=registry)
    with tifffile.TiffFile(path) as tif:
        expected = tif.pages[0].pages[1].asarray()
    ds = xr.open_zarr(store, group="0_sub1", zarr_format=3, consolidated=False)
    np.testing.assert_array_equal(ds["0_sub1"].values, expected)


def test_single_ifd_selection_leaves_subifds_out(tmp_path, registry):
    path = tmp_path / "pyramid.tif"
    write_pyramid(path, pages=1, levels=1)
    store = VirtualTIFF(ifd=0)(url=f"file://{path}", registry=registry)
    assert sorted(name for name, _ in zarr.open_group(store, mode="r", zarr_format=3).arrays()) == ["0"]


def test_sub_ifd_header_facts(tmp_path):
    """``TiffHeader.sub_ifds`` lists each SubIFD with its parent, position and size."""
    path = tmp_path / "pyramid.tif"
    write_pyramid(path, pages=1, levels=2, tile=(32, 32))
    header = read_local_header(path)
    assert [s.name for s in header.sub_ifds] == ["0_sub0", "0_sub1"]
    assert [(s.width, s.height) for s in header.sub_ifds] == [(45, 35), (23, 18)]


def test_subifd_without_samples_per_pixel(tmp_path, registry):
    """A SubIFD without SamplesPerPixel gets TIFF's default like a main IFD (async-tiff 0.7.2 panicked)."""
    import struct

    path = tmp_path / "pyramid.tif"
    write_pyramid(path, pages=1, levels=2)
    with tifffile.TiffFile(path) as tif:
        positions = [tag.offset for sub in tif.pages[0].pages for tag in sub.tags.values() if tag.code == 277]
    assert len(positions) == 2
    raw = bytearray(path.read_bytes())
    for p in positions:
        raw[p:p + 2] = struct.pack("<H", 65000)
    path.write_bytes(bytes(raw))
    group = zarr.open_group(VirtualTIFF()(url=f"file://{path}", registry=registry), mode="r", zarr_format=3)
    with tifffile.TiffFile(path) as tif:
        np.testing.assert_array_equal(group["0"][...], tif.pages[0].asarray())
        for k, sub in enumerate(tif.pages[0].pages):
            np.testing.assert_array_equal(group[f"0_sub{k}"][...], sub.asarray())
