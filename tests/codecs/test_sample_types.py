"""Sample types outside the conformance matrix: complex128 (GDAL CFloat64) and complex integers (GDAL CInt16;
CInt32 in tests/codecs/test_gdal_codecs.py) read exactly as rasterio returns them."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import tifffile

from tests.support.helpers import read_array

pytestmark = [pytest.mark.timeout(60), pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_float_matches_rasterio_and_tifffile(tmp_path, registry, dtype):
    rng = np.random.default_rng(1)
    data = (rng.standard_normal((37, 53)) + 1j * rng.standard_normal((37, 53))).astype(dtype)
    path = tmp_path / "c.tif"
    with rasterio.open(path, "w", driver="GTiff", width=53, height=37, count=1, dtype=dtype, tiled=True,
                       blockxsize=16, blockysize=16, compress="deflate") as ds:
        ds.write(data, 1)
    ours = read_array(path, registry)
    assert ours.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ours, data)
    np.testing.assert_array_equal(ours, tifffile.imread(path))


@pytest.mark.parametrize("byteorder", ["little", "big"])
@pytest.mark.parametrize("layout", [{"tiled": True, "blockxsize": 16, "blockysize": 16}, {"blockysize": 7}])
def test_complex_int16_reads_as_rasterio(tmp_path, registry, layout, byteorder):
    """GDAL CInt16 (SampleFormat=5): rasterio and tifffile both return complex64."""
    rng = np.random.default_rng(2)
    data = (rng.integers(-30000, 30000, (37, 53)) + 1j * rng.integers(-30000, 30000, (37, 53))).astype("complex64")
    path = tmp_path / "ci.tif"
    with rasterio.open(path, "w", driver="GTiff", width=53, height=37, count=1, dtype="complex_int16",
                       compress="deflate", endianness=byteorder.upper(), **layout) as ds:
        ds.write(data, 1)
    ours = read_array(path, registry)
    with rasterio.open(path) as ds:
        ref = ds.read(1)
    assert ours.dtype == ref.dtype == np.complex64
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(ours, data)
    np.testing.assert_array_equal(ours, tifffile.imread(path))
