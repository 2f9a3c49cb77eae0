"""GDAL masks and alpha bands: ``read_masked`` equals ``rioxarray.open_rasterio(path, masked=True)``.

Files are written by rasterio at test time (internal masks with ``GDAL_TIFF_INTERNAL_MASK``, alpha bands with
``ALPHA=YES``, PHOTOMETRIC=RGB, nodata, per-band scales) and read through every layout that opens one image:
flat (``ifd=None`` and ``ifd=k``), nested and ``overview_level``. The ../shared/corpus files with a mask IFD or
an alpha band are compared too.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio
import rioxarray
import xarray as xr
from rasterio.transform import from_origin

from tests.support.helpers import make_registry, read_local_header
from tests.support.paths import corpus_files
from virtual_geotiff import InvalidArgumentError, UnsupportedTiffError, VirtualGeoTiffError, VirtualTIFF
from virtual_geotiff.masks import read_masked

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
]

HEIGHT, WIDTH = 40, 52


def store_of(path: Path, **kwargs):
    registry = make_registry()
    return VirtualTIFF(**kwargs)(url=f"file://{path}", registry=registry)


def write(path: Path, *, count: int = 1, dtype: str = "uint8", alpha: bool = False, mask: bool = False,
          nodata=None, scales=None, offsets=None, **profile) -> None:
    rng = np.random.default_rng(7)
    data = (rng.random((count, HEIGHT, WIDTH)) * 200 + 1).astype(dtype)
    if alpha:
        data[-1] = np.iinfo(dtype).max
        data[-1, :5, :9] = 0
        data[-1, 10:12, :] = 128  # partly transparent is valid for GDAL
    if nodata is not None:
        data[0, 20:23, 30:40] = nodata
    env = rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True) if mask else rasterio.Env()
    with env, rasterio.open(path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=count, dtype=dtype,
                            crs="EPSG:32633", transform=from_origin(500_000, 4_000_000, 10, 10), nodata=nodata,
                            **({"ALPHA": "YES"} if alpha else {}), **profile) as dst:
        dst.write(data)
        if mask:
            valid = np.full((HEIGHT, WIDTH), 255, np.uint8)
            valid[30:, :17] = 0
            valid[:, 50:] = 0
            dst.write_mask(valid)
        if scales is not None:
            dst.scales = scales
            dst.offsets = offsets


def assert_masked_like_rioxarray(store, path: Path, *, group: str | None = None, **rio_kwargs) -> None:
    for mask_and_scale in (False, True):
        got = read_masked(store, mask_and_scale=mask_and_scale, group=group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # rioxarray warns about scales that differ between bands
            ref = rioxarray.open_rasterio(path, masked=True, mask_and_scale=mask_and_scale, **rio_kwargs)
        assert got.dims == ref.dims and got.shape == ref.shape
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got.band.values, ref.band.values)
        np.testing.assert_array_equal(got.values, ref.values)  # NaN where rioxarray has NaN, values bit-equal
        np.testing.assert_array_equal(got.x.values, ref.x.values)
        np.testing.assert_array_equal(got.y.values, ref.y.values)


CASES = {
    "mask-grey": {"mask": True},
    "mask-grey-tiled": {"mask": True, "tiled": True, "blockxsize": 16, "blockysize": 16},
    "mask-rgb-pixel": {"count": 3, "mask": True, "photometric": "RGB"},
    "mask-rgb-band": {"count": 3, "mask": True, "interleave": "band", "tiled": True, "blockxsize": 32,
                      "blockysize": 32},
    "mask-wins-over-nodata": {"dtype": "int16", "mask": True, "nodata": -5},
    "mask-float32": {"dtype": "float32", "mask": True, "compress": "deflate"},
    "alpha-rgba": {"count": 4, "alpha": True, "photometric": "RGB"},
    "alpha-rgba-uint16": {"count": 4, "dtype": "uint16", "alpha": True, "photometric": "RGB"},
    "alpha-rgba-band": {"count": 4, "alpha": True, "photometric": "RGB", "interleave": "band"},
    "alpha-grey": {"count": 2, "alpha": True},
    "alpha-in-3-bands-is-not-a-mask": {"count": 3, "alpha": True},
    "alpha-in-5-bands-is-not-a-mask": {"count": 5, "alpha": True},
    "nodata-wins-over-alpha": {"count": 4, "alpha": True, "photometric": "RGB", "nodata": 3},
    "nodata-int32": {"dtype": "int32", "nodata": -9},
    "nodata-nan": {"dtype": "float32", "nodata": float("nan")},
    "scales-differ": {"count": 2, "dtype": "int16", "nodata": -1, "scales": (0.0001, 0.001),
                      "offsets": (1000.0, 2000.0)},
    "scales-equal": {"count": 2, "dtype": "int16", "scales": (0.5, 0.5), "offsets": (3.0, 3.0)},
}


@pytest.mark.parametrize("layout", ["flat", "ifd-0", "nested"])
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_read_masked_equals_rioxarray(tmp_path, case, layout):
    path = tmp_path / "masked.tif"
    write(path, **case)
    kwargs = {"flat": {}, "ifd-0": {"ifd": 0}, "nested": {"ifd_layout": "nested"}}[layout]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = store_of(path, **kwargs)
    assert_masked_like_rioxarray(store, path, group="0" if layout == "nested" else None)


def test_mask_sits_next_to_its_image_in_every_single_image_layout(tmp_path):
    path = tmp_path / "cog.tif"
    write(path, count=3, mask=True, photometric="RGB", tiled=True, blockxsize=16, blockysize=16)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True), rasterio.open(path, "r+") as dst:
        dst.build_overviews([2])
    with rasterio.open(path) as src:
        full = src.read_masks(1)
    with rasterio.open(path, overview_level=0) as src:
        overview = src.read_masks(1)
    for kwargs, group, expected in (({"ifd": 0}, None, full), ({"ifd_layout": "nested"}, "0", full),
                                    ({"overview_level": 0}, None, overview)):
        ds = xr.open_zarr(store_of(path, **kwargs), zarr_format=3, consolidated=False, group=group)
        np.testing.assert_array_equal(ds["mask"].values, expected)
        assert ds["mask"].attrs["flag_meanings"] == "nodata valid"
        assert ds["mask"].dims == ("y", "x")
    # ifd=k on the overview IFD: the overview's own mask, as GDAL pairs them
    with rasterio.open(path) as src:
        assert src.overviews(1) == [2]
    ds = xr.open_zarr(store_of(path, ifd=2), zarr_format=3, consolidated=False)  # GDAL: image, mask, overview, ...
    assert ds["2"].shape[-1] == WIDTH // 2 and ds["mask"].attrs["mask_of"] == "2"
    np.testing.assert_array_equal(ds["mask"].values, overview)
    assert_masked_like_rioxarray(store_of(path, overview_level=0), path, overview_level=0)


def test_a_decoded_dataset_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "nodata.tif"
    write(path, dtype="int16", nodata=-5, mask=True)
    store = store_of(path, ifd=0)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    with pytest.raises(InvalidArgumentError, match="mask_and_scale=False"):
        read_masked(ds)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)
    xr.testing.assert_equal(read_masked(raw), read_masked(store))
    with pytest.raises(InvalidArgumentError, match="no array 'nope'"):
        read_masked(store, "nope")


def _has_mask_or_alpha(path: Path) -> bool:
    """A GDAL mask IFD or an alpha ExtraSample (header-level check, no decoding)."""
    from virtual_geotiff.arrays.levels import is_mask
    from virtual_geotiff.limits import Limits

    header = read_local_header(path, Limits(timeout_seconds=5))
    return any(is_mask(ifd) for ifd in header.ifds) or any(v in (1, 2) for ifd in header.ifds
                                                            for v in ifd.extra_samples)


CORPUS_MASKED = corpus_files(_has_mask_or_alpha)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_MASKED, reason="../shared/corpus is absent (or holds no mask/alpha file)")
@pytest.mark.parametrize("path", CORPUS_MASKED, ids=[p.name for p in CORPUS_MASKED])
def test_corpus_masks_and_alpha_equal_rioxarray(path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            store = store_of(path, ifd=0)
            raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"].values
            with rasterio.open(path) as src:
                expected = src.read()
    except (UnsupportedTiffError, rasterio.errors.RasterioIOError) as exc:
        pytest.skip(f"not readable by both: {exc}")
    except VirtualGeoTiffError as exc:
        pytest.skip(f"refused with a typed error: {exc}")
    if raw.size != expected.size or raw.reshape(expected.shape).tolist() != expected.tolist():
        pytest.skip("rasterio decodes other values (colour conversion) than the stored samples")
    if not isinstance(rioxarray.open_rasterio(path), xr.DataArray):
        pytest.skip("rioxarray opens the file's subdatasets, not one image")
    assert_masked_like_rioxarray(store, path)
