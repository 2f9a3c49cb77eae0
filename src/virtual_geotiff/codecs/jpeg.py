"""``virtual_geotiff.jpeg``: TIFF JPEG (Compression=7), with the JPEGTables tag merged per chunk.

Most JPEG TIFFs (GDAL, libtiff, scanners) store the quantisation and Huffman tables once in JPEGTables
and abbreviated streams per tile; the codec keeps the tables (base64) in its configuration and hands
them to libjpeg with every chunk. Colour handling follows libtiff/GDAL defaults: YCbCr is decoded to
RGB, RGB and greyscale as stored, CMYK as stored, separate planes as greyscale.
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
    colorspace: int | None = None  # JPEG colour space to assume (PHOTOMETRIC value), None: libjpeg's guess
    outcolorspace: int | None = None  # colour space to decode to (PHOTOMETRIC value), None: default
    bits: int = 8

    def __post_init__(self) -> None:
        if self.tables is not None:
            base64.b64decode(self.tables, validate=True)
        if self.bits not in (8, 12, 16):
            raise ValueError(f"JPEG bits must be 8, 12 or 16, got {self.bits!r}")

    def decode_chunk(self, data, spec):
        tables = None if self.tables is None else base64.b64decode(self.tables)
        raw = data.tobytes()
        colorspace = self.colorspace
        if colorspace is not None and b"JFIF" in raw[:32]:
            colorspace = None  # a JFIF stream says YCbCr itself (tifffile does the same)
        return imagecodecs.jpeg_decode(
            raw, tables=tables, colorspace=colorspace, outcolorspace=self.outcolorspace,
            bitspersample=self.bits,
        )
