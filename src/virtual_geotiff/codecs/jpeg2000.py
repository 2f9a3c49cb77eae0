"""``virtual_geotiff.jpeg2000``: JPEG 2000 (Compression=34712), decoded by imagecodecs.

The decoder returns pixels as ``(y, x[, samples])``: the same interleaved layout as uncompressed
chunky data, so the rest of the chain is the usual ``transpose`` + ``bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class Jpeg2000Codec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.jpeg2000"

    def decode_chunk(self, data, spec):
        return imagecodecs.jpeg2k_decode(data.tobytes())
