"""``virtual_geotiff.lzw``: TIFF LZW (Compression=5), decoded by imagecodecs.

No cross-language Zarr codec decodes TIFF's LZW variant today, so this one is custom. Decoding stops once
a full chunk is out (as libtiff and tifffile do): bytes after the last row are never interpreted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder, chunk_nbytes


@dataclass(frozen=True)
class LzwCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.lzw"

    def decode_chunk(self, data, spec):
        return imagecodecs.lzw_decode(data.tobytes(), out=chunk_nbytes(spec))
