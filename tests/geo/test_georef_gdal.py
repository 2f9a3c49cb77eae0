"""GeoKeys GDAL reads in its own way: user-defined models (ESRI PE strings), projections PROJ knows but the
GeoTIFF mapping table did not, keys overriding the parts of an EPSG code, and problems that must never block
the pixels.

Every file is written at test time: by rasterio (GDAL 3.12) where GDAL can write the case, else by tifffile
with hand-made GeoKeyDirectory/GeoDoubleParams/GeoAsciiParams tags. Each is compared with what rasterio reads:
CRS (pyproj equality), transform, x/y coordinates, nodata and the decoded (masked) values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import rioxarray
import tifffile
from rasterio.crs import CRS
from rasterio.transform import from_origin

from tests.support.geo import ATOL, TIE, assert_transform, geokey_directory, rasterio_crs
from tests.support.helpers import open_virtual, read_local_header
from virtual_geotiff.geo import GeoreferencingWarning, georeference
from virtual_geotiff.geo.crs import ESRI_PE_PREFIX

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]


def write_keys(path: Path, keys: list[tuple[int, int, int, int]], *, doubles: list[float] | None = None,
               ascii_params: str | None = None, nodata: str | None = "3", scale=(10.0, 10.0, 0.0)) -> np.ndarray:
    """A 5 x 7 int16 GeoTIFF with exactly these GeoKeys (GDAL would not write most of them)."""
    directory = geokey_directory(keys)
    extra = [(33550, 12, 3, list(scale), True), (33922, 12, 6, TIE, True),
             (34735, 3, len(directory), directory, True)]
    if doubles:
        extra.append((34736, 12, len(doubles), doubles, True))
    if ascii_params is not None:
        extra.append((34737, 2, 0, ascii_params, True))
    if nodata is not None:
        extra.append((42113, 2, 0, nodata, True))
    data = np.arange(35, dtype="int16").reshape(5, 7)
    tifffile.imwrite(path, data, extratags=extra, metadata=None)
    return data


def ascii_key(key: int, text: str, offset: int = 0) -> tuple[tuple[int, int, int, int], str]:
    """A GeoAsciiParams entry (the text with its ``|`` terminator) for ``key``."""
    value = text + "|"
    return (key, 34737, len(value), offset), value


def assert_like_rasterio(path: Path) -> None:
    """CRS, transform, coordinates, nodata and masked values of the virtual dataset equal rasterio's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeoreferencingWarning)
        ds = open_virtual(path)
    ref = rioxarray.open_rasterio(path, masked=True)
    with rasterio.open(path) as src:
        assert pyproj.CRS.from_wkt(ds.spatial_ref.attrs["crs_wkt"]) == rasterio_crs(path)
        assert_transform(ds.rio.transform(), src.transform)
        nodata = src.nodata
    np.testing.assert_allclose(ds.x.values, ref.x.values, rtol=0, atol=ATOL)
    np.testing.assert_allclose(ds.y.values, ref.y.values, rtol=0, atol=ATOL)
    assert ds["0"].encoding.get("_FillValue") == nodata
    np.testing.assert_array_equal(ds["0"].values, ref.values[0])


# ------------------------------------------------------------------------------------------------- class 2


PE_UTM = ('PROJCS["NAD_1983_UTM_Zone_10N",GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",'
          'SPHEROID["GRS_1980",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],'
          'PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
          'PARAMETER["Central_Meridian",-123.0],PARAMETER["Scale_Factor",0.9996],'
          'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]')
PE_GEOS = ('PROJCS["unnamed",GEOGCS["unnamed",DATUM["unknown",SPHEROID["unnamed",6378169,295.488065897001]],'
           'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Geostationary_Satellite"],'
           'PARAMETER["central_meridian",0],PARAMETER["satellite_height",35785831],PARAMETER["false_easting",0],'
           'PARAMETER["false_northing",0],UNIT["Meter",1]]')
USER_MODEL = [(1024, 0, 1, 32767), (1025, 0, 1, 1)]


@pytest.mark.parametrize(
    ("key", "wkt"),
    [(3073, PE_UTM), (3073, PE_GEOS), (1026, PE_UTM), (2049, PE_UTM)],
    ids=["pcs-citation-utm", "pcs-citation-geos", "gt-citation", "geog-citation"],
)
def test_user_defined_model_reads_the_crs_gdal_reads(tmp_path, key, wkt):
    """GDAL takes the CRS from an ``ESRI PE String = `` PCSCitationGeoKey; in the other citations it only names
    a LOCAL_CS. Either way the file opens, equal to rasterio."""
    path = tmp_path / "pe.tif"
    entry, text = ascii_key(key, ESRI_PE_PREFIX + wkt)
    write_keys(path, [*USER_MODEL, entry], ascii_params=text)
    assert_like_rasterio(path)


def test_user_defined_model_without_citation_is_gdals_local_cs_with_a_warning(tmp_path):
    path = tmp_path / "local.tif"
    entry, text = ascii_key(1026, "my grid")
    write_keys(path, [*USER_MODEL, entry], ascii_params=text)
    with pytest.warns(GeoreferencingWarning, match=r"GTModelTypeGeoKey \(1024\)=32767"):
        georef = georeference(read_local_header(path).ifds[0], str(path))
    assert georef.status == "full" and "local (engineering) CRS" in georef.note
    assert_like_rasterio(path)


@pytest.mark.parametrize("flavor", ["ESRI_PE", "STANDARD"])
@pytest.mark.parametrize("crs", ["+proj=geos +h=35785831 +lon_0=0 +sweep=y +a=6378169 +b=6356583.8 +units=m",
                                 "EPSG:32633", "+proj=longlat +ellps=IAU76"], ids=["geos", "utm", "iau76"])
def test_gdal_written_esri_pe_strings(tmp_path, crs, flavor):
    path = tmp_path / "gdal.tif"
    with rasterio.open(path, "w", driver="GTiff", width=7, height=5, count=1, dtype="int16", nodata=3,
                       crs=CRS.from_user_input(crs), transform=from_origin(0, 10, 1, 1),
                       GEOTIFF_KEYS_FLAVOR=flavor) as dst:
        dst.write(np.arange(35, dtype="int16").reshape(1, 5, 7))
    assert_like_rasterio(path)


def test_unreadable_esri_pe_string_keeps_the_pixels(tmp_path):
    path = tmp_path / "bad-pe.tif"
    entry, text = ascii_key(3073, ESRI_PE_PREFIX + "PROJCS[nonsense")
    data = write_keys(path, [*USER_MODEL, entry], ascii_params=text)
    with pytest.warns(GeoreferencingWarning, match=r"PCSCitationGeoKey \(3073\)"):
        ds = open_virtual(path)
    assert ds["0"].attrs["georef_status"] == "transform-only"
    np.testing.assert_array_equal(ds["0"].values, np.where(data == 3, np.nan, data))
    with rasterio.open(path) as src:
        assert_transform(ds.rio.transform(), src.transform)


# ------------------------------------------------------------------------------------------------- class 3

GCS_4326 = [(1024, 0, 1, 1), (1025, 0, 1, 1), (2048, 0, 1, 4326), (3072, 0, 1, 32767), (3074, 0, 1, 32767)]
LABORDE = ([*GCS_4326, (3075, 0, 1, 4), (3076, 0, 1, 9001), (3082, 34736, 1, 4), (3083, 34736, 1, 5),
            (3088, 34736, 1, 0), (3089, 34736, 1, 1), (3093, 34736, 1, 3), (3094, 34736, 1, 2)],
           [46.43722917, -18.9, 18.9, 0.9995, 400000.0, 800000.0])


@pytest.mark.parametrize(
    ("keys", "doubles"),
    [
        LABORDE,
        ([*GCS_4326, (3075, 0, 1, 3), (3088, 34736, 1, 0), (3089, 34736, 1, 1), (3094, 34736, 1, 2)],
         [7.4, 46.9, 90.0]),
    ],
    ids=["laborde-oblique-mercator", "hotine-without-grid-angle"],
)
def test_projections_proj_supports(tmp_path, keys, doubles):
    path = tmp_path / "proj.tif"
    write_keys(path, keys, doubles=doubles)
    assert_like_rasterio(path)


def test_gdal_written_laborde(tmp_path):
    path = tmp_path / "labrd.tif"
    crs = "+proj=labrd +lat_0=-18.9 +lon_0=46.43722917 +azi=18.9 +k=0.9995 +x_0=400000 +y_0=800000 +ellps=intl"
    with rasterio.open(path, "w", driver="GTiff", width=7, height=5, count=1, dtype="int16", nodata=3,
                       crs=CRS.from_user_input(crs), transform=from_origin(0, 10, 1, 1)) as dst:
        dst.write(np.arange(35, dtype="int16").reshape(1, 5, 7))
    assert_like_rasterio(path)


@pytest.mark.parametrize(
    ("keys", "label"),
    [
        ([*GCS_4326, (3075, 0, 1, 2)], r"ProjCoordTransGeoKey \(3075\)=2"),
        ([*GCS_4326, (3075, 0, 1, 5)], r"ProjCoordTransGeoKey \(3075\)=5"),
        ([*GCS_4326, (3075, 0, 1, 6)], r"ProjCoordTransGeoKey \(3075\)=6"),
        ([*GCS_4326, (3075, 0, 1, 4242)], r"ProjCoordTransGeoKey \(3075\)=4242"),
        ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 12345)], r"ProjectedCSTypeGeoKey \(3072\)=12345"),
        ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633), (3076, 0, 1, 4242)],
         r"ProjLinearUnitsGeoKey \(3076\)=4242"),
        ([(1024, 0, 1, 7), (1025, 0, 1, 1)], r"GTModelTypeGeoKey \(1024\)=7"),
    ],
    ids=["alaska-modified-tm", "rosenmund", "spherical-oblique-mercator", "unknown-method", "unknown-pcs",
         "unknown-unit", "unknown-model"],
)
def test_keys_gdal_reads_lossily_open_as_gdal_reads_them_with_a_warning(tmp_path, keys, label):
    path = tmp_path / "lossy.tif"
    write_keys(path, keys)
    with pytest.warns(GeoreferencingWarning, match=label):
        georeference(read_local_header(path).ifds[0], str(path))
    assert_like_rasterio(path)


# ------------------------------------------------------------------------------------------------- class 8

OVERRIDES = {
    # a dynamic EPSG geographic CRS (WGS 84) wins over every key that follows it, as in GDAL >= 3.5
    "4326-with-ellipsoid-code": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4326), (2056, 0, 1, 7022)], None),
    "4326-with-iau76-axes": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4326), (2056, 0, 1, 32767),
                              (2057, 34736, 1, 0), (2059, 34736, 1, 1)], [6378140.0, 298.257]),
    "4326-with-prime-meridian": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4326), (2051, 0, 1, 8903)], None),
    "4326-with-grads": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4326), (2054, 0, 1, 9105)], None),
    # other EPSG geographic CRSs take the overriding keys (libgeotiff's GTIFGetDefn)
    "4267-with-ellipsoid-code": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267), (2056, 0, 1, 7022)], None),
    "4269-with-iau76-axes": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4269), (2056, 0, 1, 32767),
                              (2057, 34736, 1, 0), (2059, 34736, 1, 1)], [6378140.0, 298.257]),
    "4267-with-semi-minor": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267), (2058, 34736, 1, 0)],
                             [6356000.0]),
    "4267-with-prime-meridian": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267), (2051, 0, 1, 8903)], None),
    "4267-with-user-prime-meridian": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267), (2051, 0, 1, 32767),
                                       (2061, 34736, 1, 0)], [2.5]),
    "4267-with-datum-code": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 4267), (2050, 0, 1, 6269)], None),
    # an EPSG projected CRS with geographic keys is built from its parts, the keys winning
    "32633-with-ellipsoid-code": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633), (2056, 0, 1, 7022)], None),
    "32633-with-gcs-and-iau76": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633), (2048, 0, 1, 4326),
                                  (2057, 34736, 1, 0), (2059, 34736, 1, 1)], [6378140.0, 298.257]),
    "26910-with-prime-meridian-and-gcs": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 26910), (2048, 0, 1, 4269),
                                           (2051, 0, 1, 8903)], None),
    "32633-semi-major-alone-is-ignored": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633),
                                           (2057, 34736, 1, 0)], [6378140.0]),
    "user-pcs-on-4326-with-iau76": ([*GCS_4326, (3075, 0, 1, 1), (2056, 0, 1, 32767), (2057, 34736, 1, 0),
                                     (2059, 34736, 1, 1), (3080, 34736, 1, 2)], [6378140.0, 298.257, 15.0]),
    # a user-defined geographic CRS: the ellipsoid keys override the EPSG datum's ellipsoid too
    "user-gcs-datum-and-ellipsoid-code": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2050, 0, 1, 6267),
                                           (2056, 0, 1, 7022)], None),
    "user-gcs-datum-and-semi-major": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2050, 0, 1, 6267),
                                       (2057, 34736, 1, 0)], [6378000.0]),
    "user-gcs-ellipsoid-code-only": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2056, 0, 1, 7022)],
                                     None),
    "user-gcs-ellipsoid-code-and-inv-flattening": ([(1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767),
                                                    (2056, 0, 1, 7022), (2059, 34736, 1, 0)], [300.0]),
    "user-pcs-user-gcs-datum-and-ellipsoid": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32767),
                                               (3074, 0, 1, 16033), (2048, 0, 1, 32767), (2050, 0, 1, 6267),
                                               (2056, 0, 1, 7022)], None),
    "user-pcs-on-4267-in-grads": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32767), (3074, 0, 1, 16033),
                                   (2048, 0, 1, 4267), (2054, 0, 1, 9105)], None),
    "south-oriented-tm": ([(1024, 0, 1, 1), (1025, 0, 1, 1), (2048, 0, 1, 4148), (3072, 0, 1, 32767),
                           (3074, 0, 1, 32767), (3075, 0, 1, 27), (3076, 0, 1, 9001), (3080, 34736, 1, 0),
                           (3081, 34736, 1, 1), (3092, 34736, 1, 2)], [25.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("case", list(OVERRIDES.values()), ids=list(OVERRIDES))
def test_overriding_keys_follow_gdals_precedence(tmp_path, case):
    keys, doubles = case
    path = tmp_path / "override.tif"
    write_keys(path, keys, doubles=doubles, scale=(0.5, 0.5, 0.0))
    assert_like_rasterio(path)


@pytest.mark.parametrize("crs", [
    "EPSG:2053",  # Hartebeesthoek94 / Lo29: south-oriented TM from the EPSG code
    "+proj=tmerc +lat_0=0 +lon_0=25 +k=1 +x_0=0 +y_0=0 +axis=wsu +ellps=WGS84 +units=m",
    "+proj=longlat +datum=WGS84 +pm=paris",
    "+proj=longlat +ellps=IAU76",
    "+proj=utm +zone=33 +ellps=IAU76 +units=m",
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["IAU76",6378140,298.257]],PRIMEM["Greenwich",0],'
    'UNIT["degree",0.0174532925199433]]',
], ids=["epsg-2053", "tmso-proj", "paris-meridian", "iau76", "utm-iau76", "wgs84-named-iau76"])
def test_gdal_written_overrides(tmp_path, crs):
    path = tmp_path / "gdal.tif"
    with rasterio.open(path, "w", driver="GTiff", width=7, height=5, count=1, dtype="int16", nodata=3,
                       crs=CRS.from_user_input(crs), transform=from_origin(0, 10, 0.5, 0.5)) as dst:
        dst.write(np.arange(35, dtype="int16").reshape(1, 5, 7))
    assert_like_rasterio(path)


# ------------------------------------------------------------------------------------------------- libgeotiff's

def _ascii(*items: tuple[int, str]) -> tuple[list[tuple[int, int, int, int]], str]:
    """GeoAsciiParams entries for several ASCII keys, packed one after the other."""
    entries, text = [], ""
    for key, value in items:
        entries.append((key, 34737, len(value) + 1, len(text)))
        text += value + "|"
    return entries, text


_PM_ASCII = _ascii((1026, "Just An Example"), (2049, "Everest Ellipsoid Used."))
_BLM_ASCII = _ascii((1026, "NAD27 / BLM 14N (ftUS)"), (2049, "NAD27"))
_CASSINI_ASCII = _ascii((1026, "unnamed"),
                        (2049, "GCS Name = unnamed ellipse|Datum = unknown|Ellipsoid = unnamed|Primem = Greenwich"))
_NZMG_ASCII = _ascii((1026, "unknown"), (2049, "GCS Name = unknown|Primem = Greenwich"))

#: Key sets of libgeotiff's test files (libgeotiff/test/data, as its listgeo test prints them).
LIBGEOTIFF = {
    "GeogPrimeMeridianGeoKey": ([(1024, 0, 1, 2), (2048, 0, 1, 32767), (2050, 0, 1, 32767), (2051, 0, 1, 8903),
                                 (2052, 0, 1, 9001), (2054, 0, 1, 9102), (2056, 0, 1, 7016), (2057, 34736, 1, 0),
                                 (2059, 34736, 1, 1), *_PM_ASCII[0]], [6377298.556, 300.8017], _PM_ASCII[1]),
    "GeogGeodeticDatumGeoKey": ([(1024, 0, 1, 2), (2048, 0, 1, 32767), (2050, 0, 1, 6742), (2052, 0, 1, 9001),
                                 (2054, 0, 1, 9102)], None, None),
    "GeogAngularUnitsGeoKey_9114": ([(1024, 0, 1, 2), (2048, 0, 1, 32767), (2050, 0, 1, 6742), (2052, 0, 1, 9001),
                                     (2054, 0, 1, 9114)], None, None),
    "ProjLinearUnitsGeoKey_9036": ([(1024, 0, 1, 1), (2054, 0, 1, 9102), (3072, 0, 1, 32064), (3076, 0, 1, 9036),
                                    *_BLM_ASCII[0]], None, _BLM_ASCII[1]),
    "pcs_32064": ([(1024, 0, 1, 1), (2054, 0, 1, 9102), (3072, 0, 1, 32064), (3076, 0, 1, 9003), *_BLM_ASCII[0]],
                  None, _BLM_ASCII[1]),
    "cassini_soldner": ([(1024, 0, 1, 1), (2048, 0, 1, 32767), (2050, 0, 1, 32767), (2054, 0, 1, 9102),
                         (2056, 0, 1, 32767), (2057, 34736, 1, 0), (2059, 34736, 1, 1), (2061, 34736, 1, 2),
                         (3072, 0, 1, 32767), (3074, 0, 1, 32767), (3075, 0, 1, 18), (3076, 0, 1, 9001),
                         (3080, 34736, 1, 3), (3081, 34736, 1, 4), (3082, 34736, 1, 5), (3083, 34736, 1, 6),
                         *_CASSINI_ASCII[0]],
                        [6378300.789, 293.46631553898, 0.0, 35.2120805555556, 31.7340969444444, 170251.555,
                         126867.909], _CASSINI_ASCII[1]),
    "new_zealand_mapping_grid": ([(1024, 0, 1, 1), (2048, 0, 1, 32767), (2050, 0, 1, 6272), (2054, 0, 1, 9102),
                                  (2057, 34736, 1, 0), (2059, 34736, 1, 1), (2061, 34736, 1, 2), (3072, 0, 1, 32767),
                                  (3074, 0, 1, 32767), (3075, 0, 1, 26), (3076, 0, 1, 9001), (3080, 34736, 1, 3),
                                  (3081, 34736, 1, 4), (3082, 34736, 1, 5), (3083, 34736, 1, 6), *_NZMG_ASCII[0]],
                                 [6378388.0, 297.0, 0.0, 173.0, -41.0, 2510000.0, 6023150.0], _NZMG_ASCII[1]),
}


@pytest.mark.parametrize("case", list(LIBGEOTIFF.values()), ids=list(LIBGEOTIFF))
def test_libgeotiff_test_key_sets(tmp_path, case):
    keys, doubles, text = case
    path = tmp_path / "libgeotiff.tif"
    write_keys(path, [(1025, 0, 1, 1), *keys], doubles=doubles, ascii_params=text)
    assert_like_rasterio(path)


# ------------------------------------------------------------------------------------------------- random key sets

_CODE_CHOICES = {
    2048: [4326, 4267, 4269, 4148, 32767, None], 2050: [6267, 6326, 32767, None, None],
    2056: [7022, 7030, 32767, None, None], 2051: [8901, 8903, 32767, None, None, None], 2054: [9102, None, None],
    3076: [9001, 9002, None],
}
_DOUBLE_CHOICES = {
    2057: [6378000.0, None, None], 2059: [300.0, 0.0, None, None], 2058: [6356000.0, None, None],
    2061: [2.5, None, None], 3080: [15.0, None], 3081: [10.0, None], 3092: [0.9996, None], 3082: [500000.0, None],
    3088: [12.0, None], 3089: [45.0, None], 3094: [30.0, None], 3078: [40.0, None], 3079: [50.0, None],
}
_GEOG_KEYS = {2048, 2050, 2056, 2051, 2054, 2057, 2059, 2058, 2061}


def random_key_set(rng: np.random.Generator) -> tuple[list[tuple[int, int, int, int]], list[float]]:
    """A geographic, EPSG-projected (with or without projection keys of its own) or user-projected key set with
    random overriding keys. Left out: grads (GDAL
    converts a prime meridian longitude given in grads more than once) and polar stereographic off the pole
    with a scale factor (GDAL's CRS there has no EPSG method)."""
    kind = rng.choice(["geographic", "epsg-projected", "user-projected"])
    epsg_projection = {3074: int(rng.choice([16033, 32767, 0])), 3075: int(rng.choice([1, 3, 8, 27, 0]))}
    fixed = {"geographic": {1024: 2}, "epsg-projected": {1024: 1, 3072: int(rng.choice([32633, 26910, 2053])),
                                                         **{k: v for k, v in epsg_projection.items() if v}},
             "user-projected": {1024: 1, 3072: 32767, 3074: 32767,
                                3075: int(rng.choice([1, 3, 4, 7, 8, 11, 14, 16, 27]))}}[kind]
    allowed = {"geographic": _GEOG_KEYS, "epsg-projected": _GEOG_KEYS | {3076} | set(_DOUBLE_CHOICES),
               "user-projected": set(_CODE_CHOICES) | set(_DOUBLE_CHOICES)}[kind]
    keys = [(1025, 0, 1, 1), *((k, 0, 1, v) for k, v in fixed.items())]
    doubles: list[float] = []
    for key, choices in _CODE_CHOICES.items():
        value = choices[rng.integers(len(choices))]
        if key in allowed and value is not None:
            keys.append((key, 0, 1, value))
    for key, choices in _DOUBLE_CHOICES.items():
        value = choices[rng.integers(len(choices))]
        if key in allowed and value is not None:
            keys.append((key, 34736, 1, len(doubles)))
            doubles.append(value)
    return keys, doubles


@pytest.mark.parametrize("seed", [20261206, 7, 1234])
def test_random_key_sets_read_as_gdal_or_not_at_all(tmp_path, seed):
    """Random combinations of overriding keys: the CRS equals rasterio's, or there is none (with a warning)
    exactly where GDAL invents a WGS 84 ellipsoid ("unretrievable - using WGS84"). Never another CRS."""
    rng = np.random.default_rng(seed)
    path = tmp_path / "random.tif"
    for case in range(40):
        keys, doubles = random_key_set(rng)
        write_keys(path, keys, doubles=doubles, nodata=None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ours = georeference(read_local_header(path).ifds[0], str(path)).crs
        expected = rasterio_crs(path)
        if ours is None:  # where GDAL invents an ellipsoid, or has no CRS either
            assert expected is None or "unretrievable" in expected.to_wkt(), (case, keys, doubles)
            assert any(issubclass(w.category, GeoreferencingWarning) for w in caught), (case, keys)
        else:
            assert ours == expected, (case, keys, doubles, expected.to_wkt(), ours.to_wkt())
