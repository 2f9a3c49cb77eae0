"""``virtual_geotiff.lzw``: TIFF LZW (Compression=5), decoded by imagecodecs.

No cross-language Zarr codec decodes TIFF's LZW variant today, so this one is custom. Decoding stops once
a full chunk is out (as libtiff and tifffile do): bytes after the last row are never interpreted.

``exact``: set when nothing after this codec pads a short chunk (no short last strip, plain ``bytes``): a
chunk decoding to fewer bytes than a full chunk is corrupt and raises ``TiffFormatError`` here, instead of
an untyped reshape error in zarr's ``bytes`` codec. ``False`` (the default) passes the output on as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder, check_full, chunk_nbytes


@dataclass(frozen=True)
class LzwCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.lzw"
    exact: bool = False

    def decode_chunk(self, data, spec):
        return check_full(imagecodecs.lzw_decode(data.tobytes(), out=chunk_nbytes(spec)), spec, self)
