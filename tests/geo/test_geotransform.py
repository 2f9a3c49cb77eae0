"""``geo.transform.GeoTransform``: the grid arithmetic, checked against rasterio's Affine/windows and GDAL.

The value type must stay interchangeable with the plain GDAL 6-tuples it replaced (equality, hashing, pickling,
JSON, repr in messages), and each method must give what rasterio/GDAL give for the same operation.
"""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
import rasterio
import rasterio.transform
import rasterio.windows
from affine import Affine
from rasterio.enums import Resampling

from virtual_geotiff.geo import rescaled
from virtual_geotiff.geo.coords import pixel_centers
from virtual_geotiff.geo.transform import GeoTransform, bounds, gdal_string, to_affine

NORTH_UP = (500000.0, 30.0, 0.0, 4600000.0, 0.0, -30.0)
ODD = (10.123456789, 0.000277777777778, 0.0, 49.987654321, 0.0, -0.000277777777778)
ROTATED = (1000.0, 9.5, 1.25, 2000.0, -0.75, -10.5)
SOUTH_UP = (-180.0, 0.5, 0.0, -90.0, 0.0, 0.5)


def _gdal(affine: Affine) -> GeoTransform:
    return GeoTransform(*affine.to_gdal())


# ------------------------------------------------------------------------------------------- a tuple still


@pytest.mark.parametrize("numbers", [NORTH_UP, ROTATED])
def test_behaves_as_the_plain_tuple(numbers):
    gt = GeoTransform(*numbers)
    assert gt == numbers and numbers == gt and hash(gt) == hash(numbers)
    assert repr(gt) == repr(numbers) and str(gt) == str(numbers) and f"{gt}" == f"{numbers}"
    assert json.dumps(gt) == json.dumps(numbers) == json.dumps(list(numbers))
    assert pickle.loads(pickle.dumps(gt)) == gt and type(pickle.loads(pickle.dumps(gt))) is GeoTransform
    assert (gt.c, gt.a, gt.b, gt.f, gt.d, gt.e) == numbers
    assert GeoTransform(*list(numbers)) == gt
    assert gdal_string(gt) == gdal_string(numbers) == " ".join(str(v) for v in numbers)


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, ROTATED, SOUTH_UP])
def test_to_affine_is_affine_from_gdal(numbers):
    assert GeoTransform(*numbers).to_affine() == tuple(Affine.from_gdal(*numbers))[:6]
    assert to_affine(numbers) == GeoTransform(*numbers).to_affine()
    assert _gdal(Affine.from_gdal(*numbers)) == numbers


def test_north_up_and_resolution():
    assert GeoTransform(*NORTH_UP).is_north_up and GeoTransform(*SOUTH_UP).is_north_up
    assert not GeoTransform(*ROTATED).is_north_up
    assert GeoTransform(*NORTH_UP).resolution == (30.0, 30.0)
    assert GeoTransform(*SOUTH_UP).resolution == (0.5, 0.5)


def test_resolution_is_rasterios_res(tmp_path):
    path = tmp_path / "res.tif"
    affine = Affine.from_gdal(*ODD)
    with rasterio.open(path, "w", driver="GTiff", width=8, height=6, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=affine) as ds:
        ds.write(np.zeros((1, 6, 8), np.uint8))
    with rasterio.open(path) as ds:
        assert GeoTransform(*ds.transform.to_gdal()).resolution == ds.res


# ------------------------------------------------------------------------------------------- rescaling


def test_rescaled_is_gdals_overview_transform(tmp_path):
    """GDAL gives an overview the main transform through GDALRescaleGeoTransform (size ratios per axis)."""
    path = tmp_path / "ovr.tif"
    width, height = 1001, 757
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="uint8",
                       crs="EPSG:32633", transform=Affine.from_gdal(*ODD), tiled=True) as ds:
        ds.write(np.zeros((1, height, width), np.uint8))
        ds.build_overviews([2, 4, 8], Resampling.nearest)
    main = GeoTransform(*ODD)
    for level in range(3):
        with rasterio.open(path, overview_level=level) as ov:
            expected = ov.transform.to_gdal()
            assert main.rescaled(width / ov.width, height / ov.height) == expected


def test_rescaled_terms_and_rotation():
    gt = GeoTransform(*ROTATED)
    out = gt.rescaled(2.0, 3.0)
    assert out == (1000.0, 19.0, 3.75, 2000.0, -1.5, -31.5)  # b and e per row (y ratio), a and d per column
    assert isinstance(out, GeoTransform)
    expected = Affine.from_gdal(*ROTATED) @ Affine.scale(2.0, 3.0)
    assert out.to_affine() == pytest.approx(tuple(expected)[:6], rel=1e-15)


def test_geo_rescaled_gives_a_geotransform():
    from virtual_geotiff.geo import IfdGeoref

    class Ifd:
        def __init__(self, index, width, height):
            self.index, self.width, self.height = index, width, height

    main = IfdGeoref(crs=None, crs_code=None, vertical_crs=None, transform=NORTH_UP, point_transform=None,
                     pixel_is_point=False, gcp_count=0, status="transform-only", note=None)
    out = rescaled(main, Ifd(0, 100, 50), Ifd(1, 25, 13))
    assert isinstance(out.transform, GeoTransform)
    assert out.transform == GeoTransform(*NORTH_UP).rescaled(100 / 25, 50 / 13)


# ------------------------------------------------------------------------------------------- PixelIsPoint


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, ROTATED])
def test_point_registered_is_the_centre_of_pixel_zero(numbers):
    gt = GeoTransform(*numbers)
    point = gt.point_registered()
    centre = Affine.from_gdal(*numbers) @ Affine.translation(0.5, 0.5)
    assert point.to_affine() == pytest.approx(tuple(centre)[:6], rel=1e-15, abs=1e-9)
    c, a, b, f, d, e = numbers
    assert point == (c + a * 0.5 + b * 0.5, a, b, f + d * 0.5 + e * 0.5, d, e)  # as cube and VRT wrote it


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, ROTATED])
def test_area_registered_undoes_point_registered(numbers):
    gt = GeoTransform(*numbers)
    assert gt.point_registered().area_registered() == pytest.approx(numbers, rel=1e-15, abs=1e-9)


def test_area_registered_is_what_rasterio_reads_from_a_pixel_is_point_file(tmp_path):
    """rasterio (GDAL, GTIFF_POINT_GEO_IGNORE=FALSE) shifts a PixelIsPoint file's transform by half a pixel."""
    import tifffile

    from virtual_geotiff.geo.transform import geotransform
    from virtual_geotiff.tiff.reader import GeoTags

    path = tmp_path / "point.tif"
    scale, tie = (0.25, 0.5, 0.0), (0.0, 0.0, 0.0, 10.25, 49.75, 0.0)
    keys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 2, 2048, 0, 1, 4326)  # geographic, PixelIsPoint, EPSG:4326
    tifffile.imwrite(path, np.zeros((4, 6), np.uint8), extratags=[
        (33550, 12, 3, scale, True), (33922, 12, 6, tie, True), (34735, 3, len(keys), keys, True)])
    with rasterio.open(path) as ds:
        expected = ds.transform.to_gdal()
    stored = GeoTransform(tie[3], scale[0], 0.0, tie[4], 0.0, -scale[1])
    assert stored.area_registered() == expected
    geo = GeoTags(model_pixel_scale=scale, model_tiepoint=tie, geo_keys={"raster_type": 2})
    assert geotransform(geo) == expected and isinstance(geotransform(geo), GeoTransform)
    assert geotransform(geo, point_geo_ignore=True) == stored


# ------------------------------------------------------------------------------------------- windows


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, ROTATED, SOUTH_UP])
@pytest.mark.parametrize(("row", "col"), [(0, 0), (3, 7), (1024, 512)])
def test_window_transform_is_rasterios(numbers, row, col):
    gt = GeoTransform(*numbers)
    expected = rasterio.windows.transform(rasterio.windows.Window(col, row, 10, 10), Affine.from_gdal(*numbers))
    assert gt.window_transform(row, col).to_affine() == pytest.approx(tuple(expected)[:6], rel=1e-15, abs=1e-9)


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, SOUTH_UP])
def test_window_transform_of_a_north_up_grid_is_the_cubes_formula(numbers):
    c, a, _, f, _, e = numbers
    for row, col in [(0, 0), (3, 7), (1024, 512)]:
        assert GeoTransform(*numbers).window_transform(row, col) == (c + col * a, a, 0.0, f + row * e, 0.0, e)


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD])
def test_pixel_bounds_is_rasterios_from_bounds(numbers):
    gt = GeoTransform(*numbers)
    xmin, ymin, xmax, ymax = gt.bounds(100, 80)
    for frac in [(0.0, 0.0, 1.0, 1.0), (0.1, 0.2, 0.35, 0.9), (0.5, 0.5, 0.52, 0.51)]:
        bbox = (xmin + frac[0] * (xmax - xmin), ymin + frac[1] * (ymax - ymin),
                xmin + frac[2] * (xmax - xmin), ymin + frac[3] * (ymax - ymin))
        window = rasterio.windows.from_bounds(*bbox, transform=Affine.from_gdal(*numbers))
        row0, row1, col0, col1 = gt.pixel_bounds(bbox)
        assert (row0, col0) == pytest.approx((window.row_off, window.col_off), abs=1e-6)
        assert (row1 - row0, col1 - col0) == pytest.approx((window.height, window.width), abs=1e-6)


def test_pixel_bounds_any_axis_direction():
    gt = GeoTransform(*SOUTH_UP)  # y grows with the row
    assert gt.pixel_bounds((-180.0, -90.0, -179.0, -89.0)) == (0.0, 2.0, 0.0, 2.0)
    west = GeoTransform(10.0, -1.0, 0.0, 0.0, 0.0, -1.0)  # x shrinks with the column
    assert west.pixel_bounds((7.0, -2.0, 9.0, 0.0)) == (0.0, 2.0, 1.0, 3.0)


def test_pixel_window_covers_touched_pixels():
    gt = GeoTransform(*NORTH_UP)
    # exactly on pixel edges (within 1e-9 pixel): nothing extra
    assert gt.pixel_window((500000.0 + 30 * 2, 4600000.0 - 30 * 5, 500000.0 + 30 * 4, 4600000.0 - 30 * 1)) == \
        (1, 5, 2, 4)
    assert gt.pixel_window((500000.0 + 30 * 2 + 1e-12, 4600000.0 - 30 * 5, 500000.0 + 30 * 4 - 1e-12,
                            4600000.0 - 30 * 1)) == (1, 5, 2, 4)
    # inside pixels: widened to whole pixels, as floor/ceil of rasterio's window
    bbox = (500000.0 + 30 * 2.5, 4600000.0 - 30 * 4.2, 500000.0 + 30 * 3.1, 4600000.0 - 30 * 1.7)
    window = rasterio.windows.from_bounds(*bbox, transform=Affine.from_gdal(*NORTH_UP))
    expected = (math.floor(window.row_off), math.ceil(window.row_off + window.height),
                math.floor(window.col_off), math.ceil(window.col_off + window.width))
    assert gt.pixel_window(bbox) == expected == (1, 5, 2, 4)
    # outside the grid: unclipped (the caller clips and reports)
    assert gt.pixel_window((499000.0, 4600100.0, 499100.0, 4600200.0))[1] < 0


def test_windows_of_a_rotated_grid_are_refused():
    with pytest.raises(ValueError, match="rotation/shear"):
        GeoTransform(*ROTATED).pixel_bounds((0, 0, 1, 1))
    with pytest.raises(ValueError, match="rotation/shear"):
        GeoTransform(*ROTATED).pixel_window((0, 0, 1, 1))


# ------------------------------------------------------------------------------------------- bounds, centres


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, SOUTH_UP])
def test_bounds_is_rasterios_array_bounds(numbers):
    west, south, east, north = rasterio.transform.array_bounds(80, 100, Affine.from_gdal(*numbers))
    expected = (min(west, east), min(south, north), max(west, east), max(south, north))
    assert GeoTransform(*numbers).bounds(100, 80) == pytest.approx(expected, rel=1e-15)
    assert bounds(numbers, 100, 80) == GeoTransform(*numbers).bounds(100, 80)


def test_bounds_of_a_rotated_grid_hold_every_corner():
    gt = GeoTransform(*ROTATED)
    affine = Affine.from_gdal(*ROTATED)
    corners = [affine @ (x, y) for x in (0, 100) for y in (0, 80)]
    xmin, ymin, xmax, ymax = gt.bounds(100, 80)
    assert (xmin, xmax) == pytest.approx((min(x for x, _ in corners), max(x for x, _ in corners)))
    assert (ymin, ymax) == pytest.approx((min(y for _, y in corners), max(y for _, y in corners)))


@pytest.mark.parametrize("numbers", [NORTH_UP, ODD, SOUTH_UP])
def test_pixel_centers_are_rasterios_xy(numbers):
    gt = GeoTransform(*numbers)
    x, y = gt.pixel_centers(7, 5)
    xs, _ = rasterio.transform.xy(Affine.from_gdal(*numbers), [0] * 7, list(range(7)), offset="center")
    _, ys = rasterio.transform.xy(Affine.from_gdal(*numbers), list(range(5)), [0] * 5, offset="center")
    np.testing.assert_allclose(x, xs, rtol=1e-15, atol=0)
    np.testing.assert_allclose(y, ys, rtol=1e-15, atol=0)
    assert x.dtype == y.dtype == np.float64


def test_pixel_centers_are_rioxarrays_to_the_bit(tmp_path):
    rioxarray = pytest.importorskip("rioxarray")
    path = tmp_path / "centres.tif"
    with rasterio.open(path, "w", driver="GTiff", width=37, height=23, count=1, dtype="uint8", crs="EPSG:4326",
                       transform=Affine.from_gdal(*ODD)) as ds:
        ds.write(np.zeros((1, 23, 37), np.uint8))
    with rioxarray.open_rasterio(path) as da:
        x, y = GeoTransform(*ODD).pixel_centers(37, 23)
        assert np.array_equal(x, da.x.values) and np.array_equal(y, da.y.values)
        x2, y2 = pixel_centers(list(ODD), 37, 23)  # any six numbers
        assert np.array_equal(x2, x) and np.array_equal(y2, y)


def test_pixel_centers_of_a_rotated_grid_are_refused_with_the_tuple_in_the_message():
    with pytest.raises(ValueError, match=r"GeoTransform \(1000\.0, 9\.5, 1\.25"):
        GeoTransform(*ROTATED).pixel_centers(3, 3)
