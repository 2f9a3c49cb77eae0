"""The kerchunk JSON export of portable files, read outside virtual-geotiff: by zarrita's ``ReferenceStore``
(Node, ``@zarrita/storage/ref``) and by GDAL's Zarr driver (rasterio 1.5, ``/vsikerchunk_json_ref/``).

Sources and the reference file are served over HTTP by the test range server; every read is compared with
rasterio's read of the source files, exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.support.js_node import RES, X0, Y0, ramp, read_with_node, require_node, write_geotiff
from virtual_geotiff.cube import open_virtual_cube
from virtual_geotiff.kerchunk import to_kerchunk

rasterio = pytest.importorskip("rasterio")

from rasterio.transform import from_origin  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
#: GDAL opens a kerchunk JSON reference file through its Zarr driver with this prefix (GDAL >= 3.11).
GDAL_ENV = {"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR", "GDAL_HTTP_TIMEOUT": "30"}




def deflate_grid(www: Path) -> list[tuple[Path, int, int]]:
    """A 2 x 2 grid of Deflate COG-like tiles (no predictor), stitched into one (y, x) array."""
    placed = []
    for r in range(2):
        for c in range(2):
            path = www / f"grid_r{r}_c{c}.tif"
            write_geotiff(path, ramp((1, 64, 64), "u2", 10 * r + c), col=c, row=r, tiled=True, blockxsize=32,
                          blockysize=32, compress="deflate")
            placed.append((path, r, c))
    return placed


def zstd_float_strips(www: Path) -> list[tuple[Path, int, int]]:
    write_geotiff(www / "zstd.tif", ramp((1, 48, 30), "f4", 3), compress="zstd", blockysize=16)
    return [(www / "zstd.tif", 0, 0)]


def band_separate(www: Path) -> list[tuple[Path, int, int]]:
    write_geotiff(www / "bands.tif", ramp((3, 32, 40), "i2", 4), tiled=True, blockxsize=16, blockysize=16,
                  compress="deflate", interleave="band")
    return [(www / "bands.tif", 0, 0)]


CASES = {"deflate_cog_grid": deflate_grid, "zstd_float32_strips": zstd_float_strips,
         "deflate_band_separate_int16": band_separate}


def rasterio_mosaic(placed: list[tuple[Path, int, int]]) -> np.ndarray:
    """rasterio's reads of equally sized files at their grid positions; (y, x) for one band."""
    reads = [(rasterio.open(p).read(), r, c) for p, r, c in placed]
    bands, h, w = reads[0][0].shape
    rows, cols = 1 + max(r for _, r, _ in reads), 1 + max(c for _, _, c in reads)
    out = np.zeros((bands, rows * h, cols * w), reads[0][0].dtype)
    for data, r, c in reads:
        out[:, r * h:(r + 1) * h, c * w:(c + 1) * w] = data
    return out[0] if bands == 1 else out


def export(tmp_path: Path, server, case: str) -> tuple[np.ndarray, Path, str]:
    """Write the case's files, build the cube over HTTP and export kerchunk JSON; returns rasterio's read of the
    files, the reference file and its URL."""
    www = tmp_path / "www"
    www.mkdir()
    placed = CASES[case](www)
    cube = open_virtual_cube([server.url_for(p) for p, _, _ in placed], server.registry())
    assert cube.dataset.attrs["virtual_geotiff"]["portable"] is True
    refs = tmp_path / "refs.json"
    to_kerchunk(cube.dataset, refs, format="json")
    return rasterio_mosaic(placed), refs, server.url_for(refs)


@pytest.fixture(scope="module")
def node():
    require_node()


@pytest.mark.parametrize("case", list(CASES))
def test_zarrita_reference_store_reads_kerchunk_exactly(case, tmp_path, http_server, node):
    expected, _refs, url = export(tmp_path, http_server, case)
    got = read_with_node({"kerchunk": url}, {"/data": None}, tmp_path)["/data"]
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected, strict=True)


@pytest.mark.parametrize("case", list(CASES))
def test_gdal_zarr_driver_reads_kerchunk_exactly(case, tmp_path, http_server):
    expected, refs, _url = export(tmp_path, http_server, case)
    with rasterio.Env(**GDAL_ENV), rasterio.open(f'ZARR:"/vsikerchunk_json_ref/{{{refs}}}":/data') as src:
        got = src.read()
        assert src.crs == rasterio.crs.CRS.from_epsg(32633)
        assert src.transform == from_origin(X0, Y0, RES, RES)
    np.testing.assert_array_equal(got if expected.ndim == 3 else got[0], expected, strict=True)
