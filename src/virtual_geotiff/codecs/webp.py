"""``virtual_geotiff.webp``: WebP (Compression=50001 and 34927), decoded by imagecodecs.

The decoder returns pixels as ``(y, x[, samples])``: the same interleaved layout as uncompressed
chunky data, so the rest of the chain is the usual ``transpose`` + ``bytes``.

``alpha``: the IFD has 4 samples (RGBA). libwebp's encoder drops an alpha channel that is opaque
everywhere, so such a tile decodes to RGB; libtiff (and so GDAL) asks libwebp for RGBA whenever the IFD
has 4 samples, which fills alpha with 255. With ``alpha=True`` this codec does the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class WebpCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.webp"
    alpha: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.alpha, bool):
            raise TypeError(f"alpha must be a bool, got {self.alpha!r}")

    def decode_chunk(self, data, spec):
        return imagecodecs.webp_decode(data.tobytes(), hasalpha=True if self.alpha else None)
