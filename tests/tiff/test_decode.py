"""The IFD decoder (``tiff.decode``) against tifffile's reading of the same tags.

Every tag ``IfdInfo`` carries is compared with tifffile's value for generated files (strips and tiles,
classic and BigTIFF, both byte orders, GeoTIFF keys and ASCII params, a 16-bit palette whose ColorMap
spans several fetched segments, JPEG tables, sub-IFDs) and for every IFD of ../shared/corpus that
tifffile parses (skipped when the corpus is absent).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import obstore
import pytest
import tifffile

from tests.support.paths import CORPUS
from virtual_geotiff.errors import LimitExceededError, TiffFormatError, UnsupportedTiffError
from virtual_geotiff.limits import Limits
from virtual_geotiff.tiff.reader import TiffHeader, read_tiff_header

pytestmark = pytest.mark.timeout(120)


def _read(path: Path) -> TiffHeader:
    return asyncio.run(read_tiff_header(obstore.store.LocalStore(), str(path), path.as_uri(), Limits()))


def _tag(page: tifffile.TiffPage, code: int, default=None):
    tag = page.tags.get(code)
    return default if tag is None else tag.value


def _assert_same(info, page: tifffile.TiffPage) -> None:
    """Our decoded IFD equals tifffile's tags (raw values, before any interpretation)."""
    assert info.width == page.imagewidth
    assert info.height == page.imagelength
    if info.compression == 6 and info.photometric == 6 and 277 not in page.tags:
        assert info.samples_per_pixel == 3  # old-style JPEG YCbCr: libtiff's (and GDAL's) default, not TIFF's 1
    else:
        assert info.samples_per_pixel == _tag(page, 277, 1)
    bits = _tag(page, 258, 1)
    assert info.bits_per_sample == (bits[0] if isinstance(bits, tuple) else bits)
    assert info.compression == _tag(page, 259, 1)
    assert info.predictor == _tag(page, 317, 1)
    assert info.photometric == _tag(page, 262, -1)
    if page.is_tiled:
        assert (info.tile_width, info.tile_height) == (page.tilewidth, page.tilelength)
    else:
        assert info.tile_width is None
    offsets = _tag(page, 324) if page.is_tiled and 324 in page.tags else _tag(page, 273)
    counts = _tag(page, 325) if page.is_tiled and 325 in page.tags else _tag(page, 279)
    np.testing.assert_array_equal(info.offsets, np.atleast_1d(np.asarray(offsets, dtype=np.uint64)))
    np.testing.assert_array_equal(info.byte_counts, np.atleast_1d(np.asarray(counts, dtype=np.uint64)))
    if 320 in page.tags:
        np.testing.assert_array_equal(info.colormap.T, np.asarray(page.tags[320].value).reshape(3, -1))
    if info.compression == 7:
        assert info.jpeg_tables == (bytes(page.tags[347].value) if 347 in page.tags else None)
    for code, mine in ((33550, info.geo.model_pixel_scale), (33922, info.geo.model_tiepoint),
                       (34264, info.geo.model_transformation)):
        if code in page.tags:
            np.testing.assert_array_equal(np.asarray(mine), np.ravel(page.tags[code].value).astype(float))
        else:
            assert mine is None
    for code, mine in ((42113, info.geo.gdal_nodata), (42112, info.geo.gdal_metadata)):
        if code in page.tags:  # tifffile strips surrounding whitespace; we keep the value as stored (libtiff)
            assert mine.strip() == page.tags[code].value.strip()


def test_geotiff_keys_equal_tifffile(tmp_path):
    path = tmp_path / "geo.tif"
    data = np.arange(300 * 200, dtype=np.uint16).reshape(300, 200)
    keys = {"GTModelTypeGeoKey": 1, "GTRasterTypeGeoKey": 1, "GTCitationGeoKey": "WGS 84 / UTM zone 33N",
            "GeogCitationGeoKey": "WGS 84", "ProjectedCSTypeGeoKey": 32633, "ProjLinearUnitsGeoKey": 9001,
            "GeogSemiMajorAxisGeoKey": 6378137.0}
    tifffile.imwrite(path, data, tile=(128, 128), compression="zlib", predictor=2,
                     extratags=[(33550, 12, 3, (10.0, 10.0, 0.0)), (33922, 12, 6, (0, 0, 0, 500000.0, 4e6, 0)),
                                (42113, 2, 0, "65535"), (42112, 2, 0, "<GDALMetadata></GDALMetadata>")],
                     metadata=None)
    # tifffile writes GeoKeys through its geotiff metadata helper; write the directory by hand for control
    header = _read(path)
    with tifffile.TiffFile(path) as tif:
        _assert_same(header.ifds[0], tif.pages[0])
    path2 = tmp_path / "geokeys.tif"
    directory = [1, 1, 0, 7, 1024, 0, 1, 1, 1025, 0, 1, 1, 1026, 34737, 22, 0, 2049, 34737, 7, 22,
                 2057, 34736, 1, 0, 3072, 0, 1, 32633, 3076, 0, 1, 9001]
    ascii_params = "WGS 84 / UTM zone 33N|WGS 84|"
    tifffile.imwrite(path2, data, extratags=[(34735, 3, len(directory), directory), (34736, 12, 1, (6378137.0,)),
                                             (34737, 2, 0, ascii_params)], metadata=None)
    info = _read(path2).ifds[0]
    assert info.geo.geo_keys == {"model_type": 1, "raster_type": 1, "citation": "WGS 84 / UTM zone 33N",
                                 "geog_citation": "WGS 84", "geog_semi_major_axis": 6378137.0,
                                 "projected_type": 32633, "proj_linear_units": 9001}
    assert info.geo.key_directory == tuple(directory)
    with tifffile.TiffFile(path2) as tif:
        assert tif.pages[0].geotiff_tags["GTCitationGeoKey"] == keys["GTCitationGeoKey"]


@pytest.mark.parametrize("bigtiff", [False, True])
@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("tiled", [False, True])
def test_layouts_equal_tifffile(tmp_path, bigtiff, byteorder, tiled):
    path = tmp_path / "x.tif"
    data = np.random.default_rng(0).integers(0, 2**16, (2, 150, 170), dtype=np.uint16)
    kwargs = {"tile": (64, 64)} if tiled else {"rowsperstrip": 7}
    tifffile.imwrite(path, data, bigtiff=bigtiff, byteorder=byteorder, compression="zlib", photometric="minisblack",
                     planarconfig="separate", **kwargs)
    header = _read(path)
    assert header.byteorder == byteorder and header.bigtiff == bigtiff
    with tifffile.TiffFile(path) as tif:
        for info, page in zip(header.ifds, tif.pages, strict=True):
            _assert_same(info, page)


def test_palette_whose_colormap_spans_fetched_segments(tmp_path):
    """A 16-bit palette: 393 KB of ColorMap starting inside the first 32 KiB prefetch."""
    path = tmp_path / "palette16.tif"
    data = np.arange(40 * 30, dtype=np.uint16).reshape(40, 30)
    colormap = np.random.default_rng(1).integers(0, 2**16, (3, 65536), dtype=np.uint16)
    tifffile.imwrite(path, data, photometric="palette", colormap=colormap)
    header = _read(path)
    np.testing.assert_array_equal(header.ifds[0].colormap, colormap.T)
    assert header.stats.requests == 2  # the prefetch and one read of the rest of the ColorMap


def test_jpeg_tables_and_subifds_equal_tifffile(tmp_path):
    path = tmp_path / "j.tif"
    rgb = np.random.default_rng(2).integers(0, 255, (256, 256, 3), dtype=np.uint8)
    with tifffile.TiffWriter(path) as tif:
        tif.write(rgb, tile=(128, 128), compression="jpeg", photometric="rgb", subifds=1)
        tif.write(rgb[::2, ::2], tile=(64, 64), compression="jpeg", photometric="rgb", subfiletype=1)
    header = _read(path)
    with tifffile.TiffFile(path) as tif:
        _assert_same(header.ifds[0], tif.pages[0])
        _assert_same(header.sub_ifds[0], tif.pages[0].pages[0])
        assert (header.ifds[0].jpeg_tables is None) == (347 not in tif.pages[0].tags)
    assert header.sub_ifds[0].parent == 0 and header.sub_ifds[0].name == "0_sub0"


def test_values_past_the_end_are_a_format_error(tmp_path):
    path = tmp_path / "cut.tif"
    tifffile.imwrite(path, np.zeros((4000, 10), np.uint8), rowsperstrip=1)  # 4000 strip offsets
    raw = path.read_bytes()
    with tifffile.TiffFile(path) as tif:
        at = tif.pages[0].tags[279].valueoffset
    path.write_bytes(raw[: at + 100])  # StripByteCounts cut short
    with pytest.raises(TiffFormatError, match=r"values of tag 279 .* lie past the end"):
        _read(path)


def test_mixed_bits_per_sample_is_refused(tmp_path):
    path = tmp_path / "mixed.tif"
    tifffile.imwrite(path, np.zeros((8, 8, 3), np.uint8), photometric="rgb")
    raw = bytearray(path.read_bytes())
    with tifffile.TiffFile(path) as tif:
        at = tif.pages[0].tags[258].valueoffset
    raw[at + 4: at + 6] = (16).to_bytes(2, "little")
    path.write_bytes(bytes(raw))
    with pytest.raises(UnsupportedTiffError, match=r"different BitsPerSample per sample \(\[8, 8, 16\]\)"):
        _read(path)


def _corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".tif", ".tiff")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_corpus_ifds_equal_tifffile():
    """Every corpus IFD both readers parse: same tags. Files we refuse must raise a typed error."""
    compared = 0
    for path in _corpus_files():
        try:  # tifffile cannot parse every corpus file; the corpus check covers those
            with tifffile.TiffFile(path) as tif:
                pages = [tif.pages[i] for i in range(len(tif.pages))]  # iterating loops on circular chains
                pages = [p for p in pages if isinstance(p, tifffile.TiffPage) and p.tags]
                expected = [(p, p.imagewidth, p.is_tiled) for p in pages]
        except Exception:
            continue
        try:
            header = _read(path)
        except (TiffFormatError, UnsupportedTiffError, LimitExceededError):
            continue
        for info, (page, *_) in zip(header.ifds, expected, strict=False):
            try:
                _assert_same(info, page)
            except AssertionError as exc:
                raise AssertionError(f"{path.name} IFD {info.index}: {exc}") from None
            compared += 1
    assert compared > 300
