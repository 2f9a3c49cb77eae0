"""``virtual_geotiff.jpeg``: TIFF JPEG (Compression=7), with the JPEGTables tag merged per chunk.

Most JPEG TIFFs (GDAL, libtiff, scanners) store the quantisation and Huffman tables once in JPEGTables
and abbreviated streams per tile; the codec keeps the tables (base64) in its configuration and hands
them to libjpeg (libjpeg-turbo, through imagecodecs) with every chunk.

Colour handling is libtiff's as GDAL configures it (see ``registry._jpeg_configuration``): ``colorspace``
and ``outcolorspace`` are libjpeg ``J_COLOR_SPACE`` values that override whatever the stream's markers
say. ``null -> 2`` is Photometric=YCbCr: the stream is decoded as YCbCr (``JCS_YCbCr`` forced, as libtiff
does) to RGB with libjpeg's default fancy upsampling. Otherwise no colour conversion, asked for as the same
space in and out (``2 -> 2`` RGB, ``4 -> 4`` CMYK; ``null -> null`` for one component, which libjpeg never
converts).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class JpegCodec(TiffBytesDecoder):
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
