"""Sample types outside the conformance matrix: complex128 (GDAL CFloat64) read exactly; complex integers
(GDAL CInt16/CInt32) refused by name."""

from __future__ import annotations

import numpy as np
import obstore
import pytest
import rasterio
import tifffile
import zarr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import UnsupportedTiffError, VirtualTIFF

pytestmark = [pytest.mark.timeout(60), pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")]


@pytest.fixture
def registry() -> ObjectStoreRegistry:
    return ObjectStoreRegistry({"file://": obstore.store.LocalStore()})


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_float_matches_rasterio_and_tifffile(tmp_path, registry, dtype):
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((37, 53)) + 1j * rng.standard_normal((37, 53))).astype(dtype)
    path = tmp_path / "c.tif"
    with rasterio.open(path, "w", driver="GTiff", width=53, height=37, count=1, dtype=dtype, tiled=True,
                       blockxsize=16, blockysize=16, compress="deflate") as ds:
        ds.write(data, 1)
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    ours = zarr.open_group(store, mode="r", zarr_format=3)["0"][...]
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, data)
    np.testing.assert_array_equal(ours, tifffile.imread(path))


@pytest.mark.parametrize("dtype", ["complex_int16", "int32"])
def test_complex_integer_refused_by_name(tmp_path, registry, dtype):
    path = tmp_path / "ci.tif"
    with rasterio.open(path, "w", driver="GTiff", width=16, height=16, count=1,
                       dtype="complex_int16" if dtype == "complex_int16" else "int32") as ds:
        ds.write(np.zeros((16, 16), dtype="complex64" if dtype == "complex_int16" else "int32"), 1)
    if dtype != "complex_int16":  # the control: the same file with real samples reads
        VirtualTIFF()(url=f"file://{path}", registry=registry)
        return
    with pytest.raises(UnsupportedTiffError, match=r"COMPLEXINT.*gdal_translate -ot CFloat32"):
        VirtualTIFF()(url=f"file://{path}", registry=registry)
