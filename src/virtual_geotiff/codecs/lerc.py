"""``virtual_geotiff.lerc``: Esri LERC (Compression=34887), decoded by imagecodecs.

GDAL's DEFLATE/ZSTD add-ons wrap the LERC blob; the registry puts ``numcodecs.zlib`` or ``zstd`` after
this codec in the chain, so each stage stays a single, standard step.

LERC-internal masks: GDAL writes NaN float pixels as masked-out pixels of the LERC blob and libtiff
reads them back as NaN; a plain LERC decode gives 0 there (as tifffile returns them). With
``nan_masked=True`` (set by the registry for floating-point samples) masked pixels read as NaN, as
rasterio returns them. Integer samples keep the decoded value at masked pixels (0), as libtiff and
tifffile both do.
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
    nan_masked: bool = False

    def decode_chunk(self, data, spec):
        out, mask = imagecodecs.lerc_decode(data.tobytes(), masks=True)
        out = np.asarray(out).astype(spec.dtype.to_native_dtype(), copy=False)
        if self.nan_masked and mask is not None:
            mask = np.asarray(mask)
            if mask.shape != out.shape[: mask.ndim]:
                raise ValueError(f"LERC mask of shape {mask.shape} does not fit the tile of shape {out.shape}")
            out = np.array(out, copy=True)
            out[~mask.astype(bool)] = np.nan
        return out
