"""``virtual_geotiff.packbits``: TIFF PackBits run-length coding (Compression=32773).

Not ``numcodecs.packbits``, which packs booleans into bits: a different algorithm with the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs

from ._base import TiffBytesDecoder, check_full


@dataclass(frozen=True)
class PackBitsCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.packbits"
    exact: bool = False  # as in ``virtual_geotiff.lzw``: a short chunk is corrupt when nothing pads it

    def decode_chunk(self, data, spec):
        return check_full(imagecodecs.packbits_decode(data.tobytes()), spec, self)
