"""``virtual_geotiff.webp``: WebP (Compression=50001 and 34927), decoded by imagecodecs.

The decoder returns pixels as ``(y, x[, samples])``: the same interleaved layout as uncompressed
chunky data, so the rest of the chain is the usual ``transpose`` + ``bytes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class WebpCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.webp"

    def decode_chunk(self, data, spec):
        return imagecodecs.webp_decode(data.tobytes())
