"""Write the codec test vectors in spec/vectors/ (one JSON + two .bin files per case).

Why: any implementation of the ``virtual_geotiff.*`` codecs (the Python codecs here, the JavaScript package in
``js/``, a future Rust one) checks itself against the same encoded chunks. The encoded bytes come from
independent encoders, never from this project's codecs (which only decode): tifffile and GDAL (rasterio) write
real TIFF files whose strip/tile bytes are cut out, or imagecodecs' encoders make a chunk directly. The expected
decoded chunk is the array the file was written from (lossless codecs) or GDAL's own read of the chunk (JPEG,
lossy WebP), so a vector is right by construction, not by agreement with our decoder.

Layout of one case ``spec/vectors/<codec>/<case>``:

- ``<case>.json``: ``codec``, ``case``, ``description``, ``encoder``, ``zarr`` (``data_type``, ``shape`` (= one
  chunk), ``fill_value`` and the full ``codecs`` list of the Zarr v3 array), ``encoded`` / ``decoded`` file names
  and their SHA-256;
- ``<case>.bin``: the stored chunk (what a store returns for key ``c/0/0``);
- ``<case>.out.bin``: the decoded chunk, C order, little-endian samples.

Run: ``python scripts/make_codec_vectors.py [--out spec/vectors]`` (deterministic: re-running with the same
library versions rewrites identical files, except for the lossy-codec cases whose bytes depend on the encoder
build).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import rasterio
import rasterio.errors
import rasterio.shutil
import tifffile
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "spec" / "vectors"

ZLIB = {"name": "numcodecs.zlib", "configuration": {"level": 6}}
TRANSPOSE = {"name": "transpose", "configuration": {"order": [1, 2, 0]}}


def _bytes(endian: str | None = "little") -> dict[str, Any]:
    return {"name": "bytes"} if endian is None else {"name": "bytes", "configuration": {"endian": endian}}


@dataclass
class Vector:
    codec: str
    case: str
    description: str
    encoder: str
    codecs: list[dict[str, Any]]
    encoded: bytes
    decoded: np.ndarray  # the decoded chunk, shape = chunk shape

    def write(self, out: Path) -> None:
        folder = out / self.codec.removeprefix("virtual_geotiff.")
        folder.mkdir(parents=True, exist_ok=True)
        decoded = np.ascontiguousarray(self.decoded.astype(self.decoded.dtype.newbyteorder("<"))).tobytes()
        meta = {
            "codec": self.codec,
            "case": self.case,
            "description": self.description,
            "encoder": self.encoder,
            "zarr": {
                "data_type": str(self.decoded.dtype.newbyteorder("=")),
                "shape": list(self.decoded.shape),
                "fill_value": [0.0, 0.0] if self.decoded.dtype.kind == "c" else 0,  # Zarr v3: [real, imag]
                "codecs": self.codecs,
            },
            "encoded": f"{self.case}.bin",
            "encoded_sha256": hashlib.sha256(self.encoded).hexdigest(),
            "decoded": f"{self.case}.out.bin",
            "decoded_sha256": hashlib.sha256(decoded).hexdigest(),
        }
        (folder / f"{self.case}.json").write_text(json.dumps(meta, indent=2) + "\n")
        (folder / f"{self.case}.bin").write_bytes(self.encoded)
        (folder / f"{self.case}.out.bin").write_bytes(decoded)


# --- helpers: write a TIFF with tifffile or GDAL, cut one strip/tile out -------------------------------------------

def _tifffile(data: np.ndarray, **kwargs: Any) -> bytes:
    buf = io.BytesIO()
    tifffile.imwrite(buf, data, **kwargs)
    return buf.getvalue()


def _segment(tiff: bytes, index: int = 0) -> tuple[bytes, Any]:
    """Bytes of strip/tile ``index`` of the first IFD, and the page (for tags such as JPEGTables)."""
    with tifffile.TiffFile(io.BytesIO(tiff)) as tif:
        page = tif.pages[0]
        offset, count = page.dataoffsets[index], page.databytecounts[index]
        return tiff[offset: offset + count], page


def _gdal(path: Path, data: np.ndarray, **profile: Any) -> None:
    bands, height, width = data.shape
    profile.setdefault("dtype", data.dtype)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=bands, **profile) as dst:
        dst.write(data)


def _gdal_window(path: Path, window: Window) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(window=window)


def _ramp(shape: tuple[int, ...], dtype: str, seed: int) -> np.ndarray:
    """Smooth data with noise and extremes, so predictors wrap and compressors have runs and literals."""
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "f":
        base = np.linspace(-3.0, 1000.0, n) + rng.normal(0, 0.5, n)
        out = base.astype(dt)
        out.reshape(-1)[:4] = [np.inf, -0.0, np.finfo(dt).max, np.finfo(dt).tiny]
        return out.reshape(shape)
    info = np.iinfo(dt)
    base = (np.arange(n) * 37 + rng.integers(0, 9, n)) % (int(info.max) - int(info.min) + 1) + int(info.min)
    out = base.astype(dt)
    out.reshape(-1)[:3] = [info.max, info.min, info.max]
    return out.reshape(shape)


# --- the cases ------------------------------------------------------------------------------------------------------

def horizontal_predictor(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.horizontal_predictor"
    pred = {"name": name, "configuration": {"axis": -1}}
    out = []
    a = _ramp((3, 7), "u1", 1)
    out.append(Vector(name, "uint8_uncompressed",
                      "uint8 rows differenced by imagecodecs.delta_encode (wrapping modulo 256), no compression",
                      f"imagecodecs {imagecodecs.__version__} delta_encode(axis=-1)",
                      [pred, _bytes(None)], imagecodecs.delta_encode(a, axis=-1).tobytes(), a))
    a = _ramp((4, 6), "i2", 2)
    seg, _ = _segment(_tifffile(a, predictor=2, compression="zlib", byteorder="<", rowsperstrip=4))
    out.append(Vector(name, "int16_le_deflate", "int16 little-endian TIFF strip, Predictor=2 + Deflate",
                      f"tifffile {tifffile.__version__}", [pred, _bytes("little"), ZLIB], seg, a))
    a = _ramp((4, 6), "u2", 3)
    seg, _ = _segment(_tifffile(a, predictor=2, compression="zlib", byteorder=">", rowsperstrip=4))
    out.append(Vector(name, "uint16_be_deflate",
                      "uint16 big-endian TIFF strip, Predictor=2 + Deflate: differences are big-endian words",
                      f"tifffile {tifffile.__version__}", [pred, _bytes("big"), ZLIB], seg, a))
    a = _ramp((3, 16, 16), "u2", 4)
    path = tmp / "pred_rgb.tif"
    _gdal(path, a, tiled=True, blockxsize=16, blockysize=16, compress="deflate", predictor=2, interleave="pixel")
    seg, _ = _segment(path.read_bytes())
    out.append(Vector(name, "uint16_chunky3_gdal",
                      "3-sample pixel-interleaved uint16 tile written by GDAL (PREDICTOR=2, DEFLATE): each sample is "
                      "differenced with the same sample of the previous pixel",
                      f"GDAL {rasterio.__gdal_version__}", [pred, TRANSPOSE, _bytes("little"), ZLIB], seg, a))
    return out


def floating_point_predictor(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.floating_point_predictor"
    out = []
    a = _ramp((4, 5), "f4", 5)
    out.append(Vector(name, "float32_uncompressed",
                      "float32 rows through imagecodecs.floatpred_encode (byte planes MSB first, differenced)",
                      f"imagecodecs {imagecodecs.__version__} floatpred_encode(axis=-2)",
                      [{"name": name, "configuration": {"samples": 1}}],
                      imagecodecs.floatpred_encode(a.reshape(4, 5, 1), axis=-2).tobytes(), a))
    a = _ramp((6, 5), "f8", 6)
    seg, _ = _segment(_tifffile(a, predictor=3, compression="zlib", byteorder=">", rowsperstrip=6))
    out.append(Vector(name, "float64_bigendian_file_deflate",
                      "float64 strip of a big-endian TIFF, Predictor=3 + Deflate: the stored form does not depend "
                      "on the file's byte order", f"tifffile {tifffile.__version__}",
                      [{"name": name, "configuration": {"samples": 1}}, ZLIB], seg, a))
    a = _ramp((3, 16, 16), "f4", 7)
    path = tmp / "fpred_rgb.tif"
    _gdal(path, a, tiled=True, blockxsize=16, blockysize=16, compress="lzw", predictor=3, interleave="pixel")
    seg, _ = _segment(path.read_bytes())
    out.append(Vector(name, "float32_chunky3_lzw_gdal",
                      "3-sample pixel-interleaved float32 tile written by GDAL (PREDICTOR=3, LZW)",
                      f"GDAL {rasterio.__gdal_version__}",
                      [TRANSPOSE, {"name": name, "configuration": {"samples": 3}}, {"name": "virtual_geotiff.lzw"}],
                      seg, a))
    a = _ramp((2, 8), "f2", 8)
    out.append(Vector(name, "float16_uncompressed", "float16 rows through imagecodecs.floatpred_encode",
                      f"imagecodecs {imagecodecs.__version__} floatpred_encode(axis=-2)",
                      [{"name": name, "configuration": {"samples": 1}}],
                      imagecodecs.floatpred_encode(a.reshape(2, 8, 1), axis=-2).tobytes(), a))
    return out


def pad(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.pad"
    out = []
    a = _ramp((6, 5), "u2", 9)  # RowsPerStrip=4: the second (last) strip holds 2 rows
    seg, _ = _segment(_tifffile(a, compression="zlib", rowsperstrip=4), index=1)
    chunk = np.zeros((4, 5), "u2")
    chunk[:2] = a[4:]
    out.append(Vector(name, "uint16_short_strip_deflate",
                      "last strip (2 of 4 rows) of a tifffile uint16 Deflate TIFF: padded with zeros to 4 rows",
                      f"tifffile {tifffile.__version__}",
                      [_bytes("little"), {"name": name, "configuration": {"min_bytes": 20}}, ZLIB], seg, chunk))
    a = _ramp((3, 4), "u1", 10)
    out.append(Vector(name, "uint8_exact", "a full chunk passes through unchanged", "numpy (identity)",
                      [_bytes(None), {"name": name, "configuration": {"min_bytes": 4}}], a.tobytes(), a))
    out.append(Vector(name, "uint8_trailing_bytes", "bytes after a full chunk are dropped (libtiff ignores them)",
                      "numpy (identity + 3 trailing bytes)",
                      [_bytes(None), {"name": name, "configuration": {"min_bytes": 4}}],
                      a.tobytes() + b"\xff\xfe\xfd", a))
    a = _ramp((5, 3), "i4", 11)
    chunk = np.zeros((5, 3), "i4")
    chunk[:2] = a[:2]
    out.append(Vector(name, "int32_be_short", "a big-endian int32 strip of 2 of 5 rows: padding is in bytes, "
                      "before the byte swap", "numpy (astype('>i4'))",
                      [_bytes("big"), {"name": name, "configuration": {"min_bytes": 24}}],
                      a[:2].astype(">i4").tobytes(), chunk))
    return out


def bitunpack(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.bitunpack"
    out = []
    a = (np.arange(3 * 10).reshape(3, 10) * 7 % 3 == 0).astype("u1")
    out.append(Vector(name, "bits1_width10", "1-bit rows of 10 pixels (2 bytes each, 6 padding bits) from tifffile",
                      f"tifffile {tifffile.__version__}",
                      [{"name": name, "configuration": {"bits": 1, "samples": 1, "min_rows": 3}}],
                      _segment(_tifffile(a.astype(bool)))[0], a))
    a = (np.arange(4 * 5) % 16).astype("u1").reshape(4, 5)
    out.append(Vector(name, "bits4_width5", "4-bit samples, odd width: each row starts on a byte boundary",
                      f"imagecodecs {imagecodecs.__version__} packints_encode(runlen=5)",
                      [{"name": name, "configuration": {"bits": 4, "samples": 1, "min_rows": 4}}],
                      imagecodecs.packints_encode(a, 4, runlen=5), a))
    a = (np.arange(3 * 7) * 301 % 4096).astype("u2").reshape(3, 7)
    out.append(Vector(name, "bits12_width7", "12-bit samples widen to uint16",
                      f"imagecodecs {imagecodecs.__version__} packints_encode(runlen=7)",
                      [{"name": name, "configuration": {"bits": 12, "samples": 1, "min_rows": 3}}],
                      imagecodecs.packints_encode(a, 12, runlen=7), a))
    a = (np.arange(3 * 2 * 5) % 4).astype("u1").reshape(3, 2, 5)  # (band, y, x), stored (y, x, band)
    stored = np.ascontiguousarray(a.transpose(1, 2, 0))
    out.append(Vector(name, "bits2_chunky3", "2-bit, 3 interleaved samples per pixel: a row is 15 samples",
                      f"imagecodecs {imagecodecs.__version__} packints_encode(runlen=15)",
                      [TRANSPOSE, {"name": name, "configuration": {"bits": 2, "samples": 3, "min_rows": 2}}],
                      imagecodecs.packints_encode(stored, 2, runlen=15), a))
    a = (np.arange(4 * 9) % 5 == 0).astype("u1").reshape(4, 9)
    chunk = np.zeros((4, 9), "u1")
    chunk[:1] = a[:1]
    out.append(Vector(name, "bits1_short_strip", "a short last strip (1 of 4 rows): the missing rows are zeros",
                      f"imagecodecs {imagecodecs.__version__} packints_encode(runlen=9)",
                      [{"name": name, "configuration": {"bits": 1, "samples": 1, "min_rows": 1}}],
                      imagecodecs.packints_encode(a[:1], 1, runlen=9), chunk))
    return out


def bitorder(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.bitorder"
    a = _ramp((2, 6), "u1", 12)
    b = (np.arange(2 * 12) % 3 == 0).astype("u1").reshape(2, 12)
    return [
        Vector(name, "uint8", "FillOrder=2 bytes: every byte's bits reversed", f"imagecodecs "
               f"{imagecodecs.__version__} bitorder_encode", [_bytes(None), {"name": name}],
               imagecodecs.bitorder_encode(a.tobytes()), a),
        Vector(name, "bits1_fillorder2", "a 1-bit FillOrder=2 strip: bit reversal first, then unpacking",
               f"imagecodecs {imagecodecs.__version__} packints_encode + bitorder_encode",
               [{"name": "virtual_geotiff.bitunpack", "configuration": {"bits": 1, "samples": 1, "min_rows": 2}},
                {"name": name}],
               imagecodecs.bitorder_encode(imagecodecs.packints_encode(b, 1, runlen=12)), b),
    ]


def packbits(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.packbits"
    a = np.array([[7] * 20 + list(range(30)) + [0] * 150], "u1").reshape(4, 50)
    b = _ramp((6, 7), "u2", 13)
    seg, _ = _segment(_tifffile(b, compression="packbits", byteorder=">", rowsperstrip=6))
    return [
        Vector(name, "uint8_runs_literals", "runs longer than 128 and literal runs",
               f"imagecodecs {imagecodecs.__version__} packbits_encode", [_bytes(None), {"name": name}],
               imagecodecs.packbits_encode(a.tobytes()), a),
        Vector(name, "uint16_be_tifffile", "a big-endian uint16 PackBits strip from tifffile",
               f"tifffile {tifffile.__version__}", [_bytes("big"), {"name": name}], seg, b),
    ]


def lzw(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.lzw"
    small = _ramp((4, 8), "u1", 14)
    rng = np.random.default_rng(15)
    noisy = rng.integers(0, 256, (64, 96), dtype="u1")  # > 4096 codes: the table fills and is cleared
    f32 = _ramp((8, 8), "f4", 16)
    path = tmp / "lzw.tif"
    _gdal(path, noisy[None], compress="lzw", blockysize=64)
    seg, _ = _segment(path.read_bytes())
    return [
        Vector(name, "uint8_small", "a few codes, 9-bit only", f"imagecodecs {imagecodecs.__version__} lzw_encode",
               [_bytes(None), {"name": name}], imagecodecs.lzw_encode(small.tobytes()), small),
        Vector(name, "uint8_table_reset_gdal",
               "6 KiB of noise from GDAL: code widths 9..12 and a ClearCode when the table is full",
               f"GDAL {rasterio.__gdal_version__}", [_bytes(None), {"name": name}], seg, noisy),
        Vector(name, "float32_tifffile", "a float32 LZW strip from tifffile", f"tifffile {tifffile.__version__}",
               [_bytes("little"), {"name": name}],
               _segment(_tifffile(f32, compression="lzw", rowsperstrip=8))[0], f32),
    ]


def mask_8bit(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.mask_8bit"
    m = (np.arange(4 * 12) % 5 != 0).astype("u1").reshape(4, 12)
    return [Vector(name, "bits1_mask", "a 1-bit mask (1 = valid) read as GDAL reads masks: 0 / 255",
                   f"imagecodecs {imagecodecs.__version__} packints_encode(runlen=12)",
                   [{"name": name},
                    {"name": "virtual_geotiff.bitunpack", "configuration": {"bits": 1, "samples": 1, "min_rows": 4}}],
                   imagecodecs.packints_encode(m, 1, runlen=12), m * 255)]


def _test_image(bands: int, size: int = 16) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size]
    planes = [(x * 13 + y * 3) % 256, (y * 11 + 40) % 256, ((x - y) * 7 + 128) % 256, (x * y) % 256]
    return np.stack(planes[:bands]).astype("u1")


def jpeg(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.jpeg"
    out = []
    rgb = _test_image(3)
    path = tmp / "ycbcr.tif"
    _gdal(path, rgb, tiled=True, blockxsize=16, blockysize=16, compress="jpeg", photometric="ycbcr", jpeg_quality=90)
    seg, page = _segment(path.read_bytes())
    tables = base64.b64encode(page.jpegtables).decode("ascii")
    out.append(Vector(name, "ycbcr_tables_gdal",
                      "GDAL PHOTOMETRIC=YCBCR tile: abbreviated stream + JPEGTables, 2x2 chroma subsampling, decoded "
                      "to RGB; expected = GDAL's read", f"GDAL {rasterio.__gdal_version__}",
                      [TRANSPOSE, _bytes(None), {"name": name, "configuration": {
                          "tables": tables, "colorspace": None, "outcolorspace": 2, "bits": 8}}],
                      seg, _gdal_window(path, Window(0, 0, 16, 16))))
    path = tmp / "rgbjpeg.tif"
    _gdal(path, rgb, tiled=True, blockxsize=16, blockysize=16, compress="jpeg", photometric="rgb", jpeg_quality=90)
    seg, page = _segment(path.read_bytes())
    out.append(Vector(name, "rgb_tables_gdal", "GDAL PHOTOMETRIC=RGB JPEG tile: components stored as R, G, B, no "
                      "colour conversion", f"GDAL {rasterio.__gdal_version__}",
                      [TRANSPOSE, _bytes(None), {"name": name, "configuration": {
                          "tables": base64.b64encode(page.jpegtables).decode("ascii"), "colorspace": 2,
                          "outcolorspace": 2, "bits": 8}}],
                      seg, _gdal_window(path, Window(0, 0, 16, 16))))
    grey = _test_image(1)
    path = tmp / "grey.tif"
    _gdal(path, grey, tiled=True, blockxsize=16, blockysize=16, compress="jpeg", jpeg_quality=80)
    seg, page = _segment(path.read_bytes())
    out.append(Vector(name, "grey_tables_gdal", "GDAL greyscale JPEG tile with JPEGTables",
                      f"GDAL {rasterio.__gdal_version__}",
                      [_bytes(None), {"name": name, "configuration": {
                          "tables": base64.b64encode(page.jpegtables).decode("ascii"), "colorspace": None,
                          "outcolorspace": None, "bits": 8}}],
                      seg, _gdal_window(path, Window(0, 0, 16, 16))[0]))
    return out


def webp(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.webp"
    out = []
    for case, bands, extra in (("rgb_lossless_gdal", 3, {"webp_lossless": True}),
                               ("rgba_lossy_gdal", 4, {"webp_level": 80})):
        img = _test_image(bands)
        path = tmp / f"{case}.tif"
        _gdal(path, img, tiled=True, blockxsize=16, blockysize=16, compress="webp", interleave="pixel", **extra)
        seg, _ = _segment(path.read_bytes())
        out.append(Vector(name, case, f"GDAL COMPRESS=WEBP {extra} tile, {bands} bands; expected = GDAL's read",
                          f"GDAL {rasterio.__gdal_version__}", [TRANSPOSE, _bytes(None), {"name": name}],
                          seg, _gdal_window(path, Window(0, 0, 16, 16))))
    return out


def png(tmp: Path) -> list[Vector]:
    name = "virtual_geotiff.png"
    rgb = _test_image(3, 8)
    grey16 = _ramp((6, 7), "u2", 17)
    return [
        Vector(name, "rgb8", "an 8-bit RGB PNG tile (imagecodecs' libpng)", f"imagecodecs "
               f"{imagecodecs.__version__} png_encode", [TRANSPOSE, _bytes(None), {"name": name}],
               imagecodecs.png_encode(np.ascontiguousarray(rgb.transpose(1, 2, 0))), rgb),
        Vector(name, "grey16", "a 16-bit greyscale PNG (big-endian inside PNG, decoded to native)",
               f"imagecodecs {imagecodecs.__version__} png_encode", [_bytes("little"), {"name": name}],
               imagecodecs.png_encode(grey16), grey16),
    ]


def python_only(tmp: Path) -> list[Vector]:
    """LERC, JPEG-XL and JPEG 2000: lossless vectors for implementations that have these decoders."""
    grey = _test_image(1, 12)[0]
    f32 = _ramp((5, 6), "f4", 18)
    f32[0, :2] = 0.5  # LERC cannot hold inf; keep finite values
    return [
        Vector("virtual_geotiff.lerc", "float32_lossless", "a LERC2 blob, maxzerror 0",
               f"imagecodecs {imagecodecs.__version__} lerc_encode(level=0)",
               [_bytes("little"), {"name": "virtual_geotiff.lerc", "configuration": {"nan_masked": False}}],
               imagecodecs.lerc_encode(np.nan_to_num(f32, posinf=1.0, neginf=-1.0), level=0.0),
               np.nan_to_num(f32, posinf=1.0, neginf=-1.0)),
        Vector("virtual_geotiff.jpegxl", "grey8_lossless", "a lossless JPEG-XL codestream",
               f"imagecodecs {imagecodecs.__version__} jpegxl_encode(lossless=True)",
               [_bytes(None), {"name": "virtual_geotiff.jpegxl"}], imagecodecs.jpegxl_encode(grey, lossless=True),
               grey),
        Vector("virtual_geotiff.jpeg2000", "grey8_lossless", "a lossless JPEG 2000 codestream",
               f"imagecodecs {imagecodecs.__version__} jpeg2k_encode(level=0)",
               [_bytes(None), {"name": "virtual_geotiff.jpeg2000"}], imagecodecs.jpeg2k_encode(grey, level=0), grey),
    ]


_CINT_VRT = """<VRTDataset rasterXSize="{width}" rasterYSize="{height}"><VRTRasterBand dataType="CInt32" band="1">
<SimpleSource><SourceFilename relativeToVRT="0">{source}</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
</VRTRasterBand></VRTDataset>"""


def _complex_ints(shape: tuple[int, int], bits: int, seed: int) -> np.ndarray:
    """complex128 with integer parts spanning the ``bits``-bit range (extremes first): CInt32 values beyond 2**24
    check that each part is rounded to float32 as GDAL rounds it."""
    rng = np.random.default_rng(seed)
    info = np.iinfo(f"i{bits // 8}")
    n = int(np.prod(shape))
    real = rng.integers(int(info.min), int(info.max), n, endpoint=True)
    imag = rng.integers(int(info.min), int(info.max), n, endpoint=True)
    real[:4] = [info.max, info.min, 0, 16777217 if bits == 32 else -1]
    imag[:4] = [info.min, info.max, -1, 33554435 if bits == 32 else 1]
    return (real.astype("f8") + 1j * imag.astype("f8")).reshape(shape)


def complex_int(tmp: Path) -> list[Vector]:
    """CInt16/CInt32 strips written by GDAL (SampleFormat=5); expected = rasterio's complex64 read."""
    name = "virtual_geotiff.complex_int"
    out = []
    for bits, seed in ((16, 19), (32, 20)):
        for endian, compress, height in (("little", "deflate", 4), ("big", None, 5)):
            a = _complex_ints((height, 6), bits, seed)
            path = tmp / f"cint{bits}_{endian}.tif"
            profile: dict[str, Any] = {"ENDIANNESS": endian.upper(), "BLOCKYSIZE": 4}
            if compress:
                profile["COMPRESS"] = compress.upper()
            if bits == 16:  # rasterio writes CInt16 itself; CInt32 has no rasterio dtype: a VRT converts
                _gdal(path, a.astype("complex64")[None], dtype="complex_int16", **profile)
            else:
                source = tmp / f"cint{bits}_{endian}_source.tif"
                _gdal(source, a[None])
                rasterio.shutil.copy(_CINT_VRT.format(width=6, height=height, source=source), path,
                                     driver="GTiff", **profile)
            index = 1 if height == 5 else 0  # 5 rows, 4 per strip: the short last strip (1 row)
            seg, page = _segment(path.read_bytes(), index)
            assert page.sampleformat == 5 and page.bitspersample == 2 * bits
            with rasterio.open(path) as src:
                read = src.read(1)
            chunk = np.zeros((4, 6), "c8")
            chunk[: height - 4 * index] = read[4 * index: 4 * index + 4]
            codecs = [{"name": name, "configuration": {"bits": bits, "endian": endian,
                                                       "min_bytes": (height - 4 * (height // 4) or 4) * 6 * bits // 4}}]
            if compress:
                codecs.append(ZLIB)
            what = "Deflate strip" if compress else "uncompressed short last strip (1 of 4 rows, padded with zeros)"
            out.append(Vector(name, f"cint{bits}_{endian}{'_deflate' if compress else '_short'}_gdal",
                              f"CInt{bits} {endian}-endian {what} written by GDAL; expected = rasterio's complex64 "
                              "read (each part rounded to float32)",
                              f"GDAL {rasterio.__gdal_version__}", codecs, seg, chunk))
    return out


#: The IFD tags the ``libtiff`` codec copies into its one-strip TIFF (``tiff.reader._CODING_TAGS``).
_LIBTIFF_CODING_TAGS = (259, 262, 266, 292, 293, 317, 338, 529, 530, 531, 532, 37439)
_TIFF_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8, 17: 8, 18: 8}


def _coding_tags(tiff: bytes, page: Any) -> list[list[Any]]:
    """``[tag, type, count, base64 of the value bytes as stored]`` for the coding tags of ``page``."""
    out = []
    for code in _LIBTIFF_CODING_TAGS:
        tag = page.tags.get(code)
        if tag is None:
            continue
        size = tag.count * _TIFF_TYPE_SIZE[tag.dtype]
        raw = tiff[tag.valueoffset: tag.valueoffset + size]
        out.append([code, int(tag.dtype), tag.count, base64.b64encode(raw).decode("ascii")])
    return out


def libtiff(tmp: Path) -> list[Vector]:
    """A CCITT Group 4 1-bit strip written by GDAL; expected = rasterio's read. Only a libtiff decodes it."""
    name = "virtual_geotiff.libtiff"
    y, x = np.mgrid[0:24, 0:40]
    a = (((x // 5 + y // 3) % 2 == 0) | ((x - 20) ** 2 + (y - 12) ** 2 < 60)).astype("u1")
    path = tmp / "fax4.tif"
    _gdal(path, a[None], compress="CCITTFAX4", nbits=1, blockysize=24)
    tiff = path.read_bytes()
    seg, page = _segment(tiff)
    assert page.compression == 4 and page.bitspersample == 1
    with rasterio.open(path) as src:
        read = src.read(1)
    assert np.array_equal(read, a)
    config = {"byteorder": "<", "tags": sorted(_coding_tags(tiff, page)), "width": 40, "samples": 1, "bits": 1,
              "sample_format": 1, "short_rows": 0, "blob": None}
    return [Vector(name, "ccitt_fax4_bits1_gdal",
                   "a 1-bit CCITT Group 4 strip written by GDAL (COMPRESS=CCITTFAX4, NBITS=1), 40 x 24; expected = "
                   "rasterio's read", f"GDAL {rasterio.__gdal_version__}", [{"name": name, "configuration": config}],
                   seg, read)]


CASES: list[Callable[[Path], list[Vector]]] = [
    horizontal_predictor, floating_point_predictor, pad, bitunpack, bitorder, packbits, lzw, mask_8bit, jpeg, webp,
    png, python_only, complex_int, libtiff,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=rasterio.errors.NotGeoreferencedWarning)
    if args.out.exists():
        for child in args.out.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
    with tempfile.TemporaryDirectory() as tmp:
        vectors = [v for make in CASES for v in make(Path(tmp))]
    for vector in vectors:
        vector.write(args.out)
    print(f"wrote {len(vectors)} vectors to {args.out}")


if __name__ == "__main__":
    main()
