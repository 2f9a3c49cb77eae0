"""``virtual_geotiff.jpegxl``: JPEG-XL (Compression=50002 and 52546), decoded by imagecodecs.

The decoder returns pixels as ``(y, x[, samples])``: the same interleaved layout as uncompressed
chunky data, so the rest of the chain is the usual ``transpose`` + ``bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class JpegXlCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.jpegxl"

    def decode_chunk(self, data, spec):
        return imagecodecs.jpegxl_decode(data.tobytes())
