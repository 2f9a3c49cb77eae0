"""The ONE place that maps TIFF tags to a Zarr v3 data type and codec chain.

Inputs: Compression, Predictor, SampleFormat, BitsPerSample, samples per pixel, planar
configuration, photometric interpretation and byte order (all in ``IfdInfo``), plus the chunk layout.
Output: a ``CodecPlan`` holding the native numpy dtype and the codec chain as Zarr v3 JSON, in Zarr's
encode order: ``[array->array ...] + [array->bytes] + [bytes->bytes ...]``. Decoding runs it backwards:
decompress -> (pad a short strip) -> bytes / un-predict floats -> un-transpose -> un-predict integers.

Standard codec names that zarr-python, zarrs and zarrita.js all decode are used wherever they are
byte-exact (``bytes``, ``transpose``, ``numcodecs.zlib``, ``zstd``); everything else is a
``virtual_geotiff.*`` codec registered through the ``zarr.codecs`` entry point and reported as such.
"""

from __future__ import annotations

import base64
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import CORRUPT_HINT, StoredOrientationWarning, TiffFormatError, UnsupportedTiffError, where
from ..layout import ChunkLayout
from ..tiff.reader import IfdInfo, needs_libtiff
from ..tiff.tags import (
    Compression,
    FieldType,
    FillOrder,
    LercAddCompression,
    Orientation,
    Photometric,
    PlanarConfig,
    Predictor,
    SampleFormat,
    Tag,
    enum_name,
)

#: Codec names that zarr-python, zarrs (Rust) and zarrita.js (JS) all decode.
PORTABLE_CODECS = frozenset({"bytes", "transpose", "numcodecs.zlib", "zstd", "gzip"})

CodecJSON = dict[str, Any]

_SAMPLE_DTYPES: dict[tuple[int, int], str] = {
    (SampleFormat.UINT, 8): "u1", (SampleFormat.UINT, 16): "u2",
    (SampleFormat.UINT, 32): "u4", (SampleFormat.UINT, 64): "u8",
    (SampleFormat.INT, 8): "i1", (SampleFormat.INT, 16): "i2",
    (SampleFormat.INT, 32): "i4", (SampleFormat.INT, 64): "i8",
    (SampleFormat.IEEEFP, 16): "f2", (SampleFormat.IEEEFP, 32): "f4", (SampleFormat.IEEEFP, 64): "f8",
    (SampleFormat.COMPLEXIEEEFP, 64): "c8", (SampleFormat.COMPLEXIEEEFP, 128): "c16",
    # GDAL CInt16/CInt32: rasterio returns both as complex64 (``codecs.complexint``).
    (SampleFormat.COMPLEXINT, 32): "c8", (SampleFormat.COMPLEXINT, 64): "c8",
    # VOID samples are opaque words: read as unsigned integers, as tifffile does.
    (SampleFormat.VOID, 8): "u1", (SampleFormat.VOID, 16): "u2",
    (SampleFormat.VOID, 32): "u4", (SampleFormat.VOID, 64): "u8",
}

#: Compressions whose decoder returns decoded pixels (native order), not the stored sample bytes.
_IMAGE_CODECS = {
    Compression.JPEG: "virtual_geotiff.jpeg",
    Compression.WEBP: "virtual_geotiff.webp",
    Compression.WEBP_DEPRECATED: "virtual_geotiff.webp",
    Compression.JPEGXL: "virtual_geotiff.jpegxl",
    Compression.JPEGXL_DNG: "virtual_geotiff.jpegxl",
    Compression.PNG: "virtual_geotiff.png",
    Compression.JPEG2000: "virtual_geotiff.jpeg2000",
    Compression.LERC: "virtual_geotiff.lerc",
}

#: Our decompressors that can refuse a short chunk themselves (``exact``).
_EXACT_CAPABLE = frozenset({"virtual_geotiff.lzw", "virtual_geotiff.packbits"})

_ZLIB: CodecJSON = {"name": "numcodecs.zlib", "configuration": {"level": 6}}
_ZSTD: CodecJSON = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}

#: Lossless compressions that return the stored sample bytes.
_BYTE_CODECS: dict[int, CodecJSON] = {
    Compression.LZW: {"name": "virtual_geotiff.lzw"},
    Compression.PACKBITS: {"name": "virtual_geotiff.packbits"},
    Compression.ADOBE_DEFLATE: _ZLIB,
    Compression.DEFLATE: _ZLIB,
    # format 0 = FORMAT_AUTO: accepts the .xz container libtiff and imagecodecs write.
    Compression.LZMA: {"name": "numcodecs.lzma",
                       "configuration": {"format": 0, "check": -1, "preset": None, "filters": None}},
    Compression.ZSTD: _ZSTD,
    Compression.ZSTD_DEPRECATED: _ZSTD,
}

#: Codecs that apply the Predictor tag: libtiff registers it only for these (TIFFPredictorInit), so GDAL
#: ignores a Predictor on uncompressed, PackBits or image-codec data, and so do we.
_PREDICTOR_CODECS = frozenset({Compression.LZW, Compression.ADOBE_DEFLATE, Compression.DEFLATE, Compression.LZMA,
                               Compression.ZSTD, Compression.ZSTD_DEPRECATED})

_HINTS = {
    Compression.OJPEG: "old-style JPEG (Compression=6) is obsolete; rewrite the file with "
    "`gdal_translate -co COMPRESS=JPEG in.tif out.tif`",
    Compression.CCITT_RLE: "rewrite it with `gdal_translate -co COMPRESS=DEFLATE -co NBITS=1`",
    Compression.CCITT_FAX3: "rewrite it with `gdal_translate -co COMPRESS=DEFLATE -co NBITS=1`",
    Compression.CCITT_FAX4: "rewrite it with `gdal_translate -co COMPRESS=DEFLATE -co NBITS=1`",
    Compression.SGILOG: "LogLuv/LogL (SGILOG) samples need a colour-space decode with no byte-exact codec; convert "
    "them with `gdal_translate -ot Float32 -co COMPRESS=DEFLATE in.tif out.tif`",
    Compression.SGILOG24: "LogLuv/LogL (SGILOG24) samples need a colour-space decode with no byte-exact codec; "
    "convert them with `gdal_translate -ot Float32 -co COMPRESS=DEFLATE in.tif out.tif`",
    Compression.JBIG_BW: "rewrite it with `gdal_translate -co COMPRESS=DEFLATE -co NBITS=1`",
    Compression.JBIG_COLOR: "rewrite it with `gdal_translate -co COMPRESS=DEFLATE`",
}


@dataclass(frozen=True)
class CodecPlan:
    """The Zarr data type and codec chain of one IFD."""

    dtype: np.dtype
    codecs: tuple[CodecJSON, ...]

    @property
    def custom_codecs(self) -> tuple[str, ...]:
        """Names of codecs that only virtual-geotiff (installed) decodes."""
        return tuple(c["name"] for c in self.codecs if c["name"] not in PORTABLE_CODECS)

    @property
    def portable(self) -> bool:
        """True when zarrs and zarrita.js can decode the array too."""
        return not self.custom_codecs


def sample_dtype(ifd: IfdInfo, url: str) -> np.dtype:
    """The native numpy dtype of one sample, or UnsupportedTiffError naming the combination."""
    key = (ifd.sample_format, ifd.bits_per_sample)
    code = _SAMPLE_DTYPES.get(key)
    if code is None and is_packed(ifd):
        # Packed samples widen to the smallest unsigned dtype that holds them (as GDAL returns them).
        code = "u1" if ifd.bits_per_sample <= 8 else "u2" if ifd.bits_per_sample <= 16 else "u4"
    if code is None:
        fmt = enum_name(SampleFormat, ifd.sample_format)
        if ifd.sample_format == SampleFormat.COMPLEXINT:
            hint = "only CInt16 and CInt32 complex integers exist; convert with `gdal_translate -ot CFloat32`"
        elif ifd.bits_per_sample > 32 or ifd.sample_format not in (SampleFormat.UINT, SampleFormat.VOID):
            hint = "only unsigned integer samples can be bit-unpacked; rewrite with `gdal_translate -ot <type>`"
        else:
            hint = "no Zarr data type matches; convert with `gdal_translate -ot <type>`"
        raise UnsupportedTiffError(
            f"BitsPerSample={ifd.bits_per_sample} with SampleFormat={fmt} in {where(url, ifd.index)}: {hint}"
        )
    return np.dtype(code)


def is_packed(ifd: IfdInfo) -> bool:
    """True for unsigned samples whose width is not 8/16/32/64 bits (1, 2, 4, 12, 24-bit, GDAL NBITS)."""
    return (
        ifd.sample_format in (SampleFormat.UINT, SampleFormat.VOID)
        and 1 <= ifd.bits_per_sample <= 32
        and ifd.bits_per_sample not in (8, 16, 32)
    )


def plan_codecs(ifd: IfdInfo, byteorder: str, layout: ChunkLayout, url: str) -> CodecPlan:
    """Map the tags of ``ifd`` to a dtype and codec chain; refuse what cannot be decoded exactly."""
    loc = where(url, ifd.index)
    compression = ifd.compression
    check_supported(ifd, url)
    dtype = sample_dtype(ifd, url)
    _check_expansion(ifd, layout, dtype, loc)
    if uses_libtiff(ifd):
        return CodecPlan(dtype=dtype, codecs=(_libtiff_codec(ifd, byteorder, layout),))

    decompress: list[CodecJSON]  # in decode order
    if compression == Compression.NONE:
        decompress = []
    elif compression in _BYTE_CODECS:
        decompress = [_BYTE_CODECS[compression]]
    else:
        decompress = _image_decoder(ifd, loc)

    # Image decoders hand back native little-endian samples; stored bytes keep the file's byte order.
    endian = "little" if compression in _IMAGE_CODECS or byteorder == "<" else "big"
    array_to_array: list[CodecJSON] = []
    array_to_bytes: CodecJSON = {"name": "bytes", "configuration": {"endian": endian}}
    if dtype.itemsize == 1:
        array_to_bytes = {"name": "bytes"}

    predictor = ifd.predictor if compression in _PREDICTOR_CODECS else Predictor.NONE
    packed = is_packed(ifd) and compression != Compression.JPEG
    if packed:
        if compression in _IMAGE_CODECS:
            raise UnsupportedTiffError(
                f"{ifd.bits_per_sample}-bit samples with Compression={enum_name(Compression, compression)} "
                f"in {loc} are not supported; rewrite with `gdal_translate -ot Byte`"
            )
        if predictor not in (Predictor.NONE, 0):
            raise UnsupportedTiffError(
                f"Predictor={predictor} with {ifd.bits_per_sample}-bit samples in {loc} is not supported "
                "(libtiff does not define it either); rewrite with `gdal_translate -co PREDICTOR=1`"
            )
        array_to_bytes = {"name": "virtual_geotiff.bitunpack",
                          "configuration": {"bits": ifd.bits_per_sample, "samples": layout.interleaved_samples,
                                            "min_rows": _shortest_chunk_rows(layout)}}

    complex_int = ifd.sample_format == SampleFormat.COMPLEXINT
    if complex_int:
        if compression in _IMAGE_CODECS or predictor not in (Predictor.NONE, 0):
            raise UnsupportedTiffError(
                f"complex integer samples with Compression={enum_name(Compression, compression)} and "
                f"Predictor={predictor} in {loc} are not supported; rewrite with "
                "`gdal_translate -co PREDICTOR=1 -co COMPRESS=DEFLATE`"
            )
        stored_row = layout.chunks[-1] * layout.interleaved_samples * ifd.bits_per_sample // 8
        array_to_bytes = {"name": "virtual_geotiff.complex_int",
                          "configuration": {"bits": ifd.bits_per_sample // 2, "endian": endian,
                                            "min_bytes": _shortest_chunk_rows(layout) * stored_row}}

    if packed or complex_int:
        pass
    elif predictor == Predictor.HORIZONTAL and compression not in _IMAGE_CODECS:
        if dtype.kind not in "iuf":
            raise UnsupportedTiffError(
                f"Predictor=2 (horizontal) with {dtype} samples in {loc} is not supported; "
                "rewrite it with `gdal_translate -co PREDICTOR=1`"
            )
        array_to_array.append({"name": "virtual_geotiff.horizontal_predictor", "configuration": {"axis": -1}})
    elif predictor == Predictor.FLOATINGPOINT and compression not in _IMAGE_CODECS:
        if dtype.kind != "f":
            raise UnsupportedTiffError(
                f"Predictor=3 (floating point) with {dtype} samples in {loc} is not defined by TIFF; rewrite it with "
                f"`gdal_translate -co PREDICTOR=2` (integer data) or `-co PREDICTOR=1`"
            )
        array_to_bytes = {"name": "virtual_geotiff.floating_point_predictor",
                          "configuration": {"samples": layout.interleaved_samples}}
    elif predictor not in (Predictor.NONE, Predictor.HORIZONTAL, Predictor.FLOATINGPOINT, 0):
        raise UnsupportedTiffError(f"Predictor={predictor} in {loc} is not a TIFF predictor this library knows; "
                                   "rewrite it with `gdal_translate -co PREDICTOR=1`")

    if layout.interleaved_samples > 1:
        array_to_array.append({"name": "transpose", "configuration": {"order": [1, 2, 0]}})
    # bitunpack pads a short strip itself: the padding must happen after unpacking.
    bytes_to_bytes = []
    if layout.short_last_chunk and not packed and not complex_int:
        row_bytes = layout.chunks[-1] * layout.interleaved_samples * dtype.itemsize
        bytes_to_bytes.append({"name": "virtual_geotiff.pad",
                               "configuration": {"min_bytes": _shortest_chunk_rows(layout) * row_bytes,
                                                 "row_bytes": row_bytes}})
    if decompress and decompress[0]["name"] in _EXACT_CAPABLE and array_to_bytes["name"] == "bytes" \
            and not bytes_to_bytes:  # nothing pads the decompressed chunk: a short one is corrupt
        decompress = [{"name": decompress[0]["name"], "configuration": {"exact": True}}]
    bytes_to_bytes += list(reversed(decompress))
    if ifd.fill_order == FillOrder.LSB2MSB:
        bytes_to_bytes.append({"name": "virtual_geotiff.bitorder"})  # decoded first: before decompression
    return CodecPlan(dtype=dtype, codecs=(*array_to_array, array_to_bytes, *bytes_to_bytes))


def _shortest_chunk_rows(layout: ChunkLayout) -> int:
    """Rows of the shortest chunk: the last strip's when it is short, else a full chunk's."""
    rows = layout.chunks[-2]
    return layout.shape[-2] - (layout.grid_shape[-2] - 1) * rows if layout.short_last_chunk else rows


def check_supported(ifd: IfdInfo, url: str) -> None:
    """Refuse, by name, a compression this library cannot map; warn about a non-default Orientation.

    Runs before the chunk layout is planned, so that an unsupported compression is named as the root cause
    even when other tags are unusual too.
    """
    loc = where(url, ifd.index)
    compression = ifd.compression
    if not uses_libtiff(ifd) and compression != Compression.NONE and compression not in _BYTE_CODECS \
            and compression not in _IMAGE_CODECS:
        hint = _HINTS.get(compression, "rewrite it with `gdal_translate -co COMPRESS=DEFLATE in.tif out.tif` "
                          "(or ZSTD)")
        raise UnsupportedTiffError(f"Compression={enum_name(Compression, compression)} in {loc} is not "
                                   f"supported; {hint}")
    if ifd.orientation not in (0, Orientation.TOPLEFT):  # 0 (invalid) reads as top-left
        warnings.warn(StoredOrientationWarning(
            f"Orientation={ifd.orientation} in {loc}: the pixels are returned as stored, not flipped or rotated, "
            "exactly as GDAL/rasterio and tifffile return them; the array's `tiff_orientation` attribute says "
            "how to display them"
        ), stacklevel=3)


def _image_decoder(ifd: IfdInfo, loc: str) -> list[CodecJSON]:
    compression = ifd.compression
    name = _IMAGE_CODECS[compression]
    if compression == Compression.JPEG:
        return [{"name": name, "configuration": _jpeg_configuration(ifd, loc)}]
    if compression == Compression.LERC:
        params = ifd.lerc_parameters or (4, LercAddCompression.NONE)
        add = params[1] if len(params) > 1 else LercAddCompression.NONE
        addon = {LercAddCompression.NONE: [], LercAddCompression.DEFLATE: [_ZLIB],
                 LercAddCompression.ZSTD: [_ZSTD]}.get(add)
        if addon is None:
            raise UnsupportedTiffError(f"LercParameters={list(params)} in {loc}: unknown LERC add-on "
                                       f"compression {add}; rewrite it with "
                                       "`gdal_translate -co COMPRESS=LERC_DEFLATE` (or LERC_ZSTD)")
        if ifd.sample_format == SampleFormat.IEEEFP:  # masked pixels are NaN, as GDAL wrote them
            return [*addon, {"name": name, "configuration": {"nan_masked": True}}]
        return [*addon, {"name": name}]
    if name == "virtual_geotiff.webp" and ifd.samples_per_pixel == 4:
        return [{"name": name, "configuration": {"alpha": True}}]
    return [{"name": name}]


def _jpeg_configuration(ifd: IfdInfo, loc: str) -> dict[str, Any]:
    """libjpeg colour spaces exactly as libtiff sets them for GDAL (``tif_jpeg.c``, ``JPEGPreDecode``).

    GDAL sets ``JPEGCOLORMODE_RGB`` on Photometric=YCbCr files, and libtiff then tells libjpeg the stream is
    YCbCr and asks for RGB, with libjpeg's default (fancy) chroma upsampling. Every other case (RGB,
    greyscale, CMYK, separate planes) suppresses colour handling: ``JCS_UNKNOWN`` in and out, so samples
    come back as stored whatever a JFIF or Adobe marker in the stream claims (libjpeg's own guess would
    convert a JFIF stream to RGB, which GDAL does not).
    """
    if ifd.bits_per_sample not in (8, 12):
        raise UnsupportedTiffError(f"JPEG with BitsPerSample={ifd.bits_per_sample} in {loc} is not supported; "
                                   "rewrite it losslessly with `gdal_translate -co COMPRESS=DEFLATE`")
    contig = ifd.planar != PlanarConfig.SEPARATE or ifd.samples_per_pixel == 1
    colorspace: int | None
    outcolorspace: int | None
    if contig and ifd.photometric == Photometric.YCBCR:
        # null -> RGB means "the stream is YCbCr" (the codec forces JCS_YCbCr): the form stores have always had
        colorspace, outcolorspace = None, _JCS_RGB
    else:
        # JCS_UNKNOWN -> JCS_UNKNOWN as libtiff does; imagecodecs reads 0 as "not given", so the same no-op is
        # asked for as "the stream's components are already what we want" for 3 and 4 components; one
        # component is never converted by libjpeg, which null -> null says.
        colorspace = _JCS_AS_STORED.get(ifd.samples_per_pixel if contig else 1)
        outcolorspace = colorspace
    tables = None if not ifd.jpeg_tables else base64.b64encode(ifd.jpeg_tables).decode("ascii")
    return {"tables": tables, "colorspace": colorspace, "outcolorspace": outcolorspace,
            "bits": ifd.bits_per_sample}


#: libjpeg ``J_COLOR_SPACE`` values (``jpeglib.h``).
_JCS_RGB, _JCS_CMYK = 2, 4
#: Components per chunk -> the colour space whose conversion to itself is libjpeg's plain copy (1 component:
#: libjpeg never converts greyscale, so none is named).
_JCS_AS_STORED = {3: _JCS_RGB, 4: _JCS_CMYK}


def uses_libtiff(ifd: IfdInfo) -> bool:
    """True when the IFD's chunks decode through ``virtual_geotiff.libtiff`` (see ``tiff.reader.needs_libtiff``)."""
    return needs_libtiff(ifd.compression, ifd.photometric, ifd.predictor, ifd.bits_per_sample)


def _libtiff_codec(ifd: IfdInfo, byteorder: str, layout: ChunkLayout) -> CodecJSON:
    """The one-stage chain of an IFD only libtiff decodes: its coding tags, chunk width and sample layout."""
    samples = layout.interleaved_samples
    tags = [[tag, typ, count, base64.b64encode(raw).decode("ascii")] for tag, typ, count, raw in ifd.coding_tags]
    if samples == 1 and ifd.samples_per_pixel > 1:  # one plane of a separate-planes image is greyscale
        photometric = Photometric.MINISBLACK.to_bytes(2, "little" if byteorder == "<" else "big")
        tags = [t for t in tags if t[0] != Tag.PHOTOMETRIC_INTERPRETATION]
        tags.append([int(Tag.PHOTOMETRIC_INTERPRETATION), int(FieldType.SHORT), 1,
                     base64.b64encode(photometric).decode("ascii")])
    short_rows = _shortest_chunk_rows(layout) if layout.short_last_chunk else 0
    return {"name": "virtual_geotiff.libtiff",
            "configuration": {"byteorder": byteorder, "tags": sorted(tags), "width": layout.chunks[-1],
                              "samples": samples, "bits": ifd.bits_per_sample,
                              "sample_format": ifd.sample_format, "short_rows": short_rows,
                              "blob": base64.b64encode(ifd.coding_blob).decode("ascii")
                              if ifd.compression == Compression.OJPEG else None}}


#: Most a stored byte can expand to, per compression, plus a constant for headers and the last block:
#: Deflate's longest match (258 bytes) costs at least 2 bits, so a stream expands at most ~1032:1;
#: PackBits at most 128 bytes from 2; a TIFF LZW code (at least 9 bits) emits at most 4096 bytes (3641:1);
#: a ZSTD RLE block spends 4 bytes on at most 128 KiB (32768:1). LZMA and image codecs are not checked.
_MAX_EXPANSION: dict[int, tuple[int, int]] = {
    Compression.ADOBE_DEFLATE: (1032, 1024),
    Compression.DEFLATE: (1032, 1024),
    Compression.PACKBITS: (64, 128),
    Compression.LZW: (3641, 4096),
    Compression.ZSTD: (32768, 1024),
    Compression.ZSTD_DEPRECATED: (32768, 1024),
}


def _check_expansion(ifd: IfdInfo, layout: ChunkLayout, dtype: np.dtype, loc: str) -> None:
    """Refuse chunks too short to decode to even the shortest chunk's size with their compression.

    Corrupt size tags (ImageWidth, SamplesPerPixel, BitsPerSample, tile size) make every chunk claim more
    pixels than its stored bytes can hold; read, each such chunk would fail deep inside zarr with an untyped
    reshape error. Checked here, at build time, the file is refused with a message naming the cause.
    """
    bound = _MAX_EXPANSION.get(ifd.compression)
    present = layout.lengths[layout.lengths > 0]
    if bound is None or not present.size:
        return
    samples_row = layout.chunks[-1] * layout.interleaved_samples
    row_bytes = -(-samples_row * ifd.bits_per_sample // 8) if is_packed(ifd) else samples_row * dtype.itemsize
    need = _shortest_chunk_rows(layout) * row_bytes
    shortest = int(present.min())
    ratio, extra = bound
    if need > shortest * ratio + extra:
        raise TiffFormatError(
            f"{loc}: a {enum_name(Compression, ifd.compression)} chunk of {shortest} bytes cannot decode to the "
            f"{need} bytes its tags require (ImageWidth={ifd.width}, SamplesPerPixel={ifd.samples_per_pixel}, "
            f"BitsPerSample={ifd.bits_per_sample}, chunk {layout.chunks[-1]} x {layout.chunks[-2]}): the "
            f"compression expands at most {ratio}:1, so the tags or byte counts are corrupt; {CORRUPT_HINT}"
        )
