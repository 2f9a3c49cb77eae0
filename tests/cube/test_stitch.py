"""``stitch``: per-file manifests placed on one chunk-aligned grid equal the numpy mosaic of the files."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr
from virtualizarr.manifests import ManifestGroup, ManifestStore

from tests.support.helpers import file_url, make_registry, read_local_header
from virtual_geotiff import IncompatibleSourcesError, InvalidArgumentError, Limits
from virtual_geotiff.arrays.planned import plan_georeferenced_ifd
from virtual_geotiff.stitch import Placement, stitch

TILE = 16


def _array(path, data, **kwargs):
    tifffile.imwrite(path, data, tile=(TILE, TILE), compression=kwargs.pop("compression", "zlib"), **kwargs)
    header = read_local_header(path)
    return plan_georeferenced_ifd(header.ifds[0], header, Limits()).array()


def _read(array) -> np.ndarray:
    store = ManifestStore(ManifestGroup(arrays={"a": array}), registry=make_registry())
    return zarr.open_array(store, path="a", mode="r", zarr_format=3)[...]


def test_stitch_grid_with_partial_edges_and_hole(tmp_path):
    rng = np.random.default_rng(1)
    # 2 x 3 grid of files; right column 20 px wide and bottom row 40 px high (partial edge tiles)
    heights, widths = [32, 40], [48, 32, 20]
    full = rng.integers(0, 60000, size=(sum(heights), sum(widths)), dtype=np.uint16)
    placements = []
    row = 0
    for i, h in enumerate(heights):
        col = 0
        for j, w in enumerate(widths):
            if (i, j) != (1, 1):  # a hole: reads as the fill value
                part = full[row:row + h, col:col + w]
                placements.append(Placement(_array(tmp_path / f"{i}{j}.tif", part), row, col))
            col += w
        row += h
    out = stitch(placements[::-1])  # order does not matter
    assert out.shape == full.shape and out.metadata.chunks == (TILE, TILE)
    expected = full.copy()
    expected[32:72, 48:80] = 0
    np.testing.assert_array_equal(_read(out), expected)
    assert (out.manifest._paths == "").sum() == 3 * 2  # the hole's 3 x 2 chunks


def test_stitch_bands_and_explicit_shape(tmp_path):
    data = np.arange(3 * 32 * 32, dtype=np.uint8).reshape(32, 32, 3)
    a = _array(tmp_path / "a.tif", data, photometric="rgb")
    out = stitch([Placement(a, 0, 32)], shape=(3, 64, 96), attributes={"k": 1})
    assert out.shape == (3, 64, 96) and out.metadata.attributes == {"k": 1}
    got = _read(out)
    np.testing.assert_array_equal(got[:, :32, 32:64], np.moveaxis(data, -1, 0))
    assert not got[:, 32:].any() and not got[:, :, :32].any()


def test_stitch_lists_every_offending_file(tmp_path):
    base = np.ones((32, 32), dtype=np.uint16)
    good = _array(tmp_path / "good.tif", base)
    other_dtype = _array(tmp_path / "f32.tif", base.astype(np.float32))
    other_codec = _array(tmp_path / "zstd.tif", base, compression="zstd")
    with pytest.raises(IncompatibleSourcesError) as info:
        stitch([Placement(good), Placement(other_dtype, 0, 32), Placement(other_codec, 0, 64),
                Placement(good, 8, 96, label="misaligned")])
    msg = str(info.value)
    assert set(info.value.problems) == {file_url(tmp_path / "f32.tif"), file_url(tmp_path / "zstd.tif"),
                                        "misaligned"}
    assert "dtype float32" in msg and "codecs" in msg and "not a multiple of the chunk shape 16 x 16" in msg


def test_stitch_refuses_overlap_and_inner_partial_chunks(tmp_path):
    a = _array(tmp_path / "a.tif", np.ones((32, 32), dtype=np.uint16))
    with pytest.raises(IncompatibleSourcesError, match="overlaps"):
        stitch([Placement(a, 0, 0, "a"), Placement(a, 16, 16, "b")])
    narrow = _array(tmp_path / "n.tif", np.ones((32, 20), dtype=np.uint16))
    with pytest.raises(IncompatibleSourcesError, match="not on the right edge"):
        stitch([Placement(narrow, 0, 0, "n"), Placement(a, 0, 32, "a")])
    with pytest.raises(InvalidArgumentError):
        stitch([])
