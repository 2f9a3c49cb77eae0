"""The image-format codecs: TIFF compressions whose chunk is a whole image stream (JPEG, JPEG 2000, JPEG-XL,
PNG, WebP) or an Esri LERC blob, each decoded by imagecodecs.

Why one module: each is one short class over ``TiffBytesDecoder`` (``_base.py`` gives them the JSON
round-trip, the worker thread and the encode refusal), so they read best side by side, as zarr declares
its numcodecs wrappers. Each keeps its own codec id (``virtual_geotiff.jpeg``, ...), the name stored in
array metadata and registered as a ``zarr.codecs`` entry point.

The JPEG 2000, JPEG-XL, PNG and WebP decoders return pixels as ``(y, x[, samples])``: the same interleaved
layout as uncompressed chunky data, so the rest of the chain ``mapping.py`` plans is the usual ``transpose`` +
``bytes``.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import ClassVar

import imagecodecs
import numpy as np

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class JpegCodec(TiffBytesDecoder):
    """``virtual_geotiff.jpeg``: TIFF JPEG (Compression=7), with the JPEGTables tag merged per chunk.

    Most JPEG TIFFs (GDAL, libtiff, scanners) store the quantisation and Huffman tables once in JPEGTables
    and abbreviated streams per tile; the codec keeps the tables (base64) in its configuration and hands
    them to libjpeg (libjpeg-turbo, through imagecodecs) with every chunk.

    Colour handling is libtiff's as GDAL configures it (see ``mapping._jpeg_configuration``): ``colorspace``
    and ``outcolorspace`` are libjpeg ``J_COLOR_SPACE`` values that override whatever the stream's markers
    say. ``null -> 2`` is Photometric=YCbCr: the stream is decoded as YCbCr (``JCS_YCbCr`` forced, as libtiff
    does) to RGB with libjpeg's default fancy upsampling. Otherwise no colour conversion, asked for as the
    same space in and out (``2 -> 2`` RGB, ``4 -> 4`` CMYK; ``null -> null`` for one component, which libjpeg
    never converts).
    """

    codec_name: ClassVar[str] = "virtual_geotiff.jpeg"
    tables: str | None = None  # base64 of the JPEGTables tag
    colorspace: int | None = None  # libjpeg J_COLOR_SPACE of the stream; None: libjpeg's guess from markers
    outcolorspace: int | None = None  # libjpeg J_COLOR_SPACE to decode to; None: libjpeg's default
    bits: int = 8

    def __post_init__(self) -> None:
        if self.tables is not None:
            base64.b64decode(self.tables, validate=True)
        if self.bits not in (8, 12, 16):
            raise ValueError(f"JPEG bits must be 8, 12 or 16, got {self.bits!r}")

    def decode_chunk(self, data, spec):
        tables = None if self.tables is None else base64.b64decode(self.tables)
        colorspace = self.colorspace
        if colorspace is None and self.outcolorspace == _JCS_RGB:
            colorspace = _JCS_YCBCR  # Photometric=YCbCr: libtiff tells libjpeg the stream is YCbCr
        return imagecodecs.jpeg_decode(
            data.tobytes(), tables=tables, colorspace=colorspace, outcolorspace=self.outcolorspace,
            bitspersample=self.bits,
        )


#: libjpeg ``J_COLOR_SPACE`` values (``jpeglib.h``).
_JCS_RGB, _JCS_YCBCR = 2, 3


@dataclass(frozen=True)
class Jpeg2000Codec(TiffBytesDecoder):
    """``virtual_geotiff.jpeg2000``: JPEG 2000 (Compression=34712)."""

    codec_name: ClassVar[str] = "virtual_geotiff.jpeg2000"

    def decode_chunk(self, data, spec):
        return imagecodecs.jpeg2k_decode(data.tobytes())


@dataclass(frozen=True)
class JpegXlCodec(TiffBytesDecoder):
    """``virtual_geotiff.jpegxl``: JPEG-XL (Compression=50002 and 52546)."""

    codec_name: ClassVar[str] = "virtual_geotiff.jpegxl"

    def decode_chunk(self, data, spec):
        return imagecodecs.jpegxl_decode(data.tobytes())


@dataclass(frozen=True)
class PngCodec(TiffBytesDecoder):
    """``virtual_geotiff.png``: PNG (Compression=34933)."""

    codec_name: ClassVar[str] = "virtual_geotiff.png"

    def decode_chunk(self, data, spec):
        return imagecodecs.png_decode(data.tobytes())


@dataclass(frozen=True)
class WebpCodec(TiffBytesDecoder):
    """``virtual_geotiff.webp``: WebP (Compression=50001 and 34927).

    ``alpha``: the IFD has 4 samples (RGBA). libwebp's encoder drops an alpha channel that is opaque
    everywhere, so such a tile decodes to RGB; libtiff (and so GDAL) asks libwebp for RGBA whenever the IFD
    has 4 samples, which fills alpha with 255. With ``alpha=True`` this codec does the same.
    """

    codec_name: ClassVar[str] = "virtual_geotiff.webp"
    alpha: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.alpha, bool):
            raise TypeError(f"alpha must be a bool, got {self.alpha!r}")

    def decode_chunk(self, data, spec):
        return imagecodecs.webp_decode(data.tobytes(), hasalpha=True if self.alpha else None)


@dataclass(frozen=True)
class LercCodec(TiffBytesDecoder):
    """``virtual_geotiff.lerc``: Esri LERC (Compression=34887).

    GDAL's DEFLATE/ZSTD add-ons wrap the LERC blob; ``mapping.py`` puts ``numcodecs.zlib`` or ``zstd`` after
    this codec in the chain, so each stage stays a single, standard step.

    LERC-internal masks: GDAL writes NaN float pixels as masked-out pixels of the LERC blob and libtiff
    reads them back as NaN; a plain LERC decode gives 0 there (as tifffile returns them). With
    ``nan_masked=True`` (set by ``mapping.py`` for floating-point samples) masked pixels read as NaN, as
    rasterio returns them. Integer samples keep the decoded value at masked pixels (0), as libtiff and
    tifffile both do.
    """

    codec_name: ClassVar[str] = "virtual_geotiff.lerc"
    nan_masked: bool = False

    def decode_chunk(self, data, spec):
        out, mask = imagecodecs.lerc_decode(data.tobytes(), masks=True)
        out = np.asarray(out).astype(spec.dtype.to_native_dtype(), copy=False)
        if self.nan_masked and mask is not None:
            mask = np.asarray(mask)
            if mask.shape != out.shape[: mask.ndim]:
                raise ValueError(f"LERC mask of shape {mask.shape} does not fit the tile of shape {out.shape}")
            out = np.array(out, copy=True)
            out[~mask.astype(bool)] = np.nan
        return out
