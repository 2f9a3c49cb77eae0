"""``virtual_geotiff.mask_8bit``: GDAL's 0/255 view of a 1-bit transparency mask.

GDAL stores internal masks (``NewSubfileType`` mask IFDs, ``Photometric=4``) as 1-bit images and, by
default (``GDAL_TIFF_INTERNAL_MASK_TO_8BIT=YES``), reads them back as 0 (nodata) / 255 (valid): that is
what ``rasterio``'s ``read_masks()`` returns. This array->array stage runs after ``bitunpack`` (which
yields 0/1) and maps every non-zero sample to 255, so a virtual ``mask`` equals rasterio's byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._base import TiffArrayArrayDecoder

#: The value GDAL gives a valid pixel of a 1-bit mask.
VALID = 255


@dataclass(frozen=True)
class Mask8BitCodec(TiffArrayArrayDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.mask_8bit"

    def decode_array(self, array: np.ndarray) -> np.ndarray:
        return np.where(array != 0, np.uint8(VALID), np.uint8(0)).astype(array.dtype, copy=False)
