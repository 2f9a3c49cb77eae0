"""GeoTIFF semantics: a virtual GeoTIFF opens in xarray exactly as georeferenced as rioxarray opens the file.

Every case is written at test time (rasterio for what GDAL writes, tifffile for hand-made GeoKeys that GDAL
would not write) and compared with what rasterio/rioxarray read from the same file: CRS, transform, x/y
coordinates, masked values. Files of ../shared/corpus are compared too when that folder exists.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import rioxarray
import tifffile
import xarray as xr
import zarr
from affine import Affine
from rasterio.crs import CRS
from rasterio.transform import from_origin

from tests.support.geo import ATOL, TIE, assert_transform, geokey_directory, rasterio_crs
from tests.support.helpers import file_url, make_registry, open_virtual, read_local_header
from tests.support.paths import CORPUS, corpus_files
from virtual_geotiff import ScaleOffsetWarning, VirtualTIFF, read_masked
from virtual_geotiff.geo import GeoreferencingWarning, georeference
from virtual_geotiff.geo.attrs import (
    GdalMetadataWarning,
    NodataWarning,
    encode_fill_value_attr,
    metadata_attributes,
    parse_gdal_metadata,
    parse_nodata,
)
from virtual_geotiff.geo.coords import pixel_centers
from virtual_geotiff.geo.crs import crs_from_geokeys, crs_from_geotags
from virtual_geotiff.geo.transform import georef_status, geotransform

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]


# ------------------------------------------------------------------------------------------------- helpers


def write_geotiff(path: Path, *, dtype="float32", count=1, crs="EPSG:32633", transform=None, nodata=None,
                  data=None, width=7, height=5, tags=None, **profile) -> np.ndarray:
    if data is None:
        rng = np.random.default_rng(0)
        data = (rng.random((count, height, width)) * 200).astype(dtype)
    transform = transform if transform is not None else from_origin(500_000.0, 4_000_000.0, 30.0, 30.0)
    kwargs = {"crs": CRS.from_user_input(crs)} if crs else {}
    if transform is not False:
        kwargs["transform"] = transform
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=count, dtype=dtype,
                           nodata=nodata, **kwargs, **profile) as dst:
            dst.write(data)
            if tags:
                dst.update_tags(**tags)
    return data


def assert_matches_rioxarray(path: Path, *, mask_and_scale: bool = False) -> xr.Dataset:
    """CRS, transform, coordinates and masked values of the virtual dataset equal rioxarray's."""
    ds = open_virtual(path)
    ref = rioxarray.open_rasterio(path, masked=True, mask_and_scale=mask_and_scale)
    with rasterio.open(path) as src:
        expected_crs = src.crs
        expected_transform = src.transform
    assert "spatial_ref" in ds.coords
    assert ds["0"].attrs["grid_mapping"] == "spatial_ref"
    assert ds.rio.crs == expected_crs
    assert pyproj.CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == rasterio_crs(path)
    assert_transform(ds.rio.transform(), expected_transform)
    np.testing.assert_allclose(ds.x.values, ref.x.values, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ds.y.values, ref.y.values, rtol=0, atol=ATOL)
    assert ds.x.dtype == np.float64 and ds.y.dtype == np.float64
    values = ds["0"].values
    expected = ref.values if values.ndim == 3 else ref.values[0]
    np.testing.assert_allclose(values, expected, rtol=1e-6, equal_nan=True)
    assert np.array_equal(np.isnan(values), np.isnan(expected))
    return ds


# ------------------------------------------------------------------------------------------------- the matrix


def test_projected_epsg(tmp_path):
    path = tmp_path / "utm.tif"
    write_geotiff(path, crs="EPSG:32633")
    ds = assert_matches_rioxarray(path)
    attrs = ds["0"].attrs
    assert attrs["georef_status"] == "full"
    assert attrs["AREA_OR_POINT"] == "Area"
    assert attrs["proj:code"] == "EPSG:32633"
    assert attrs["spatial:transform"] == [30.0, 0.0, 500_000.0, 0.0, -30.0, 4_000_000.0]
    assert attrs["spatial:shape"] == [5, 7]
    assert attrs["spatial:bbox"] == [500_000.0, 4_000_000.0 - 150.0, 500_000.0 + 210.0, 4_000_000.0]
    assert attrs["spatial:registration"] == "pixel"
    assert {c["name"] for c in attrs["zarr_conventions"]} == {"proj:", "spatial"}
    assert ds.spatial_ref.attrs["GeoTransform"] == "500000.0 30.0 0.0 4000000.0 0.0 -30.0"
    assert ds.spatial_ref.attrs["spatial_ref"] == ds.spatial_ref.attrs["crs_wkt"]
    assert ds.spatial_ref.attrs["grid_mapping_name"] == "transverse_mercator"
    assert ds.x.attrs["standard_name"] == "projection_x_coordinate"
    assert ds.y.attrs["axis"] == "Y"
    assert int(ds.spatial_ref.values) == 0


def test_geographic_epsg(tmp_path):
    path = tmp_path / "wgs84.tif"
    write_geotiff(path, crs="EPSG:4326", transform=from_origin(-10.0, 50.0, 0.25, 0.25))
    ds = assert_matches_rioxarray(path)
    assert ds["0"].attrs["proj:code"] == "EPSG:4326"
    assert ds.x.attrs["standard_name"] == "longitude"
    assert ds.y.attrs["standard_name"] == "latitude"


def test_custom_lcc_from_proj_string(tmp_path):
    path = tmp_path / "lcc.tif"
    write_geotiff(path, crs="+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +x_0=0 +y_0=0 +datum=NAD83 "
                            "+units=m +no_defs")
    ds = assert_matches_rioxarray(path)
    assert "proj:code" not in ds["0"].attrs
    assert pyproj.CRS.from_wkt(ds["0"].attrs["proj:wkt2"]) == rasterio_crs(path)


def test_pixel_is_point(tmp_path):
    path = tmp_path / "point.tif"
    write_geotiff(path, crs="EPSG:4326", transform=from_origin(10.0, 50.0, 0.5, 0.5), tags={"AREA_OR_POINT": "Point"})
    with tifffile.TiffFile(path) as tif:  # the file stores the tie point at the first pixel centre
        assert tif.pages[0].geotiff_tags["GTRasterTypeGeoKey"] == 2
        assert tif.pages[0].geotiff_tags["ModelTiepoint"][3:5] == [10.25, 49.75]
    ds = assert_matches_rioxarray(path)
    attrs = ds["0"].attrs
    assert attrs["AREA_OR_POINT"] == "Point"
    assert ds.spatial_ref.attrs["GeoTransform"] == "10.0 0.5 0.0 50.0 0.0 -0.5"
    assert attrs["spatial:registration"] == "node"
    assert attrs["spatial:transform"] == [0.5, 0.0, 10.25, 0.0, -0.5, 49.75]
    assert ds.x.values[0] == 10.25 and ds.y.values[0] == 49.75


def test_rotated_keeps_transform_without_xy(tmp_path):
    path = tmp_path / "rotated.tif"
    transform = Affine.translation(1000.0, 2000.0) * Affine.rotation(30.0) * Affine.scale(10.0, -10.0)
    data = write_geotiff(path, transform=transform, dtype="uint8")
    ds = open_virtual(path)
    with rasterio.open(path) as src:
        assert ds.rio.crs == src.crs
        assert_transform(ds.rio.transform(), src.transform)
    assert "x" not in ds.coords and "y" not in ds.coords
    assert ds["0"].attrs["georef_status"] == "rotated"
    np.testing.assert_array_equal(ds["0"].values, data[0])


def test_no_georeferencing_keeps_plain_behaviour(tmp_path):
    path = tmp_path / "plain.tif"
    data = np.arange(35, dtype="uint16").reshape(5, 7)
    tifffile.imwrite(path, data)
    ds = open_virtual(path)
    assert set(ds.variables) == {"0"}
    assert "georef_status" not in ds["0"].attrs and "grid_mapping" not in ds["0"].attrs
    assert "coordinates" not in ds.attrs
    np.testing.assert_array_equal(ds["0"].values, data)
    group = zarr.open_group(VirtualTIFF()(url=file_url(path), registry=make_registry()), mode="r", zarr_format=3)
    assert sorted(group.array_keys()) == ["0"]
    assert group["0"].fill_value == 0


def test_rasterio_without_crs_or_transform(tmp_path):
    """rasterio writes no GeoKeys at all when given neither: the same plain array as any TIFF."""
    path = tmp_path / "none.tif"
    write_geotiff(path, crs=None, transform=False, dtype="uint8")
    ds = open_virtual(path)
    assert "spatial_ref" not in ds.variables and "x" not in ds.coords


def test_transform_only(tmp_path):
    path = tmp_path / "transform_only.tif"
    write_geotiff(path, crs=None, dtype="uint8")
    ds = open_virtual(path)
    ref = rioxarray.open_rasterio(path)
    assert ds["0"].attrs["georef_status"] == "transform-only"
    assert ds.rio.crs is None
    with rasterio.open(path) as src:
        assert_transform(ds.rio.transform(), src.transform)
    np.testing.assert_array_equal(ds.x.values, ref.x.values)
    np.testing.assert_array_equal(ds.y.values, ref.y.values)


def test_integer_nodata_is_masked(tmp_path):
    path = tmp_path / "int_nodata.tif"
    data = np.arange(35, dtype="int16").reshape(1, 5, 7) - 10
    data[0, 1, 2] = data[0, 3, 4] = -9999
    write_geotiff(path, dtype="int16", data=data, nodata=-9999)
    ds = assert_matches_rioxarray(path)
    assert np.isnan(ds["0"].values[1, 2]) and np.isnan(ds["0"].values[3, 4])
    raw = open_virtual(path, mask_and_scale=False)
    assert raw["0"].dtype == np.int16 and raw["0"].attrs["_FillValue"] == -9999
    group = zarr.open_group(VirtualTIFF()(url=file_url(path), registry=make_registry()), mode="r", zarr_format=3)
    assert group["0"].fill_value == -9999


def test_nan_nodata_is_masked(tmp_path):
    path = tmp_path / "nan_nodata.tif"
    data = np.linspace(0, 1, 35, dtype="float32").reshape(1, 5, 7)
    data[0, 0, 0] = np.nan
    write_geotiff(path, data=data, nodata=np.nan)
    ds = assert_matches_rioxarray(path)
    assert ds["0"].dtype == np.float32
    group = zarr.open_group(VirtualTIFF()(url=file_url(path), registry=make_registry()), mode="r", zarr_format=3)
    assert np.isnan(group["0"].fill_value)


def test_float_nodata_value_is_masked(tmp_path):
    path = tmp_path / "float_nodata.tif"
    data = np.linspace(0, 1, 35, dtype="float32").reshape(1, 5, 7)
    data[0, 2, 2] = -3.4028234663852886e38
    write_geotiff(path, data=data, nodata=-3.4028234663852886e38)
    ds = assert_matches_rioxarray(path)
    assert np.isnan(ds["0"].values[2, 2])


def test_scale_offset_descriptions_units(tmp_path):
    path = tmp_path / "scaled.tif"
    data = (np.arange(70, dtype="int16").reshape(2, 5, 7) * 3) - 20
    data[1, 0, 0] = -1
    with rasterio.open(path, "w", driver="GTiff", width=7, height=5, count=2, dtype="int16", nodata=-1,
                       crs="EPSG:32633", transform=from_origin(0, 0, 1, 1)) as dst:
        dst.write(data)
        dst.scales = (0.5, 0.5)
        dst.offsets = (10.0, 10.0)
        dst.set_band_description(1, "red")
        dst.set_band_description(2, "nir")
        dst.units = ("K", "K")
        dst.update_tags(PRODUCT="test", LEVEL="2")
        dst.update_tags(1, STAT="a")
    ds = assert_matches_rioxarray(path, mask_and_scale=True)
    attrs = ds["0"].attrs
    assert ds["0"].encoding["scale_factor"] == 0.5 and ds["0"].encoding["add_offset"] == 10.0
    assert attrs["long_name"] == ["red", "nir"]
    assert attrs["units"] == "K"
    assert attrs["PRODUCT"] == "test" and attrs["LEVEL"] == "2"
    assert attrs["STAT"] == ["a", ""]
    assert np.isnan(ds["0"].values[1, 0, 0])


def test_band_scales_that_differ_warn_and_read_masked_applies_them(tmp_path):
    path = tmp_path / "scales.tif"
    data = np.arange(70, dtype="int16").reshape(2, 5, 7)
    write_geotiff(path, dtype="int16", count=2, data=data, nodata=5)
    with rasterio.open(path, "r+") as dst:
        dst.scales = (0.0001, 0.001)
        dst.offsets = (1000.0, 2000.0)
    with pytest.warns(ScaleOffsetWarning, match=r"IFD 0 of file://.*different scales \[0.0001, 0.001\]"):
        store = VirtualTIFF()(url=file_url(path), registry=make_registry())
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    assert ds["0"].attrs["scales"] == [0.0001, 0.001] and ds["0"].attrs["offsets"] == [1000.0, 2000.0]
    assert "scale_factor" not in ds["0"].attrs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rioxarray warns that the scales differ
        ref = rioxarray.open_rasterio(path, masked=True, mask_and_scale=True)
    got = read_masked(store, mask_and_scale=True)
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got.values, ref.values)


def test_single_band_description(tmp_path):
    path = tmp_path / "desc.tif"
    write_geotiff(path)
    with rasterio.open(path, "r+") as dst:
        dst.set_band_description(1, "elevation")
        dst.units = ("m",)
    ds = open_virtual(path)
    assert ds["0"].attrs["long_name"] == "elevation" and ds["0"].attrs["units"] == "m"


def test_multiband_rgb(tmp_path):
    path = tmp_path / "rgb.tif"
    write_geotiff(path, dtype="uint8", count=3, crs="EPSG:3857", transform=from_origin(-2e6, 5e6, 100, 100),
                  photometric="RGB")
    ds = assert_matches_rioxarray(path)
    assert ds["0"].dims == ("band", "y", "x")


def test_tiled_cog_with_overviews_flat_and_nested(tmp_path):
    path = tmp_path / "cog.tif"
    data = np.arange(64 * 48, dtype="uint16").reshape(1, 48, 64) % 500 + 1
    with rasterio.open(path, "w", driver="COG", width=64, height=48, count=1, dtype="uint16", nodata=0,
                       crs="EPSG:32633", transform=from_origin(0, 0, 10, 10), overviews="AUTO",
                       overview_count=1) as dst:
        dst.write(data)
    # every IFD in the flat layout: one spatial_ref (of IFD 0), no x/y (the IFDs differ in size)
    store = VirtualTIFF()(url=file_url(path), registry=make_registry())
    group = zarr.open_group(store, mode="r", zarr_format=3)
    assert sorted(group.array_keys()) == ["0", "1", "spatial_ref"]
    assert group["0"].attrs["grid_mapping"] == "spatial_ref"
    assert "grid_mapping" not in group["1"].attrs
    # ifd=0: x/y
    single = open_virtual(path, VirtualTIFF(ifd=0))
    ref = rioxarray.open_rasterio(path, masked=True)
    np.testing.assert_array_equal(single.x.values, ref.x.values)
    # nested: every group its own georeferencing
    nested = VirtualTIFF(ifd_layout="nested")(url=file_url(path), registry=make_registry())
    level0 = xr.open_zarr(nested, group="0", zarr_format=3, consolidated=False)
    np.testing.assert_array_equal(level0.y.values, ref.y.values)
    assert level0.rio.crs == CRS.from_epsg(32633)
    tree = xr.open_datatree(nested, engine="zarr", zarr_format=3, consolidated=False)
    assert "spatial_ref" in tree["0"].coords and "spatial_ref" in tree["1"].coords
    # the overview IFD has no GeoKeys of its own: georeferenced from IFD 0 as rasterio's overview_level=0
    ref_ovr = rioxarray.open_rasterio(path, masked=True, overview_level=0)
    with rasterio.open(path, overview_level=0) as src:
        ovr_transform, ovr_crs = src.transform, src.crs
    for level1 in (xr.open_zarr(nested, group="1", zarr_format=3, consolidated=False),
                   open_virtual(path, VirtualTIFF(ifd=1))):
        assert level1.rio.crs == ovr_crs
        assert_transform(level1.rio.transform(), ovr_transform)
        np.testing.assert_allclose(level1.x.values, ref_ovr.x.values, rtol=0, atol=ATOL)
        np.testing.assert_allclose(level1.y.values, ref_ovr.y.values, rtol=0, atol=ATOL)
        np.testing.assert_array_equal(level1["1"].values, ref_ovr.values[0])
        assert "IFD 0" in level1["1"].attrs["georef_note"]


def test_parser_still_pickles_and_stores_no_state(tmp_path):
    path = tmp_path / "p.tif"
    write_geotiff(path)
    parser = VirtualTIFF()
    before = dict(vars(parser))
    parser(url=file_url(path), registry=make_registry())
    assert vars(parser) == before
    assert pickle.loads(pickle.dumps(parser)).ifd_layout == "flat"


def test_each_call_registers_its_own_memory_store(tmp_path):
    a, b = tmp_path / "a.tif", tmp_path / "b.tif"
    write_geotiff(a, transform=from_origin(0, 0, 1, 1))
    write_geotiff(b, transform=from_origin(100, 0, 1, 1))
    reg = make_registry()
    ds_a = xr.open_zarr(VirtualTIFF()(url=file_url(a), registry=reg), zarr_format=3, consolidated=False)
    ds_b = xr.open_zarr(VirtualTIFF()(url=file_url(b), registry=reg), zarr_format=3, consolidated=False)
    assert ds_a.x.values[0] == 0.5 and ds_b.x.values[0] == 100.5


def test_virtualizarr_loads_coordinates_and_spatial_ref(tmp_path):
    """Defaults load x/y and the computed spatial_ref (see virtual_geotiff.store); ``loadable_variables=[]``
    keeps spatial_ref virtual and chunkless (no reference to memory:// survives)."""
    virtualizarr = pytest.importorskip("virtualizarr")
    from virtualizarr.manifests import ManifestArray

    path = tmp_path / "v.tif"
    write_geotiff(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=make_registry(), parser=VirtualTIFF())
    assert isinstance(vds.x.data, np.ndarray) and isinstance(vds.y.data, np.ndarray)
    assert "spatial_ref" in vds.coords
    assert isinstance(vds.spatial_ref.data, np.ndarray) and vds.spatial_ref.item() == 0
    ref = rioxarray.open_rasterio(path)
    assert vds.rio.crs == ref.rio.crs
    np.testing.assert_array_equal(vds.x.values, ref.x.values)
    bare = virtualizarr.open_virtual_dataset(file_url(path), registry=make_registry(), parser=VirtualTIFF(),
                                             loadable_variables=[])
    marr = bare.spatial_ref.data
    assert isinstance(marr, ManifestArray)
    assert not list(marr.manifest.iter_nonempty_paths())


# ------------------------------------------------------------------------------------------------- CRS matrix

PROJECTIONS = {
    "utm": "EPSG:32633",
    "wgs84": "EPSG:4326",
    "nad27": "EPSG:4267",
    "web-mercator": "EPSG:3857",
    "state-plane-ftus": "EPSG:2263",
    "bng": "EPSG:27700",
    "swiss-lv95": "EPSG:2056",
    "antarctic-ps": "EPSG:3031",
    "arctic-ps": "EPSG:3413",
    "conus-albers": "EPSG:5070",
    "rd-new": "EPSG:28992",
    "laea-europe": "EPSG:3035",
    "ease2": "EPSG:6933",
    "esri-albers": "ESRI:102003",
    "lcc-2sp": "+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +x_0=0 +y_0=0 +datum=NAD83 +units=m",
    "lcc-1sp": "+proj=lcc +lat_1=40 +lat_0=40 +lon_0=-100 +k_0=0.999 +x_0=1000 +y_0=20 +ellps=GRS80 +units=m",
    "tmerc": "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m",
    "tmerc-intl": "+proj=tmerc +lat_0=10 +lon_0=17 +k=0.9999 +x_0=400000 +y_0=-10 +ellps=intl +units=m",
    "albers-usft": "+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +ellps=clrk66 "
                   "+units=us-ft",
    "polar-stereo-a": "+proj=stere +lat_0=90 +lon_0=-45 +k=0.994 +x_0=2000000 +y_0=2000000 +datum=WGS84",
    "polar-stereo-b": "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +k=1 +x_0=0 +y_0=0 +datum=WGS84",
    "polar-stereo-b-south": "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84",
    "mercator-1sp": "+proj=merc +lon_0=0 +k=1 +x_0=0 +y_0=0 +ellps=WGS84",
    "mercator-2sp": "+proj=merc +lat_ts=33 +lon_0=10 +x_0=0 +y_0=0 +ellps=WGS84",
    "laea": "+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80",
    "eqc": "+proj=eqc +lat_ts=30 +lon_0=10 +x_0=0 +y_0=0 +datum=WGS84",
    "oblique-stereo": "+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 "
                      "+x_0=155000 +y_0=463000 +ellps=bessel",
    "stereo": "+proj=stere +lat_0=40 +lon_0=10 +k=0.9 +x_0=0 +y_0=0 +datum=WGS84",
    "cassini": "+proj=cass +lat_0=10 +lon_0=20 +x_0=100 +y_0=200 +ellps=clrk80",
    "polyconic": "+proj=poly +lat_0=10 +lon_0=20 +x_0=100 +y_0=200 +ellps=WGS84",
    "orthographic": "+proj=ortho +lat_0=10 +lon_0=20 +x_0=0 +y_0=0 +ellps=WGS84",
    "sinusoidal-modis": "+proj=sinu +lon_0=0 +x_0=0 +y_0=0 +R=6371007.181 +units=m",
    "robinson": "+proj=robin +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84",
    "van-der-grinten": "+proj=vandg +lon_0=0 +x_0=0 +y_0=0 +R=6371000",
    "gnomonic": "+proj=gnom +lat_0=10 +lon_0=20 +x_0=0 +y_0=0 +datum=WGS84",
    "miller": "+proj=mill +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84",
    "azimuthal-equidistant": "+proj=aeqd +lat_0=10 +lon_0=20 +x_0=0 +y_0=0 +datum=WGS84",
    "equidistant-conic": "+proj=eqdc +lat_0=0 +lon_0=0 +lat_1=20 +lat_2=60 +x_0=0 +y_0=0 +datum=WGS84",
    "cylindrical-equal-area": "+proj=cea +lat_ts=30 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84",
    "nzmg": "EPSG:27200",
    "tm-south-orientated": "EPSG:2053",
    "hotine-a": "+proj=omerc +lat_0=4 +lonc=102.25 +alpha=323.0257905 +k=0.99984 +x_0=804671 +y_0=0 +no_uoff "
                "+gamma=323.1301023611111 +ellps=evrst69",
    "hotine-b": "+proj=omerc +lat_0=4 +lonc=102.25 +alpha=323.0257905 +k=0.99984 +x_0=804671 +y_0=0 "
                "+gamma=323.1301023611111 +ellps=evrst69",
    "geographic-custom-ellipsoid": "+proj=longlat +ellps=intl +no_defs",
    "geographic-paris-meridian": "+proj=longlat +ellps=clrk80ign +pm=paris +no_defs",
    "geographic-sphere": "+proj=longlat +R=6371000 +no_defs",
    "geographic-towgs84": "+proj=longlat +ellps=intl +towgs84=-87,-98,-121 +no_defs",
    "utm-nad83-proj": "+proj=utm +zone=15 +datum=NAD83 +units=m",
    "compound-geotiff-1.1": "EPSG:32633+5773",
    "geographic-3d": "EPSG:4979",
}


@pytest.mark.parametrize("crs", list(PROJECTIONS.values()), ids=list(PROJECTIONS))
def test_crs_equals_rasterio(tmp_path, crs):
    path = tmp_path / "crs.tif"
    write_geotiff(path, crs=crs, dtype="uint8")
    ifd = read_local_header(path).ifds[0]
    ours = crs_from_geotags(ifd.geo, where=str(path))
    assert ours == rasterio_crs(path)
    assert georeference(ifd).status == "full"
    with rasterio.open(path) as src:  # and through xarray: the spatial_ref WKT2 reads back in rasterio
        assert open_virtual(path).rio.crs == src.crs


# ------------------------------------------------------------------------------------------------- hand-made GeoKeys


def write_tags(path: Path, *, scale=None, tie=None, matrix=None, keys=None, doubles=None, minor=0,
               nodata: str | None = None) -> None:
    extra = []
    if nodata is not None:
        extra.append((42113, 2, 0, nodata, True))
    if scale is not None:
        extra.append((33550, 12, len(scale), scale, True))
    if tie is not None:
        extra.append((33922, 12, len(tie), tie, True))
    if matrix is not None:
        extra.append((34264, 12, 16, matrix, True))
    if keys is not None:
        directory = geokey_directory(keys, minor)
        extra.append((34735, 3, len(directory), directory, True))
    if doubles:
        extra.append((34736, 12, len(doubles), doubles, True))
    tifffile.imwrite(path, np.arange(20, dtype="uint8").reshape(4, 5), extratags=extra, metadata=None)


UTM = [(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633)]
MATRIX = [2, 0.5, 0, 300, 0.25, -3, 0, 400, 0, 0, 0, 0, 0, 0, 0, 1]

GDAL_CASES = {
    "negative-scale-y-is-north-up": {"scale": [10, -10, 0], "tie": TIE, "keys": UTM},
    "first-of-several-tiepoints": {"scale": [10, 10, 0], "tie": [*TIE, 4, 5, 0, 140, 150, 0], "keys": UTM},
    "scale-without-tiepoint": {"scale": [10, 10, 0], "keys": UTM},
    "scale-wins-over-matrix": {"scale": [10, 10, 0], "tie": TIE, "matrix": MATRIX, "keys": UTM},
    "sheared-matrix": {"matrix": MATRIX, "keys": UTM},
    "matrix-pixel-is-point": {"matrix": MATRIX, "keys": [(1024, 0, 1, 1), (1025, 0, 1, 2), (3072, 0, 1, 32633)]},
    "tiepoint-off-origin": {"scale": [10, 10, 0], "tie": [0.5, 0.5, 0, 100, 200, 0], "keys": UTM},
    "epsg-with-foot-units": {"scale": [10, 10, 0], "tie": TIE, "keys": [*UTM, (3076, 0, 1, 9002)]},
    "no-model-type": {"scale": [10, 10, 0], "tie": TIE, "keys": [(3072, 0, 1, 32633)]},
    "unknown-raster-type-is-area": {"scale": [10, 10, 0], "tie": TIE,
                                    "keys": [(1024, 0, 1, 1), (1025, 0, 1, 3), (3072, 0, 1, 32633)]},
    "transform-without-keys": {"scale": [10, 10, 0], "tie": TIE},
    "geographic-model-naming-a-pcs": {"scale": [1, 1, 0], "tie": TIE,
                                      "keys": [(1024, 0, 1, 2), (1025, 0, 1, 1), (3072, 0, 1, 32633)]},
    "projected-model-without-projection": {"scale": [10, 10, 0], "tie": TIE,
                                           "keys": [(1024, 0, 1, 1), (1025, 0, 1, 1), (2048, 0, 1, 4326)]},
    "towgs84-ignored-next-to-epsg-datum": {"scale": [1, 1, 0], "tie": TIE, "doubles": [-8.0, 160.0, 176.0],
                                           "keys": [(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267),
                                                    (2062, 34736, 3, 0)]},
    "towgs84-7-params-on-user-datum": {
        "scale": [1, 1, 0], "tie": TIE, "doubles": [6378388.0, 297.0, -87.0, -98.0, -121.0, 1, 2, 3, 4],
        "keys": [(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2050, 0, 1, 32767), (2054, 0, 1, 9102),
                 (2056, 0, 1, 32767), (2057, 34736, 1, 0), (2059, 34736, 1, 1), (2062, 34736, 7, 2)]},
    "user-geographic-epsg-datum": {"scale": [1, 1, 0], "tie": TIE,
                                   "keys": [(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767),
                                            (2050, 0, 1, 6267)]},
    "vertical-geotiff-1.0-not-reported": {"scale": [10, 10, 0], "tie": TIE, "keys": [*UTM, (4096, 0, 1, 5773)]},
    "vertical-geotiff-1.1-compound": {"scale": [10, 10, 0], "tie": TIE, "keys": [*UTM, (4096, 0, 1, 5773)],
                                      "minor": 1},
}


@pytest.mark.parametrize("tags", list(GDAL_CASES.values()), ids=list(GDAL_CASES))
def test_hand_made_geokeys_read_as_gdal_reads_them(tmp_path, tags):
    path = tmp_path / "keys.tif"
    write_tags(path, **tags)
    ifd = read_local_header(path).ifds[0]
    georef = georeference(ifd, str(path))
    with rasterio.open(path) as src:
        assert_transform(georef.transform, src.transform.to_gdal())
    assert georef.crs == rasterio_crs(path)


def test_vertical_crs_of_geotiff_1_0_is_kept_as_attribute(tmp_path):
    path = tmp_path / "vertical.tif"
    write_tags(path, **GDAL_CASES["vertical-geotiff-1.0-not-reported"])
    ds = open_virtual(path)
    assert pyproj.CRS.from_wkt(ds["0"].attrs["vertical_crs_wkt"]) == pyproj.CRS.from_epsg(5773)
    compound = crs_from_geokeys(read_local_header(path).ifds[0].geo.geo_keys, compound=True)
    assert compound == pyproj.CRS.from_user_input("EPSG:32633+5773")


def test_gcps_are_reported_not_interpolated(tmp_path):
    path = tmp_path / "gcps.tif"
    write_tags(path, tie=[*TIE, 4, 3, 0, 140, 150, 0], keys=UTM)
    with rasterio.open(path) as src:
        assert len(src.gcps[0]) == 2
    ds = open_virtual(path)
    attrs = ds["0"].attrs
    assert attrs["georef_status"] == "none"
    assert "ground control point" in attrs["georef_note"]
    assert "spatial_ref" not in ds.variables and "x" not in ds.coords


@pytest.mark.parametrize(
    ("keys", "doubles", "label"),
    [
        ([(1024, 0, 1, 2), (2048, 0, 1, 9999)], None, "GeographicTypeGeoKey (2048)=9999"),
        ([(1024, 0, 1, 2), (2048, 0, 1, 32767), (2050, 0, 1, 32767)], None, "GeogGeodeticDatumGeoKey (2050)"),
        ([(1024, 0, 1, 3), (2048, 0, 1, 32767)], None, "GTModelTypeGeoKey (1024)=3"),
    ],
    ids=["unknown-gcs", "user-datum-without-ellipsoid", "user-geocentric"],
)
def test_uninterpretable_keys_warn_naming_the_key_and_keep_the_pixels(tmp_path, keys, doubles, label):
    """GDAL invents a WGS 84 ellipsoid for these ("unretrievable - using WGS84"); we give no CRS, never a guess,
    but the pixels, the transform and the x/y coordinates are all there."""
    path = tmp_path / "bad.tif"
    write_tags(path, scale=[1, 1, 0], tie=TIE, keys=keys, doubles=doubles)
    with pytest.warns(GeoreferencingWarning, match=label.replace("(", r"\(").replace(")", r"\)")):
        ds = open_virtual(path)
    attrs = ds["0"].attrs
    assert attrs["georef_status"] == "transform-only"
    assert label in attrs["georef_note"]
    np.testing.assert_array_equal(ds["0"].values, tifffile.imread(path))
    with rasterio.open(path) as src:
        assert_transform(ds.rio.transform(), src.transform)
    assert "crs_wkt" not in ds.spatial_ref.attrs


# ------------------------------------------------------------------------------------------------- pure functions


@pytest.mark.parametrize(
    ("text", "dtype", "expected"),
    [
        ("-9999", "int16", -9999),
        ("255", "uint8", 255),
        ("-9999.0", "int32", -9999),
        ("9223372036854775807", "int64", 9223372036854775807),
        ("18446744073709551615", "uint64", 18446744073709551615),
        ("nan", "float32", np.nan),
        ("-nan", "float64", np.nan),
        ("inf", "float32", np.inf),
        ("-inf", "float64", -np.inf),
        ("-3.4028234663852886e+38", "float32", np.float32(-3.4028234663852886e38)),
        ("0.1", "float32", np.float32(0.1)),
        (" 0 \x00", "uint16", 0),
        ("", "uint8", None),
        (None, "uint8", None),
    ],
)
def test_parse_nodata(text, dtype, expected):
    value = parse_nodata(text, np.dtype(dtype))
    if expected is None:
        assert value is None
        return
    assert value.dtype == np.dtype(dtype)
    if isinstance(expected, float) and np.isnan(expected):
        assert np.isnan(value)
    else:
        assert value == expected


@pytest.mark.parametrize(("text", "dtype"), [("-9999", "uint8"), ("256", "uint8"), ("1.5", "int16"),
                                             ("1e40", "float32"), ("abc", "float32"), ("nan", "int16"),
                                             ("1", "complex64")])
def test_unusable_nodata_is_dropped_with_a_warning(text, dtype):
    with pytest.warns(NodataWarning):
        assert parse_nodata(text, np.dtype(dtype)) is None


def test_out_of_range_nodata_masks_nothing_like_gdal(tmp_path):
    path = tmp_path / "oor.tif"
    write_tags(path, scale=[1, 1, 0], tie=TIE, keys=UTM, nodata="-9999")
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags[42113].value == "-9999"
    with rasterio.open(path) as src:
        assert src.nodata is None  # GDAL drops it too
    with pytest.warns(NodataWarning):
        ds = open_virtual(path)
    assert "_FillValue" not in ds["0"].attrs
    ref = rioxarray.open_rasterio(path, masked=True)
    np.testing.assert_array_equal(ds["0"].values, ref.values[0])


def test_fill_value_attribute_encoding_is_xarrays():
    from xarray.backends.zarr import FillValueCoder

    for value, dtype in [(np.float32(np.nan), "float32"), (-9999.5, "float64"), (np.int16(-1), "int16")]:
        encoded = encode_fill_value_attr(value, np.dtype(dtype))
        assert encoded == FillValueCoder.encode(value, np.dtype(dtype))


def test_gdal_metadata_parsing():
    xml = """<GDALMetadata>
      <Item name="AREA">x</Item>
      <Item name="units">dropped: reserved</Item>
      <Item name="TILING" domain="TILING_SCHEME">ignored</Item>
      <Item name="SCALE" sample="0" role="scale">2</Item>
      <Item name="SCALE" sample="1" role="scale">2</Item>
      <Item name="OFFSET" sample="0" role="offset">-1</Item>
      <Item name="OFFSET" sample="1" role="offset">-1</Item>
      <Item name="DESCRIPTION" sample="1" role="description">b2</Item>
      <Item name="STATISTICS_MEAN" sample="0">1.5</Item>
      <Item name="STATISTICS_MEAN" sample="1">1.5</Item>
    </GDALMetadata>"""
    attrs = metadata_attributes(parse_gdal_metadata(xml), 2)
    assert attrs == {"AREA": "x", "scale_factor": 2.0, "add_offset": -1.0, "long_name": ["", "b2"],
                     "STATISTICS_MEAN": "1.5"}
    with pytest.warns(GdalMetadataWarning):
        assert metadata_attributes(parse_gdal_metadata("<GDALMetadata><Item"), 1) == {}


def test_pixel_centers_are_rioxarrays():
    from rioxarray.rioxarray import affine_to_coords

    gt = (123456.789, 0.1, 0.0, 9876543.21, 0.0, -0.3)
    x, y = pixel_centers(gt, 1001, 777)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = affine_to_coords(Affine.from_gdal(*gt), 1001, 777)
    np.testing.assert_array_equal(x, ref["x"])
    np.testing.assert_array_equal(y, ref["y"])
    with pytest.raises(ValueError, match="rotation"):
        pixel_centers((0, 1, 0.5, 0, 0.5, -1), 3, 3)


def test_georef_status_classification():
    assert georef_status((0, 1, 0, 0, 0, -1), True) == "full"
    assert georef_status((0, 1, 0, 0, 0, -1), False) == "transform-only"
    assert georef_status((0, 1, 0.1, 0, 0, -1), True) == "rotated"
    assert georef_status(None, True) == "crs-only"
    assert georef_status(None, False) == "none"


def test_point_geo_ignore_option():
    from virtual_geotiff.tiff.reader import GeoTags

    geo = GeoTags(model_pixel_scale=(2.0, 2.0, 0.0), model_tiepoint=(0, 0, 0, 10.0, 20.0, 0),
                  geo_keys={"raster_type": 2})
    assert geotransform(geo) == (9.0, 2.0, 0.0, 21.0, 0.0, -2.0)
    assert geotransform(geo, point_geo_ignore=True) == (10.0, 2.0, 0.0, 20.0, 0.0, -2.0)


# ------------------------------------------------------------------------------------------------- corpus


def _is_geotiff(path: Path) -> bool:
    with tifffile.TiffFile(path) as tif:
        return tif.is_geotiff


CORPUS_FILES = corpus_files(_is_geotiff)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus is absent (or holds no GeoTIFF)")
@pytest.mark.parametrize("path", CORPUS_FILES, ids=[p.name for p in CORPUS_FILES])
def test_corpus_geotiff_matches_rasterio(path):
    georef = georeference(read_local_header(path).ifds[0], str(path))
    with rasterio.open(path) as src:
        expected_crs = rasterio_crs(path)
        if src.transform.is_identity and not src.gcps[0]:
            assert georef.transform is None
        else:
            assert_transform(georef.transform, src.transform.to_gdal())
    assert georef.crs == expected_crs


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "async-tiff" / "fixtures__image-tiff__geo-5b.tif").exists(),
                    reason="../shared/corpus is absent")
def test_corpus_geo_5b_opens_like_rioxarray():
    path = CORPUS / "async-tiff" / "fixtures__image-tiff__geo-5b.tif"
    assert_matches_rioxarray(path)


@pytest.mark.parametrize("mask_and_scale", [True, False], ids=["masked", "raw"])
def test_rio_to_raster_round_trip(tmp_path, mask_and_scale):
    path, out = tmp_path / "in.tif", tmp_path / "out.tif"
    data = np.arange(35, dtype="int16").reshape(1, 5, 7)
    data[0, 1, 1] = -9999
    write_geotiff(path, dtype="int16", data=data, nodata=-9999)
    ds = open_virtual(path, mask_and_scale=mask_and_scale)
    ds["0"].rio.to_raster(out)
    with rasterio.open(out) as got, rasterio.open(path) as want:
        assert got.crs == want.crs
        assert_transform(got.transform, want.transform)
        assert got.nodata == want.nodata and got.dtypes == want.dtypes
        np.testing.assert_array_equal(got.read(), want.read())
