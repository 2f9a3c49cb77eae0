"""``virtual_geotiff.lerc``: Esri LERC (Compression=34887), decoded by imagecodecs.

GDAL's DEFLATE/ZSTD add-ons wrap the LERC blob; the registry puts ``numcodecs.zlib`` or ``zstd`` after
this codec in the chain, so each stage stays a single, standard step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs
import numpy as np

from ._base import TiffBytesDecoder


@dataclass(frozen=True)
class LercCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.lerc"

    def decode_chunk(self, data, spec):
        out = imagecodecs.lerc_decode(data.tobytes())
        if isinstance(out, tuple):  # (array, mask) when the blob carries a mask
            out = out[0]
        return np.asarray(out).astype(spec.dtype.to_native_dtype(), copy=False)
