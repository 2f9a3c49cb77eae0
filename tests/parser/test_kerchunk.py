"""Kerchunk export of a cube: JSON and parquet references read back (Zarr v2 through fsspec) equal rasterio;
codecs that Zarr v2 cannot express are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.support.cli import run_cli
from tests.support.cube import RES, TILE, X0, Y0, rasterio_mosaic, write_grid
from tests.support.helpers import make_registry
from virtual_geotiff.cube import open_virtual_cube
from virtual_geotiff.kerchunk import KerchunkExportError

pytest.importorskip("kerchunk")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
DATES = ("20240101", "20240102")


def _open(fo) -> xr.Dataset:
    return xr.open_dataset("reference://", engine="zarr", zarr_format=2, chunks=None,
                           backend_kwargs={"consolidated": False,
                                           "storage_options": {"fo": fo, "remote_protocol": "file"}})


@pytest.mark.parametrize("fmt", ["json", "parquet"])
def test_kerchunk_roundtrip(tmp_path, fmt):
    paths = write_grid(tmp_path / "tifs", 2, 2, DATES, nodata=65_535)
    cube = open_virtual_cube(paths, make_registry(), stack_values=r"_(\d{8})_", stack_format="%Y%m%d")
    target = tmp_path / f"refs.{fmt}"
    cube.to_kerchunk(target, format=fmt)
    ds = _open(str(target))
    assert ds["data"].dims == ("time", "y", "x") and ds["data"].encoding["_FillValue"] == 65_535
    assert ds.spatial_ref.values == 0 and "crs_wkt" in ds.spatial_ref.attrs
    np.testing.assert_array_equal(ds.time.values, cube.dataset.time.values)
    np.testing.assert_array_equal(ds.x.values, cube.dataset.x.values)
    got = ds["data"].values
    for t, stamp in enumerate(DATES):
        files = [p for p in paths if stamp in p.name]
        expected = rasterio_mosaic(files, (2 * TILE, 2 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
        np.testing.assert_array_equal(got[t], expected)


def test_zero_is_data_without_nodata(tmp_path):
    """Zarr v2's fill_value is xarray's missing-value marker: without nodata it must not be 0."""
    paths = write_grid(tmp_path, 1, 1)
    refs = open_virtual_cube(paths, make_registry()).to_kerchunk()
    ds = _open(refs)
    assert ds["data"].dtype == np.uint16 and ds["data"].values[0, 0] == 0


def test_codecs_without_zarr_v2_form_are_refused(tmp_path):
    predictor = write_grid(tmp_path / "pred", 1, 1)
    import rasterio

    with rasterio.open(predictor[0]) as src:
        profile, data = src.profile, src.read()
    profile.update(predictor=2)
    with rasterio.open(predictor[0], "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(KerchunkExportError, match=r"data: virtual_geotiff\.horizontal_predictor"):
        open_virtual_cube(predictor, make_registry()).to_kerchunk()
    chunky = write_grid(tmp_path / "rgb", 1, 1, count=3, interleave="pixel")
    with pytest.raises(KerchunkExportError, match="transpose"):
        open_virtual_cube(chunky, make_registry()).to_kerchunk(tmp_path / "x.json", format="json")
    assert not (tmp_path / "x.json").exists()


def test_cli_build_parquet_reads_zeros_as_data(tmp_path):
    """``virtual-geotiff build --to refs.parquet`` goes through the same export (scalar key, no 0 mask)."""
    paths = write_grid(tmp_path / "tifs", 1, 2)
    out = tmp_path / "refs.parquet"
    result = run_cli("build", *map(str, paths), "--to", str(out), "--no-progress", timeout=120)
    assert result.returncode == 0, result.stderr
    ds = _open(str(out))
    assert ds["data"].dtype == np.uint16 and ds["data"].values[0, 0] == 0
    expected = rasterio_mosaic(paths, (TILE, 2 * TILE), (X0, RES, 0.0, Y0, 0.0, -RES))
    np.testing.assert_array_equal(ds["data"].values, expected)
