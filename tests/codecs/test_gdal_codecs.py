"""The codec classes of issue 16, each on files GDAL (through rasterio) or tifffile writes, read exactly as rasterio
reads them (and as tifffile does where it decodes the file):

1. Predictor=2 on float32/float64 (strips and tiles, LZW/Deflate/ZSTD, both byte orders);
4. complex integers CInt16/CInt32 (complex64, as rasterio returns them);
5. JPEG with PlanarConfiguration=2 and Photometric=RGB (GDAL INTERLEAVE=BAND);
6. WebP in an RGBA file whose stream carries no alpha (alpha 255, as GDAL);
7. libtiff-only codings through ``virtual_geotiff.libtiff``: CCITT RLE/Fax3/Fax4, 12-bit + Predictor=2, YCbCr
   without JPEG, SGILOG and old-style JPEG (corpus files);
11. YCbCr JPEG decoded with libtiff's libjpeg settings (GDAL's values, not libjpeg's guess from markers);

plus the fuzz findings (LONG8 in a classic TIFF, a corrupt SamplesPerPixel) and the chunk-size limit.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import tifffile
import zarr
from obspec_utils.registry import ObjectStoreRegistry

from tests.support.helpers import expected_array, read_array
from tests.support.paths import CORPUS
from virtual_geotiff import Limits, TiffFormatError, UnsupportedTiffError, VirtualGeoTiffError, VirtualTIFF
from virtual_geotiff.testing import fuzz

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")]

H, W = 37, 53  # partial edge tiles and a short last strip
RNG = np.random.default_rng(16)


def ours(path: Path, registry: ObjectStoreRegistry, ifd: int = 0) -> np.ndarray:
    return read_array(path, registry, str(ifd), ifd_layout="flat")


def gdal(path: Path, ifd: int = 0) -> np.ndarray:
    with rasterio.open(f"GTIFF_DIR:{ifd + 1}:{path}") as ds:
        out = ds.read()
    return out[0] if out.shape[0] == 1 else out


def tifffile_or_none(path: Path) -> np.ndarray | None:
    """tifffile's decode in our (band, y, x) order, None where it cannot decode the file."""
    try:
        return expected_array(path)
    except Exception:
        return None


def assert_as_rasterio(path: Path, registry: ObjectStoreRegistry, *, tifffile_too: bool = True) -> np.ndarray:
    got, ref = ours(path, registry), gdal(path)
    assert got.dtype == ref.dtype and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)
    if tifffile_too and (theirs := tifffile_or_none(path)) is not None:
        np.testing.assert_array_equal(got, theirs)
    return got


def write(path: Path, data: np.ndarray, **options) -> Path:
    bands = data.shape[0] if data.ndim == 3 else 1
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[-1], height=data.shape[-2], count=bands,
                       dtype=options.pop("dtype", data.dtype), **options) as ds:
        ds.write(data if data.ndim == 3 else data[None])
    return path


# -- 1. Predictor=2 on floats -------------------------------------------------------------------------------------
@pytest.mark.parametrize("endianness", ["LITTLE", "BIG"])
@pytest.mark.parametrize("layout", [{"tiled": True, "blockxsize": 16, "blockysize": 16}, {"blockysize": 10}],
                         ids=["tiles", "strips"])
@pytest.mark.parametrize("compress", ["LZW", "DEFLATE", "ZSTD"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float_horizontal_predictor(tmp_path, registry, dtype, compress, layout, endianness):
    data = (RNG.standard_normal((2, H, W)) * 1000).astype(dtype)
    data[0, 3, 4], data[1, 5, 6] = np.nan, np.inf
    path = write(tmp_path / "p2.tif", data, compress=compress, predictor=2, endianness=endianness, **layout)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].predictor == 2
    got = assert_as_rasterio(path, registry)
    np.testing.assert_array_equal(got, data)


@pytest.mark.parametrize("compression, predictor, dtype", [("packbits", 2, "uint8"), (None, 3, "float32"),
                                                           (None, 2, "uint16")])
def test_predictor_ignored_where_libtiff_ignores_it(tmp_path, registry, compression, predictor, dtype):
    """libtiff runs a predictor only in LZW/Deflate/LZMA/ZSTD: GDAL returns uncompressed and PackBits samples as
    stored (fuzz seed 7002 case 1209: a flip made an LZW + Predictor=3 file uncompressed)."""
    data = RNG.integers(0, 200, (16, 16, 3)).astype(dtype)
    path = tmp_path / "pred.tif"
    if compression:
        tifffile.imwrite(path, data, photometric="rgb", compression=compression, predictor=predictor)
    else:  # tifffile writes no predictor without compression: a private tag is renamed to Predictor
        tifffile.imwrite(path, data, photometric="rgb", extratags=[(65000, "H", 1, predictor, True)])
        path.write_bytes(fuzz.rename_tag(path.read_bytes(), 65000, 317))
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].tags[317].value == predictor
    with rasterio.open(path) as ds:
        ref = ds.read()
    got = ours(path, registry)
    np.testing.assert_array_equal(got, ref)


# -- 4. complex integers ------------------------------------------------------------------------------------------
def test_complex_int32_reads_as_rasterio(tmp_path, registry):
    """GDAL CInt32 (rasterio cannot write it; tifffile writes the int32 pairs, SampleFormat is set to 5):
    rasterio returns complex64, and so do we (tifffile returns complex128)."""
    pairs = RNG.integers(-2**31, 2**31 - 1, (H, W, 2), dtype="<i4")
    buf = io.BytesIO()
    tifffile.imwrite(buf, pairs.view("<c8")[..., 0], photometric="minisblack", rowsperstrip=10,
                     compression="zlib")
    path = tmp_path / "cint32.tif"
    path.write_bytes(fuzz.set_tag(buf.getvalue(), 339, 5, typ=3))
    got = assert_as_rasterio(path, registry, tifffile_too=False)
    assert got.dtype == np.complex64
    np.testing.assert_array_equal(got, (pairs[..., 0] + 1j * pairs[..., 1].astype(np.float64)).astype(np.complex64))


# -- 5. JPEG INTERLEAVE=BAND, 11. YCbCr JPEG ---------------------------------------------------------------------
def _photo(bands: int = 3) -> np.ndarray:
    """Sharp edges and noise: where chroma upsampling and colour conversion show."""
    img = np.zeros((bands, 96, 80), np.uint8)
    img[0, :, ::7] = 255
    img[1, ::5, :] = 200
    img[-1] = (RNG.random((96, 80)) > 0.5) * 255
    img[:, 30:60, 20:50] = RNG.integers(0, 255, (bands, 30, 30))
    return img


@pytest.mark.parametrize("layout", [{"tiled": True, "blockxsize": 32, "blockysize": 32}, {"blockysize": 16}],
                         ids=["tiles", "strips"])
def test_jpeg_interleave_band_rgb(tmp_path, registry, layout):
    path = write(tmp_path / "band.tif", _photo(), compress="JPEG", interleave="band", photometric="RGB", **layout)
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].planarconfig == 2 and tif.pages[0].photometric == 2
    assert_as_rasterio(path, registry)


@pytest.mark.parametrize("layout", [{"tiled": True, "blockxsize": 32, "blockysize": 32}, {"blockysize": 16}],
                         ids=["tiles", "strips"])
def test_jpeg_ycbcr_written_by_gdal(tmp_path, registry, layout):
    path = write(tmp_path / "ycbcr.tif", _photo(), compress="JPEG", photometric="YCBCR", **layout)
    assert_as_rasterio(path, registry)


@pytest.mark.parametrize("subsampling", [(1, 1), (2, 1), (2, 2)])
def test_jpeg_ycbcr_subsamplings_written_by_tifffile(tmp_path, registry, subsampling):
    path = tmp_path / "ycbcr.tif"
    tifffile.imwrite(path, np.moveaxis(_photo(), 0, -1), photometric="ycbcr", subsampling=subsampling,
                     compression="jpeg", tile=(32, 32))
    assert_as_rasterio(path, registry, tifffile_too=False)


def test_jpeg_rgb_with_jfif_stream_is_not_colour_converted(tmp_path, registry):
    """Photometric=RGB: libtiff asks libjpeg for no colour conversion whatever the stream's markers say."""
    path = write(tmp_path / "rgb.tif", _photo(), compress="JPEG", photometric="RGB", tiled=True, blockxsize=32,
                 blockysize=32)
    assert_as_rasterio(path, registry)


# -- 6. WebP RGBA whose stream has no alpha -----------------------------------------------------------------------
def test_webp_rgba_with_opaque_alpha(tmp_path, registry):
    data = _photo(4)
    data[3] = 255  # libwebp drops an all-opaque alpha channel from the stream
    path = write(tmp_path / "webp.tif", data, compress="WEBP", webp_lossless=True, tiled=True, blockxsize=32,
                 blockysize=32)
    got = assert_as_rasterio(path, registry)
    assert (got[3] == 255).all()
    np.testing.assert_array_equal(got, data)


# -- 7. libtiff-only codings --------------------------------------------------------------------------------------
@pytest.mark.parametrize("compress", ["CCITTFAX4", "CCITTFAX3", "CCITTRLE"])
def test_ccitt(tmp_path, registry, compress):
    bits = (RNG.random((H, W)) > 0.7).astype(np.uint8)
    bits[:, 10:20] = 1
    path = write(tmp_path / "fax.tif", bits, compress=compress, nbits=1, blockysize=10)
    got = assert_as_rasterio(path, registry)
    np.testing.assert_array_equal(got, bits)


@pytest.mark.parametrize("options", [{"blockysize": 10}, {"blockysize": 10, "interleave": "band"}],
                         ids=["strips", "separate"])
def test_12_bit_with_horizontal_predictor(tmp_path, registry, options):
    """Predictor=2 on 12-bit samples (GDAL refuses to write it; the tag is added to an uncompressed NBITS=12
    file): libtiff ignores a predictor on uncompressed data, and so GDAL does."""
    data = RNG.integers(0, 4096, (3, H, W)).astype(np.uint16)
    path = write(tmp_path / "nbits.tif", data, nbits=12, **options)
    # SampleFormat (339) becomes Predictor (317) = 2; no tag lies between them in a strip file: still sorted
    path.write_bytes(fuzz.set_tag(fuzz.rename_tag(path.read_bytes(), 339, 317), 317, 2, typ=3))
    with tifffile.TiffFile(path) as tif:
        assert tif.pages[0].bitspersample == 12 and tif.pages[0].tags[317].value == 2
    got = assert_as_rasterio(path, registry, tifffile_too=False)
    np.testing.assert_array_equal(got, data)


LIBTIFF_CORPUS = [
    "image-tiff/tests__libtiffpic__dscf0013.tif",  # YCbCr 4:2:2 without JPEG
    "image-tiff/tests__libtiffpic__ycbcr-cat.tif",  # YCbCr + LZW
    "image-tiff/tests__libtiffpic__off_l16.tif",  # SGILOG LogL
    "image-tiff/tests__libtiffpic__off_luv24.tif",  # SGILOG24 LogLuv
    "image-tiff/tests__libtiffpic__off_luv32.tif",
    "image-tiff/tests__libtiffpic__zackthecat.tif",  # old-style JPEG, tiled, tables by offset
    "pillow/Tests__images__old-style-jpeg-compression.tif",  # old-style JPEG, JPEGInterchangeFormat
    "pillow/Tests__images__old-style-jpeg-compression-no-samplesperpixel.tif",
    "image-tiff/tests__images__hpredict-1c-12b.tiff",
    "pillow/Tests__images__g4-multi.tiff",
    "image-tiff/tests__libtiffpic__fax2d.tif",
    "image-tiff/tests__images__seq__seq-1c-1b-fax3-lsb-71f6a21a.tiff",  # FillOrder=2
]


@pytest.mark.corpus
@pytest.mark.parametrize("name", LIBTIFF_CORPUS)
def test_libtiff_corpus_files_read_as_rasterio(registry, name):
    path = CORPUS / name
    if not path.exists():
        pytest.skip("../shared/corpus is absent")
    with tifffile.TiffFile(path) as tif:
        count = len(tif.pages)
    for ifd in range(count):
        got, ref = ours(path, registry, ifd), gdal(path, ifd)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)


@pytest.mark.corpus
def test_old_style_jpeg_whose_stream_runs_past_its_chunk_is_refused(registry):
    path = CORPUS / "image-tiff/tests__libtiffpic__smallliz.tif"
    if not path.exists():
        pytest.skip("../shared/corpus is absent")
    with pytest.raises(UnsupportedTiffError, match=r"JPEGInterchangeFormat.*gdal_translate -co COMPRESS=JPEG"):
        ours(path, registry)


def test_libtiff_codec_without_its_extra_names_the_extra(tmp_path, registry, monkeypatch):
    path = write(tmp_path / "fax.tif", (RNG.random((H, W)) > 0.5).astype(np.uint8), compress="CCITTFAX4", nbits=1)
    array = zarr.open_group(VirtualTIFF()(url=f"file://{path}", registry=registry), mode="r", zarr_format=3)["0"]
    monkeypatch.setitem(sys.modules, "rasterio", None)  # as if the extra were not installed
    with pytest.raises(UnsupportedTiffError, match=r"virtual-geotiff\[libtiff\]"):
        array[...]


def test_libtiff_codec_refuses_a_corrupt_chunk_typed(tmp_path, registry):
    bits = (RNG.random((64, 64)) > 0.5).astype(np.uint8)
    path = write(tmp_path / "fax.tif", bits, compress="CCITTFAX4", nbits=1)
    with tifffile.TiffFile(path) as tif:
        offset, count = tif.pages[0].dataoffsets[0], tif.pages[0].databytecounts[0]
    raw = bytearray(path.read_bytes())
    raw[offset: offset + count] = bytes(count)  # zeros: not a Group 4 stream of 64 rows
    path.write_bytes(bytes(raw))
    try:
        got = ours(path, registry)
    except VirtualGeoTiffError:
        return
    np.testing.assert_array_equal(got, gdal(path))  # GDAL decodes it (warnings only): then the same values


# -- fuzz findings and limits -------------------------------------------------------------------------------------
def _two_pages() -> bytes:
    buf = io.BytesIO()
    with tifffile.TiffWriter(buf) as tw:
        tw.write(np.arange(16 * 16, dtype="u2").reshape(16, 16), tile=(16, 16))
        tw.write((np.arange(21 * 19) % 7).astype("u1").reshape(21, 19), rowsperstrip=21, compression="zlib")
    return buf.getvalue()


@pytest.mark.parametrize("tag", [256, 257, 258, 262, 277, 278, 273, 279])
def test_long8_one_value_in_a_classic_tiff_is_no_struct_error(tag):
    """LONG8 (field type 16) is 8 bytes: in a classic TIFF one value lies out of line, not in the 4-byte field."""
    result = fuzz.check(fuzz.set_tag_type(_two_pages(), tag, 16, ifd=1))
    assert result.outcome not in ("untyped-error", "mismatch", "crash"), result


def test_corrupt_samples_per_pixel_refused_at_build():
    """The seed-20261206 finding: a byte flip made SamplesPerPixel 10825 on a 399-byte Deflate strip."""
    result = fuzz.check(fuzz.set_tag(_two_pages(), 277, 10825, typ=3, ifd=1))
    assert result.outcome == "typed-error" and "cannot decode to the" in result.detail, result


def test_damaged_middle_strip_is_refused_not_padded():
    """Fuzz seed 7001 case 406: a strip decoding one byte short was padded as if it were the short last strip."""
    result = fuzz.run(7001, 406)[1]
    assert result.outcome == "typed-error" and "neither a full chunk" in result.detail, result


@pytest.mark.parametrize("seed, index", [
    (9102, 8487),  # uncompressed strip at offset 0: GDAL and tifffile read the bytes there
    (9104, 6512),  # one uncompressed strip with StripByteCounts=0: libtiff estimates the count
    (9106, 769),  # uncompressed tile at offset 0: sparse, as tifffile and GDAL
    (9106, 10585),
    (9106, 17167),  # 3-bit + Predictor=2 (libtiff path) with a corrupt SamplesPerPixel: refused at build, no hang
])
def test_fuzz_findings_of_the_final_campaigns(seed, index):
    result = fuzz.run(seed, index)[1]
    assert result.outcome in ("ok-equal", "ok-gdal", "typed-error"), result


def test_max_chunk_bytes_default_and_message(tmp_path, registry):
    assert Limits().max_chunk_bytes == 256 * 1024**2
    path = write(tmp_path / "one.tif", np.zeros((64, 64), np.uint8))
    with pytest.raises(TiffFormatError, match=r"Limits\.max_chunk_bytes=1000.*Limits\(max_chunk_bytes=\.\.\.\)"):
        VirtualTIFF(limits=Limits(max_chunk_bytes=1000))(url=f"file://{path}", registry=registry)


@pytest.mark.corpus
@pytest.mark.slow
def test_no_untyped_error_on_any_corpus_file(registry):
    """Every file of ../shared/corpus builds and reads, or fails with a virtual-geotiff error."""
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is absent")
    untyped = []
    for path in sorted(CORPUS.glob("*/*.tif*")):
        try:
            group = zarr.open_group(VirtualTIFF(ifd_layout="flat")(url=f"file://{path}", registry=registry),
                                    mode="r", zarr_format=3)
            for name in group.array_keys():
                with contextlib.suppress(VirtualGeoTiffError):
                    group[name][...]
        except VirtualGeoTiffError:
            pass
        except Exception as exc:
            untyped.append(f"{path.name}: {type(exc).__name__}: {exc}"[:200])
    assert not untyped, "\n".join(untyped)
