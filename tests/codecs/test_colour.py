"""Colour models and extra samples: values as stored (equal to tifffile, and to rasterio where GDAL returns
stored values too) plus the attributes that say what they mean (``virtual_geotiff.colour``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import tifffile
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from rasterio.enums import ColorInterp

from tests.support.helpers import expected_array, read_array
from virtual_geotiff import VirtualTIFF

pytestmark = [pytest.mark.timeout(60), pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")]

RNG = np.random.default_rng(7)


def open_array(path: Path, registry: ObjectStoreRegistry) -> zarr.Array:
    store = VirtualTIFF()(url=f"file://{path}", registry=registry)
    return zarr.open_group(store, mode="r", zarr_format=3)["0"]


@pytest.mark.parametrize("writer, bits", [("tifffile-16bit", 8), ("tifffile-8bit-values", 8), ("gdal", 8),
                                          ("gdal", 4), ("gdal", 1)])
def test_palette_indices_and_colormap_match_rasterio(tmp_path, registry, writer, bits):
    n = 2**bits
    data = RNG.integers(0, n, (37, 53), dtype=np.uint8)
    path = tmp_path / "palette.tif"
    if writer.startswith("tifffile"):
        cmap = RNG.integers(0, 65536 if writer == "tifffile-16bit" else 256, (3, n), dtype=np.uint16)
        if writer == "tifffile-16bit":
            cmap[:, 0] = (256, 257, 65535)  # values where // 256 and // 257 differ
        tifffile.imwrite(path, data, photometric="palette", colormap=cmap, rowsperstrip=8)
    else:
        table = {i: (*tuple(int(v) for v in RNG.integers(0, 256, 3)), 255) for i in range(n)}
        with rasterio.open(path, "w", driver="GTiff", width=53, height=37, count=1, dtype="uint8",
                           photometric="palette", nbits=bits, blockysize=8) as ds:
            ds.write(data, 1)
            ds.write_colormap(1, table)
    array = open_array(path, registry)
    np.testing.assert_array_equal(array[...], expected_array(path))
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(array[...], ds.read(1))
        expected = [list(ds.colormap(1)[i]) for i in range(n)]
    assert array.attrs["photometric"] == "palette"
    assert array.attrs["colormap"] == expected


@pytest.mark.parametrize("bits", [8, 1])
def test_miniswhite_values_as_rasterio_returns_them(tmp_path, registry, bits):
    data = RNG.integers(0, 2 if bits == 1 else 256, (37, 53), dtype=np.uint8)
    path = tmp_path / "white.tif"
    tifffile.imwrite(path, data.astype(bool) if bits == 1 else data, photometric="miniswhite", rowsperstrip=8)
    array = open_array(path, registry)
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(array[...], ds.read(1))
    np.testing.assert_array_equal(array[...], expected_array(path).astype(np.uint8))
    assert array.attrs["photometric"] == "miniswhite"
    assert "0 is white" in array.attrs["photometric_note"]


@pytest.mark.parametrize("photometric, samples", [("separated", 4), ("cielab", 3)])
def test_cmyk_and_cielab_as_stored(tmp_path, registry, photometric, samples):
    data = RNG.integers(0, 256, (37, 53, samples), dtype=np.uint8)
    path = tmp_path / f"{photometric}.tif"
    tifffile.imwrite(path, data, photometric=photometric, rowsperstrip=8)
    array = open_array(path, registry)
    np.testing.assert_array_equal(array[...], expected_array(path))
    np.testing.assert_array_equal(array[...], np.moveaxis(data, -1, 0))
    assert array.attrs["photometric"] == photometric
    assert "as stored" in array.attrs["photometric_note"]


def test_plain_grey_and_rgb_carry_no_colour_attributes(tmp_path, registry):
    path = tmp_path / "rgb.tif"
    tifffile.imwrite(path, RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8), photometric="rgb")
    assert not {"photometric", "colormap", "extra_samples"} & set(open_array(path, registry).attrs)


@pytest.mark.parametrize("alpha", ["unassociated", "associated"])
@pytest.mark.parametrize("planar", ["contig", "separate"])
def test_alpha_band_matches_rasterio_colorinterp(tmp_path, registry, alpha, planar):
    data = RNG.integers(0, 256, (4, 37, 53), dtype=np.uint8)
    path = tmp_path / "rgba.tif"
    tifffile.imwrite(path, data if planar == "separate" else np.moveaxis(data, 0, -1), photometric="rgb",
                     planarconfig=planar, extrasamples=["assocalpha" if alpha == "associated" else "unassalpha"],
                     rowsperstrip=8)
    array = open_array(path, registry)
    np.testing.assert_array_equal(array[...], data)
    np.testing.assert_array_equal(array[...], expected_array(path))
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(array[...], ds.read())
        rasterio_alpha = list(ds.colorinterp).index(ColorInterp.alpha)
    assert array.attrs["alpha_band"] == rasterio_alpha == 3
    assert array.attrs["extra_samples"] == [f"{alpha}_alpha"]


def test_rasterio_rgba_alpha_band(tmp_path, registry):
    """GDAL's own RGBA (ExtraSamples=2, unassociated alpha), tiled, deflate."""
    data = RNG.integers(0, 256, (4, 40, 40), dtype=np.uint8)
    path = tmp_path / "gdal_rgba.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=40, count=4, dtype="uint8", photometric="RGB",
                       alpha="YES", tiled=True, blockxsize=16, blockysize=16, compress="deflate") as ds:
        ds.write(data)
    array = open_array(path, registry)
    np.testing.assert_array_equal(array[...], data)
    assert array.attrs["alpha_band"] == 3
    assert array.attrs["extra_samples"] == ["unassociated_alpha"]


def test_ycbcr_without_jpeg_reads_as_rasterio(tmp_path, registry):
    """GDAL converts YCbCr to RGB through libtiff; the ``virtual_geotiff.libtiff`` codec decodes it there too."""
    data = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    path = tmp_path / "ycbcr.tif"
    tifffile.imwrite(path, data, photometric="ycbcr", subsampling=(1, 1), compression=None)
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(open_array(path, registry)[...], ds.read())


@pytest.mark.parametrize("dtype, nodata", [("float32", None), ("float64", -9999.0), ("uint8", 255), ("int16", None)])
def test_lerc_internal_mask_reads_as_rasterio(tmp_path, registry, dtype, nodata):
    """GDAL stores NaN floats as LERC-masked pixels and reads them back as NaN (tifffile gives 0 there)."""
    data = (np.arange(40 * 40).reshape(40, 40) % 200 + 1).astype(dtype)
    if np.dtype(dtype).kind == "f":
        data[20:25, 3:30] = np.nan
    if nodata is not None:
        data[0:4, 0:4] = nodata
    path = tmp_path / "lerc.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=40, count=1, dtype=dtype, compress="LERC",
                       nodata=nodata, tiled=True, blockxsize=16, blockysize=16) as ds:
        ds.write(data, 1)
    ours = read_array(path, registry)
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(ours, ds.read(1))
    np.testing.assert_array_equal(ours, data)


def test_subsampled_ycbcr_strips_read_as_rasterio_not_refused_as_truncated(tmp_path, registry):
    """A subsampled uncompressed strip is shorter than width x rows x 3 bytes: it is read (through libtiff), not
    refused as truncated."""
    path = tmp_path / "ycbcr21.tif"
    tifffile.imwrite(path, RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8), photometric="rgb", rowsperstrip=16)
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        tags = tif.pages[0].tags
        photometric_at, counts_at = tags[262].valueoffset, tags[279].valueoffset
    raw[photometric_at:photometric_at + 2] = (6).to_bytes(2, "little")
    raw[counts_at:counts_at + 4] = (16 * 16 * 2).to_bytes(4, "little")  # 2x1 subsampled: 2 bytes per pixel
    path.write_bytes(bytes(raw))
    with rasterio.open(path) as ds:
        np.testing.assert_array_equal(open_array(path, registry)[...], ds.read())
