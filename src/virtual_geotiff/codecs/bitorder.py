"""``virtual_geotiff.bitorder``: reverse the bits of every byte (TIFF FillOrder=2).

FillOrder=2 files (mostly fax and bilevel images) store each byte's bits least-significant first.
libtiff and tifffile reverse them before any decompression, so this stage runs first when decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class BitOrderCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.bitorder"
    threaded: ClassVar[bool] = False

    def decode_chunk(self, data, spec):
        return imagecodecs.bitorder_decode(data.tobytes())
