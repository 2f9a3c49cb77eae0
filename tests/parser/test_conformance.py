"""Conformance matrix: every case is written with tifffile (or rasterio), read through ``VirtualTIFF`` +
``xr.open_zarr`` and compared exactly (NaN-aware) with tifffile's own decode of the same file.

The matrix itself (``CASES``) and the sparse cases (``SPARSE``) live in ``tests/support/cases.py``: the
read-pipeline tests run the same tables.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import tifffile
import xarray as xr
import zarr

import virtual_geotiff
from tests.support.cases import CASES, SPARSE
from tests.support.helpers import (
    HEIGHT,
    TILE,
    WIDTH,
    Case,
    assert_same,
    blank_chunks,
    expected_array,
    file_url,
    make_registry,
    open_virtual,
    sample_data,
    write_case,
    write_sparse,
)
from tests.support.tiff_edit import zero_entries
from virtual_geotiff import InvalidArgumentError, VirtualTIFF


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_case(case: Case, tmp_path):
    path = tmp_path / "case.tif"
    data = write_case(case, path)
    expected = expected_array(path)
    if _lossless(case):  # the reference itself round-trips what was written
        np.testing.assert_array_equal(expected, data)
    ds = open_virtual(path)
    assert list(ds.data_vars) == ["0"]
    assert_same(ds["0"], expected)


def test_predictor_is_ignored_where_libtiff_ignores_it(tmp_path):
    """libtiff applies Predictor only with LZW, Deflate, LZMA and ZSTD: GDAL reads PackBits + Predictor=2 (which
    tifffile writes and undoes) as if no predictor were set. GDAL is the reference: ours equals rasterio."""
    import rasterio

    path = tmp_path / "packbits-pred2.tif"
    data = np.random.default_rng(0).integers(0, 255, (40, 50, 3), dtype=np.uint8)
    tifffile.imwrite(path, data, compression="packbits", predictor=2, photometric="rgb", rowsperstrip=16)
    with rasterio.open(path) as src:
        gdal = src.read()
    assert not np.array_equal(gdal, np.moveaxis(data, -1, 0))  # the predictor really was ignored by GDAL
    np.testing.assert_array_equal(open_virtual(path)["0"].values, gdal)


def _lossless(case: Case) -> bool:
    args = dict(case.compressionargs)
    return case.compression in (None, "zlib", "deflate", "adobe_deflate", "lzw", "zstd", "packbits", "lzma",
                                "png") or (case.compression in ("jpegxl", "webp") and args.get("lossless"))


def test_case_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


# --------------------------------------------------------------------------------------------------
# Sparse files: missing tiles or strips (offset and/or byte count 0) read as 0.
# --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("dtype", "compression", "samples", "planar", "missing"), SPARSE)
def test_sparse_tiles_tifffile(tmp_path, dtype, compression, samples, planar, missing):
    """tifffile writes a ``None`` tile of a tile iterator as offset 0 and byte count 0."""
    path = tmp_path / "sparse.tif"
    data = write_sparse(path, dtype, compression, samples, planar, missing)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        counts = np.asarray(page.databytecounts)
        assert set(np.flatnonzero(counts == 0).tolist()) == missing
        assert (np.asarray(page.dataoffsets)[counts == 0] == 0).all()
    expected = expected_array(path)
    np.testing.assert_array_equal(expected, blank_chunks(data, planar == "separate", TILE, missing))
    assert_same(open_virtual(path)["0"], expected)


PATCHED = [
    # (case, missing chunk indices, entries zeroed)
    pytest.param(Case("int32", "zlib", "tiles", predictor=2), {0}, "both", id="tiles-first-both"),
    pytest.param(Case("int32", "zlib", "tiles", predictor=2), {5}, "offsets", id="tiles-offset-only"),
    pytest.param(Case("int32", "zlib", "tiles", predictor=2), {5, 11}, "bytecounts", id="tiles-bytecount-only"),
    pytest.param(Case("float64", None, "tiles", samples=3, bigtiff=True), {3, 6}, "both", id="tiles-rgb-bigtiff"),
    pytest.param(Case("int32", "zlib", "strips-partial", predictor=2), {1}, "both", id="strips-middle"),
    pytest.param(Case("uint8", "packbits", "strips-partial", samples=3), {4}, "both", id="strips-rgb-last"),
    pytest.param(Case("uint16", "lzw", "strips-partial", samples=3, planar="separate"), {0, 6, 14}, "both",
                 id="strips-planar"),
    pytest.param(Case("float32", "zstd", "strips", byteorder=">", predictor=3), {2}, "offsets", id="strips-be"),
]


@pytest.mark.parametrize(("case", "missing", "zeroed"), PATCHED)
def test_sparse_patched(tmp_path, case, missing, zeroed):
    """Zero chunks' offsets and/or byte counts in place: libtiff and tifffile read such chunks as 0."""
    path = tmp_path / "patched.tif"
    data = write_case(case, path)
    kind = "Tile" if case.layout == "tiles" else "Strip"
    if zeroed in ("both", "offsets"):
        zero_entries(path, f"{kind}Offsets", missing)
    if zeroed in ("both", "bytecounts"):
        zero_entries(path, f"{kind}ByteCounts", missing)
    chunk = TILE if case.layout == "tiles" else (case.rowsperstrip, WIDTH)
    want = blank_chunks(data, case.planar == "separate", chunk, missing)
    if zeroed == "bytecounts":
        # GDAL reads a zero byte count as an empty (sparse) block whatever the offset; tifffile instead
        # hands the zero-length segment to its decoder (LIBDEFLATE_BAD_DATA): compare with GDAL's read.
        rasterio = pytest.importorskip("rasterio")
        with rasterio.open(path) as src:
            np.testing.assert_array_equal(src.read(1), want)
        assert_same(open_virtual(path)["0"], want)
        return
    expected = expected_array(path)
    np.testing.assert_array_equal(expected, want)
    assert_same(open_virtual(path)["0"], expected)


# --------------------------------------------------------------------------------------------------
# Several IFDs in one file.
# --------------------------------------------------------------------------------------------------

def _write_two_ifds(path, *, pyramid: bool = False) -> None:
    first = sample_data("uint16", (HEIGHT, WIDTH))
    with tifffile.TiffWriter(path) as tif:
        tif.write(first, tile=TILE, compression="zlib", predictor=2, photometric="minisblack")
        if pyramid:
            tif.write(first[::2, ::2], tile=TILE, compression="zlib", predictor=2, photometric="minisblack",
                      subfiletype=1)
        else:
            second = sample_data("uint8", (21, 30, 3), seed=1)
            tif.write(second, rowsperstrip=8, compression="lzw", photometric="rgb")


def read_flat(path, parser: VirtualTIFF | None = None) -> dict[str, zarr.Array]:
    """IFD arrays of the flat layout, through zarr (IFDs of different sizes share the names y/x).

    Georeferenced files also hold ``spatial_ref`` (and ``x``/``y`` for one IFD): not IFDs, left out here.
    """
    store = (parser or VirtualTIFF())(url=file_url(path), registry=make_registry())
    return {name: arr for name, arr in zarr.open_group(store, mode="r", zarr_format=3).arrays() if name.isdigit()}


def check_every_ifd(path) -> int:
    """Every IFD against tifffile: through the flat layout (zarr) and through ``ifd=k`` (xarray)."""
    with tifffile.TiffFile(path) as tif:
        count = len(tif.pages)
    flat = read_flat(path)
    assert sorted(flat, key=int) == [str(i) for i in range(count)]
    for key in range(count):
        expected = expected_array(path, key)
        np.testing.assert_array_equal(flat[str(key)][...], expected.astype(expected.dtype.newbyteorder("=")),
                                      strict=True)
        assert_same(open_virtual(path, VirtualTIFF(ifd=key))[str(key)], expected)
    return count


@pytest.mark.parametrize("pyramid", [False, True], ids=["different-ifds", "reduced-resolution"])
def test_multi_ifd(tmp_path, pyramid):
    path = tmp_path / "multi.tif"
    _write_two_ifds(path, pyramid=pyramid)
    assert check_every_ifd(path) == 2
    flat = read_flat(path)
    assert flat["0"].shape != flat["1"].shape
    assert list(read_flat(path, VirtualTIFF(ifd=1))) == ["1"]


def test_multi_ifd_flat_open_zarr_refuses_and_multiscale_opens(tmp_path):
    """The reference's flat layout puts IFDs of different sizes on the same y/x names, which xarray refuses
    (kept as is for drop-in parity); ``ifd_layout="multiscale"`` opens the same pyramid as a DataTree."""
    path = tmp_path / "multi.tif"
    _write_two_ifds(path, pyramid=True)
    with pytest.raises(ValueError, match="conflicting sizes for dimension"):
        open_virtual(path)
    store = VirtualTIFF(ifd_layout="multiscale")(url=file_url(path), registry=make_registry())
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    for key in (0, 1):
        assert_same(tree[str(key)]["0"], expected_array(path, key))


def test_multi_ifd_nested_layout(tmp_path):
    path = tmp_path / "multi.tif"
    _write_two_ifds(path)
    store = VirtualTIFF(ifd_layout="nested")(url=file_url(path), registry=make_registry())
    root = zarr.open_group(store, mode="r", zarr_format=3)
    assert sorted(name for name, _ in root.groups()) == ["0", "1"]
    assert list(root.arrays()) == []
    for key in ("0", "1"):
        group = root[key]
        assert isinstance(group, zarr.Group)
        assert [name for name, _ in group.arrays()] == [key]
        ds = xr.open_zarr(store, group=key, zarr_format=3, consolidated=False)
        assert list(ds.data_vars) == [key]
        assert_same(ds[key], expected_array(path, int(key)))
    assert "virtual_geotiff" in root.attrs


def test_ifd_out_of_range(tmp_path):
    path = tmp_path / "multi.tif"
    _write_two_ifds(path)
    with pytest.raises(virtual_geotiff.TiffFormatError, match="ifd=2"):
        VirtualTIFF(ifd=2)(url=file_url(path), registry=make_registry())


# --------------------------------------------------------------------------------------------------
# GeoTIFFs and COGs written by GDAL (rasterio).
# --------------------------------------------------------------------------------------------------

def _rasterio_profile(count: int, dtype: str, height: int, width: int, **options):
    from rasterio.transform import from_origin

    return dict(driver="GTiff", width=width, height=height, count=count, dtype=dtype, crs="EPSG:32618",
                transform=from_origin(300000.0, 4000000.0, 30.0, 30.0), **options)


RASTERIO_STRIPS = [
    pytest.param({}, id="none"),
    pytest.param({"compress": "deflate", "predictor": 2}, id="deflate-pred2"),
    pytest.param({"compress": "lzw"}, id="lzw"),
    pytest.param({"compress": "packbits", "interleave": "band"}, id="packbits-band"),
    pytest.param({"compress": "jpeg", "photometric": "ycbcr", "blockysize": 16}, id="jpeg-ycbcr"),
    pytest.param({"compress": "webp", "webp_lossless": True}, id="webp"),
]


@pytest.mark.parametrize("options", RASTERIO_STRIPS)
def test_rasterio_rgb_partial_strip(tmp_path, options):
    """Like rasterio's RGB.byte.tif: 3 bands, pixel interleaved strips, BLOCKYSIZE not dividing the height."""
    rasterio = pytest.importorskip("rasterio")
    path = tmp_path / "rgb.tif"
    options = {"blockysize": 8, **options}
    data = sample_data("uint8", (3, HEIGHT, WIDTH))
    with rasterio.open(path, "w", **_rasterio_profile(3, "uint8", HEIGHT, WIDTH, **options)) as dst:
        dst.write(data)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        assert not page.is_tiled and page.imagelength % page.rowsperstrip != 0
        assert page.is_geotiff
    check_every_ifd(path)
    if "jpeg" not in options.get("compress", ""):
        np.testing.assert_array_equal(open_virtual(path)["0"].values, data)


RASTERIO_COGS = [
    pytest.param("uint8", 3, {"compress": "deflate"}, id="u8-rgb-deflate"),
    pytest.param("float32", 1, {"compress": "zstd", "predictor": 3}, id="f32-zstd-pred3"),
    pytest.param("uint16", 3, {"compress": "lzw", "predictor": 2, "interleave": "band"}, id="u16-lzw-pred2-band"),
    pytest.param("uint8", 3, {"compress": "jpeg", "photometric": "ycbcr"}, id="u8-jpeg-ycbcr"),
    pytest.param("float32", 1, {"compress": "lerc_zstd", "max_z_error": 0}, id="f32-lerc-zstd"),
    pytest.param("int16", 1, {"compress": "lzma", "sparse_ok": True}, id="i16-lzma"),
]


@pytest.mark.parametrize(("dtype", "count", "options"), RASTERIO_COGS)
def test_rasterio_tiled_with_overviews(tmp_path, dtype, count, options):
    """GTiff, tiled, overviews from ``build_overviews``: every IFD (full resolution and overviews)."""
    rasterio = pytest.importorskip("rasterio")
    from rasterio.enums import Resampling

    path = tmp_path / "cog.tif"
    height, width = 100, 90
    data = sample_data(dtype, (count, height, width), nan=False)
    profile = _rasterio_profile(count, dtype, height, width, tiled=True, blockxsize=16, blockysize=16, **options)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    with rasterio.open(path, "r+") as dst:
        dst.build_overviews([2, 4], Resampling.nearest)
    assert check_every_ifd(path) == 3


@pytest.mark.parametrize("compress", ["deflate", "zstd"])
def test_rasterio_cog_driver(tmp_path, compress):
    rasterio = pytest.importorskip("rasterio")
    rio_shutil = pytest.importorskip("rasterio.shutil")

    src = tmp_path / "src.tif"
    data = sample_data("uint16", (2, 100, 90))
    with rasterio.open(src, "w", **_rasterio_profile(2, "uint16", 100, 90)) as dst:
        dst.write(data)
    path = tmp_path / "cog.tif"
    rio_shutil.copy(src, path, driver="COG", blocksize=32, compress=compress, predictor="YES",
                         overview_resampling="nearest")
    assert check_every_ifd(path) >= 2
    np.testing.assert_array_equal(read_flat(path)["0"][...], data)


def test_rasterio_sparse_ok(tmp_path):
    """GDAL's SPARSE_OK: blocks never written get offset 0 and byte count 0."""
    rasterio = pytest.importorskip("rasterio")
    from rasterio.windows import Window

    path = tmp_path / "sparse.tif"
    data = sample_data("uint16", (1, 64, 64))
    profile = _rasterio_profile(1, "uint16", 64, 64, tiled=True, blockxsize=16, blockysize=16,
                                compress="deflate", sparse_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data[:, 16:48, 0:32], window=Window(0, 16, 32, 32))
    with tifffile.TiffFile(path) as tif:
        assert (np.asarray(tif.pages[0].databytecounts) == 0).sum() == 12
    want = np.zeros((64, 64), "uint16")
    want[16:48, 0:32] = data[0, 16:48, 0:32]
    np.testing.assert_array_equal(expected_array(path), want)
    assert_same(open_virtual(path)["0"], expected_array(path))


# --------------------------------------------------------------------------------------------------
# Parser API: pickling, argument validation, codec report.
# --------------------------------------------------------------------------------------------------

def test_parser_pickles(tmp_path):
    parser = pickle.loads(pickle.dumps(VirtualTIFF(ifd=1, ifd_layout="nested")))
    assert isinstance(parser, VirtualTIFF)
    assert (parser.ifd, parser.ifd_layout) == (1, "nested")
    path = tmp_path / "multi.tif"
    _write_two_ifds(path)
    store = parser(url=file_url(path), registry=make_registry())
    ds = xr.open_zarr(store, group="1", zarr_format=3, consolidated=False)
    assert_same(ds["1"], expected_array(path, 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ifd": -1},
        {"ifd": "0"},
        {"ifd": 1.0},
        {"ifd": True},
        {"ifd_layout": "tree"},
        {"ifd_layout": None},
        {"limits": {"max_ifds": 3}},
    ],
    ids=lambda kw: "-".join(f"{k}={v!r}" for k, v in kw.items()),
)
def test_invalid_arguments(kwargs):
    with pytest.raises(InvalidArgumentError):
        VirtualTIFF(**kwargs)


def test_unregistered_url_is_invalid_argument(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((4, 4), "uint8"))
    from obspec_utils.registry import ObjectStoreRegistry

    with pytest.raises(InvalidArgumentError):
        VirtualTIFF()(url=file_url(path), registry=ObjectStoreRegistry({}))


def _codec_report(path, parser: VirtualTIFF | None = None) -> dict:
    store = (parser or VirtualTIFF())(url=file_url(path), registry=make_registry())
    return zarr.open_group(store, mode="r", zarr_format=3).attrs["virtual_geotiff"]


@pytest.mark.parametrize(
    ("kwargs", "custom"),
    [
        ({"compression": "zlib"}, []),
        ({"compression": "deflate"}, []),
        ({"compression": "zstd", "photometric": "rgb"}, []),
        ({"compression": None}, []),
        ({"compression": "lzw"}, ["virtual_geotiff.lzw"]),
        ({"compression": "zlib", "predictor": 2}, ["virtual_geotiff.horizontal_predictor"]),
        ({"compression": "packbits", "rowsperstrip": 5}, ["virtual_geotiff.packbits", "virtual_geotiff.pad"]),
        ({"compression": "jpeg", "photometric": "rgb"}, ["virtual_geotiff.jpeg"]),
        ({"compression": "lzma"}, ["numcodecs.lzma"]),
    ],
    ids=lambda v: "-".join(f"{k}={w}" for k, w in v.items()) if isinstance(v, dict) else None,
)
def test_custom_codecs_attribute(tmp_path, kwargs, custom):
    path = tmp_path / "a.tif"
    samples = 3 if kwargs.get("photometric") == "rgb" else 1
    shape = (32, 48, 3) if samples == 3 else (32, 48)
    dtype = "uint8" if samples == 3 else "uint16"
    options = {"rowsperstrip": 8, "photometric": "rgb" if samples == 3 else "minisblack", **kwargs}
    tifffile.imwrite(path, sample_data(dtype, shape), **options)
    report = _codec_report(path)
    assert report["custom_codecs"] == custom
    assert report["portable"] is (not custom)
    assert report["version"] == virtual_geotiff.__version__


def test_custom_codecs_attribute_nested_multi_ifd(tmp_path):
    """The report covers every IFD exposed, and only those."""
    path = tmp_path / "multi.tif"
    _write_two_ifds(path)  # IFD 0: zlib + predictor 2 tiles; IFD 1: LZW strips, 21 rows of 8
    both = _codec_report(path, VirtualTIFF(ifd_layout="nested"))
    assert both["custom_codecs"] == ["virtual_geotiff.horizontal_predictor", "virtual_geotiff.lzw",
                                     "virtual_geotiff.pad"]
    first = _codec_report(path, VirtualTIFF(ifd=0))
    assert first["custom_codecs"] == ["virtual_geotiff.horizontal_predictor"]
    assert first["portable"] is False
