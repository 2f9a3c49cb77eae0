"""``open_virtual_cube``: stitched and stacked cubes equal rasterio's reads; misfits and bad files are listed."""

from __future__ import annotations

import asyncio
import random
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyproj
import pytest
import rasterio

from tests.support.cube import BLOCK, RES, TILE, X0, Y0, rasterio_mosaic, read_cube, tile_data, write_grid, write_tile
from tests.support.helpers import file_url, make_registry
from virtual_geotiff import FailedSourcesError, IncompatibleSourcesError, InvalidArgumentError
from virtual_geotiff.cube import open_virtual_cube
from virtual_geotiff.tiff.headers import FailedSource, read_headers

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def assert_same_manifest(a, b) -> None:
    ma, mb = a.manifest, b.manifest
    np.testing.assert_array_equal(ma._paths, mb._paths)
    np.testing.assert_array_equal(ma._offsets, mb._offsets)
    np.testing.assert_array_equal(ma._lengths, mb._lengths)
    assert a.metadata.to_dict() == b.metadata.to_dict()


def test_stitched_grid_equals_rasterio(tmp_path):
    paths = write_grid(tmp_path, 2, 3)
    random.Random(0).shuffle(paths)
    cube = open_virtual_cube([str(p) for p in paths], make_registry())
    ds = cube.dataset
    assert ds["data"].dims == ("y", "x") and ds["data"].shape == (2 * TILE, 3 * TILE)
    assert ds["data"].data.metadata.chunks == (BLOCK, BLOCK)
    transform = (X0, RES, 0.0, Y0, 0.0, -RES)
    expected = rasterio_mosaic(paths, (2 * TILE, 3 * TILE), transform)
    np.testing.assert_array_equal(read_cube(ds), expected)
    np.testing.assert_allclose(ds.x.values, X0 + (np.arange(3 * TILE) + 0.5) * RES)
    np.testing.assert_allclose(ds.y.values, Y0 - (np.arange(2 * TILE) + 0.5) * RES)
    assert isinstance(ds.x.values, np.ndarray) and ds.spatial_ref.shape == ()
    with rasterio.open(paths[0]) as src:
        assert pyproj.CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == pyproj.CRS.from_wkt(src.crs.to_wkt())
    assert ds.spatial_ref.attrs["GeoTransform"].split() == [str(v) for v in transform]
    attrs = ds["data"].attrs
    assert attrs["grid_mapping"] == "spatial_ref" and attrs["spatial:shape"] == [2 * TILE, 3 * TILE]
    assert attrs["proj:code"] == "EPSG:32633"
    assert set(cube.sources) == {file_url(p) for p in paths} and not cube.failed
    stamp = cube.sources[file_url(paths[0])]
    assert stamp.etag and stamp.size == paths[0].stat().st_size


def test_time_stack_of_stitched_grids(tmp_path):
    dates = ("20240301", "20240101", "20240201")
    paths = write_grid(tmp_path, 2, 2, dates)
    random.Random(1).shuffle(paths)
    cube = open_virtual_cube(paths, make_registry(), stack_values=r"scene_(\d{8})_", stack_format="%Y%m%d")
    ds = cube.dataset
    assert ds["data"].dims == ("time", "y", "x") and ds["data"].shape == (3, 2 * TILE, 2 * TILE)
    assert ds.time.values.tolist() == np.array(["2024-01-01", "2024-02-01", "2024-03-01"],
                                               dtype="datetime64[ns]").tolist()
    got = read_cube(ds)
    for t, stamp in enumerate(sorted(dates)):
        files = [p for p in paths if stamp in p.name]
        expected = rasterio_mosaic(files, (2 * TILE, 2 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
        np.testing.assert_array_equal(got[t], expected)
    # a window across four tiles of one step, as a reader would ask for it
    np.testing.assert_array_equal(read_cube(ds, key=(1, slice(40, 90), slice(20, 100))),
                                  got[1, 40:90, 20:100])


def test_stack_values_list_callable_and_no_stitch(tmp_path):
    paths = [tmp_path / f"s{i}.tif" for i in range(3)]
    for i, p in enumerate(paths):
        write_tile(p, 0, 0, step=i)
    by_list = open_virtual_cube(paths, make_registry(), stack_dim="step", stack_values=[2, 0, 1], stitch=False)
    assert by_list.dataset.step.values.tolist() == [0, 1, 2]
    got = read_cube(by_list.dataset)
    np.testing.assert_array_equal(got[2], tile_data(0, 0, 0)[0])
    np.testing.assert_array_equal(got[0], tile_data(0, 0, 1)[0])
    by_call = open_virtual_cube(paths, make_registry(), stack_dim="step",
                                stack_values=lambda url: (2, 0, 1)[int(url[-5])])
    assert_same_manifest(by_call.dataset["data"].data, by_list.dataset["data"].data)
    other = tmp_path / "moved.tif"
    write_tile(other, 0, 1)
    with pytest.raises(IncompatibleSourcesError, match="footprint differs"):
        open_virtual_cube([*paths, other], make_registry(), stack_values=[0, 1, 2, 3], stitch=False)
    with pytest.raises(IncompatibleSourcesError, match="shares its stack position"):
        open_virtual_cube(paths, make_registry(), stack_values=[0, 0, 1], stitch=False)


def test_band_from_file_names_and_band_selection(tmp_path):
    names = ("B08", "B02", "B04")
    paths = []
    for i, name in enumerate(names):
        p = tmp_path / f"T33_{name}.tif"
        write_tile(p, 0, 0, step=i)
        paths.append(p)
    cube = open_virtual_cube(paths, make_registry(), stack_dim="band", stack_values=r"_(B\d\d)\.tif$",
                             bands=["B04", "B08"])
    ds = cube.dataset
    assert ds.band.values.tolist() == ["B04", "B08"] and ds["data"].dims == ("band", "y", "x")
    got = read_cube(ds)
    np.testing.assert_array_equal(got[0], tile_data(0, 0, 2)[0])
    np.testing.assert_array_equal(got[1], tile_data(0, 0, 0)[0])
    assert set(cube.sources) == {file_url(paths[0]), file_url(paths[2])}


def test_bands_of_multiband_files(tmp_path):
    paths = write_grid(tmp_path / "planar", 1, 2, count=3, interleave="band")
    cube = open_virtual_cube(paths, make_registry(), bands=[3, 1])
    ds = cube.dataset
    assert ds["data"].dims == ("band", "y", "x") and ds.band.values.tolist() == [3, 1]
    expected = rasterio_mosaic(paths, (3, TILE, 2 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
    np.testing.assert_array_equal(read_cube(ds), expected[[2, 0]])
    chunky = write_grid(tmp_path / "chunky", 1, 1, count=3, interleave="pixel")
    with pytest.raises(InvalidArgumentError, match="pixel-interleaved"):
        open_virtual_cube(chunky, make_registry(), bands=[1])
    with pytest.raises(InvalidArgumentError, match="pixel-interleaved"):
        open_virtual_cube(chunky, make_registry(), bands=[3, 2, 1])
    every = open_virtual_cube(chunky, make_registry(), bands=[1, 2, 3]).dataset
    np.testing.assert_array_equal(read_cube(every), tile_data(0, 0, count=3))


def test_bbox_is_widened_to_whole_chunks(tmp_path):
    paths = write_grid(tmp_path, 2, 3)
    # x from pixel 70 to 100, y from row 10 to 75: chunks 2..3 across and 0..2 down
    bbox = (X0 + 70 * RES, Y0 - 75 * RES, X0 + 100 * RES, Y0 - 10 * RES)
    cube = open_virtual_cube(paths, make_registry(), bbox=bbox)
    ds = cube.dataset
    assert ds["data"].shape == (3 * BLOCK, 2 * BLOCK)
    full = rasterio_mosaic(paths, (2 * TILE, 3 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
    np.testing.assert_array_equal(read_cube(ds), full[0:96, 64:128])
    np.testing.assert_allclose(ds.x.values, X0 + (np.arange(64, 128) + 0.5) * RES)
    np.testing.assert_allclose(ds.y.values, Y0 - (np.arange(0, 96) + 0.5) * RES)
    assert ds["data"].attrs["spatial:transform"][2] == X0 + 64 * RES
    # only the files the window touches are referenced
    assert set(cube.sources) == {file_url(tmp_path / f"scene_20240101_r{r}_c1.tif") for r in (0, 1)}
    with pytest.raises(InvalidArgumentError, match="does not intersect"):
        open_virtual_cube(paths, make_registry(), bbox=(0, 0, 10, 10))


def test_misfits_are_listed_with_what_differs(tmp_path):
    good = write_grid(tmp_path, 1, 2)
    utm32 = tmp_path / "utm32.tif"
    write_tile(utm32, 1, 0, crs="EPSG:32632")
    coarse = tmp_path / "coarse.tif"
    write_tile(coarse, 1, 1, res=20.0)
    shifted = tmp_path / "shifted.tif"
    write_tile(shifted, 1, 2, shift=(5.0, 0.0))
    floats = tmp_path / "floats.tif"
    write_tile(floats, 2, 0, dtype="float32")
    with pytest.raises(IncompatibleSourcesError) as info:
        open_virtual_cube([*good, utm32, coarse, floats], make_registry())
    problems = info.value.problems
    assert set(problems) == {file_url(utm32), file_url(floats)}
    assert "CRS 'WGS 84 / UTM zone 32N'" in str(info.value) and "dtype float32" in str(info.value)
    with pytest.raises(IncompatibleSourcesError) as info:
        open_virtual_cube([*good, coarse, shifted], make_registry())
    assert set(info.value.problems) == {file_url(coarse)}
    assert "resolution (20.0, -20.0)" in str(info.value)
    with pytest.raises(IncompatibleSourcesError, match=r"0\.5 pixel off the grid") as info:
        open_virtual_cube([*good, shifted], make_registry())
    assert set(info.value.problems) == {file_url(shifted)}


def test_misaligned_overlapping_and_partial_tiles(tmp_path):
    good = write_grid(tmp_path, 1, 1)
    half = tmp_path / "half.tif"  # 48 px to the right: on the pixel grid, not on the chunk grid
    write_tile(half, 0, 0, shift=(48 * RES, 0.0))
    with pytest.raises(IncompatibleSourcesError, match="not a multiple of the chunk shape"):
        open_virtual_cube([*good, half], make_registry())
    again = tmp_path / "again.tif"
    write_tile(again, 0, 0)
    with pytest.raises(IncompatibleSourcesError, match="overlaps"):
        open_virtual_cube([*good, again], make_registry())
    narrow = tmp_path / "narrow.tif"  # 40 px wide, with a tile to its right: partial chunk inside the grid
    write_tile(narrow, 1, 0, size=(TILE, 40))
    right = tmp_path / "right.tif"
    write_tile(right, 1, 1)
    with pytest.raises(IncompatibleSourcesError, match="not on the right edge"):
        open_virtual_cube([narrow, right], make_registry())


def test_nodata_must_agree(tmp_path):
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    write_tile(a, 0, 0, nodata=0)
    write_tile(b, 0, 1, nodata=7)
    with pytest.raises(IncompatibleSourcesError, match="_FillValue 7"):
        open_virtual_cube([a, b], make_registry())
    write_tile(b, 0, 1, nodata=0)
    ds = open_virtual_cube([a, b], make_registry()).dataset
    assert ds["data"].attrs["_FillValue"] == 0


def test_bad_files_raise_listing_each_or_are_skipped(tmp_path):
    good = write_grid(tmp_path, 1, 2)
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"II*\x00" + b"\xff" * 20)
    missing = tmp_path / "missing.tif"
    with pytest.raises(FailedSourcesError) as info:
        open_virtual_cube([*good, garbage, missing], make_registry())
    assert set(info.value.failed) == {file_url(garbage), file_url(missing)}
    assert "does not exist" in info.value.failed[file_url(missing)]
    assert "garbage.tif" in str(info.value) and "missing.tif" in str(info.value)
    cube = open_virtual_cube([*good, garbage, missing], make_registry(), on_error="skip")
    assert set(cube.failed) == {file_url(garbage), file_url(missing)}
    assert set(cube.sources) == {file_url(p) for p in good}
    np.testing.assert_array_equal(read_cube(cube.dataset)[:, TILE:], tile_data(0, 1)[0])


def test_read_headers_progress_and_failures_in_place(tmp_path):
    paths = write_grid(tmp_path, 1, 3)
    urls = [file_url(p) for p in paths]
    urls.insert(1, file_url(tmp_path / "nope.tif"))
    calls = []
    results = asyncio.run(read_headers(urls, make_registry(), concurrency=2,
                                       progress=lambda done, total, url: calls.append((done, total))))
    assert [type(r).__name__ for r in results] == ["TiffHeader", "FailedSource", "TiffHeader", "TiffHeader"]
    assert isinstance(results[1], FailedSource) and "FileNotFoundError" in results[1].reason
    assert sorted(calls) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r.url for r in results if not isinstance(r, FailedSource)] == [urls[0], urls[2], urls[3]]


def test_builds_inside_a_running_event_loop(tmp_path):
    """Jupyter runs a loop in the calling thread: the synchronous builder must still work there."""
    paths = write_grid(tmp_path, 1, 2)

    async def notebook_cell():
        return open_virtual_cube(paths, make_registry())

    cube = asyncio.run(notebook_cell())
    assert cube.dataset["data"].shape == (TILE, 2 * TILE)


def test_executor_build_equals_local_build(tmp_path):
    paths = write_grid(tmp_path, 2, 2, ("20240101", "20240102"))
    kwargs = dict(stack_values=r"_(\d{8})_", stack_format="%Y%m%d")
    local = open_virtual_cube(paths, make_registry(), **kwargs)
    done = []
    with ThreadPoolExecutor(2) as pool:
        remote = open_virtual_cube(paths, make_registry(), executor=pool, batch_size=3,
                                   progress=lambda d, t, u: done.append(d), **kwargs)
    assert_same_manifest(local.dataset["data"].data, remote.dataset["data"].data)
    assert done[-1] == 8 and remote.sources == local.sources
    assert local.dataset.identical(remote.dataset.drop_vars("data").assign(data=local.dataset["data"]))


def test_argument_errors(tmp_path):
    paths = write_grid(tmp_path, 1, 1)
    with pytest.raises(InvalidArgumentError, match="on_error"):
        open_virtual_cube(paths, make_registry(), on_error="ignore")
    with pytest.raises(InvalidArgumentError, match="needs stack_values"):
        open_virtual_cube(paths, make_registry(), stack_dim="time")
    with pytest.raises(InvalidArgumentError, match="matches no part"):
        open_virtual_cube(paths, make_registry(), stack_values=r"(\d{12})")
    with pytest.raises(InvalidArgumentError, match="one string"):
        open_virtual_cube(str(paths[0]), make_registry())
    with pytest.raises(InvalidArgumentError, match="more than once"):
        open_virtual_cube([paths[0], paths[0]], make_registry())


def test_overview_level_stitches_the_overviews(tmp_path):
    paths = write_grid(tmp_path / "small", 2, 2)
    for path in paths:  # GDAL tiles overviews 128 x 128: these 32 x 32 overviews cannot be stitched
        with rasterio.open(path, "r+") as dst:
            dst.build_overviews([2], rasterio.enums.Resampling.average)
    with pytest.raises(IncompatibleSourcesError, match="not a multiple of the chunk shape 128 x 128"):
        open_virtual_cube(paths, make_registry(), overview_level=0)
    size = 256
    paths = write_grid(tmp_path / "large", 2, 2, size=(size, size), block=128)
    for path in paths:
        with rasterio.open(path, "r+") as dst:
            dst.build_overviews([2], rasterio.enums.Resampling.average)
    cube = open_virtual_cube(paths, make_registry(), overview_level=0)
    ds = cube.dataset
    half = size // 2
    assert ds["data"].shape == (size, size)
    expected = np.zeros((size, size), dtype=np.uint16)
    for path in paths:
        r, c = int(path.stem[-4]), int(path.stem[-1])
        with rasterio.open(path, overview_level=0) as src:
            expected[r * half:(r + 1) * half, c * half:(c + 1) * half] = src.read(1)
            if (r, c) == (0, 0):
                assert ds["data"].attrs["spatial:transform"] == list(src.transform)[:6]
    np.testing.assert_array_equal(read_cube(ds), expected)
    np.testing.assert_allclose(ds.x.values, X0 + (np.arange(size) + 0.5) * 2 * RES)
    with pytest.raises(FailedSourcesError, match="overview_level=1 requested"):
        open_virtual_cube(paths, make_registry(), overview_level=1)


def test_time_stack_of_pixel_interleaved_multiband_grids(tmp_path):
    """Stacking adds a leading dimension in front of (band, y, x): the transpose planned for one pixel-interleaved
    file ([1, 2, 0]) keeps it in front ([0, 2, 3, 1]), so every step reads as rasterio reads it."""
    dates = ("20240101", "20240201")
    paths = write_grid(tmp_path, 1, 2, dates, count=3, interleave="pixel")
    cube = open_virtual_cube(paths, make_registry(), stack_values=r"scene_(\d{8})_", stack_format="%Y%m%d")
    ds = cube.dataset
    assert ds["data"].dims == ("time", "band", "y", "x")
    transpose = [c for c in ds["data"].data.metadata.to_dict()["codecs"] if c["name"] == "transpose"]
    assert list(transpose[0]["configuration"]["order"]) == [0, 2, 3, 1]
    got = read_cube(ds)
    for t, stamp in enumerate(dates):
        files = [p for p in paths if stamp in p.name]
        expected = rasterio_mosaic(files, (3, TILE, 2 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
        np.testing.assert_array_equal(got[t], expected)
