"""``virtual_geotiff.bitunpack``: unpack 1..31-bit samples (bilevel, 2/4-bit, GDAL NBITS) to integers.

TIFF packs such samples as an MSB-first bit stream, each row starting on a byte boundary. This
bytes->array stage replaces ``bytes`` and widens every sample to the smallest fitting unsigned dtype
(uint8 up to 8 bits, uint16 up to 16, uint32 up to 32), which is what GDAL returns. ``samples`` is the
number of interleaved samples per pixel in a stored row (bands for chunky data, otherwise 1). A short
last strip decodes to fewer rows; they are padded with zeros here (Zarr crops them away). ``min_rows`` is
the rows of the short last strip (else a full chunk's): a chunk with any other number of whole rows is corrupt,
refused rather than padded with zeros. 0 (stores written before the field existed) skips the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs
import numpy as np

from ..errors import STALE_HINT, TiffFormatError
from ._base import TiffArrayBytesDecoder


@dataclass(frozen=True)
class BitUnpackCodec(TiffArrayBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.bitunpack"
    bits: int = 1
    samples: int = 1
    min_rows: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.bits, int) or not 1 <= self.bits <= 32:
            raise ValueError(f"bits must be an int in 1..32, got {self.bits!r}")
        if not isinstance(self.samples, int) or self.samples < 1:
            raise ValueError(f"samples must be a positive int, got {self.samples!r}")

    def decode_to_array(self, data: np.ndarray, spec) -> np.ndarray:
        dtype = spec.dtype.to_native_dtype()
        width = spec.shape[-2] if self.samples > 1 else spec.shape[-1]
        runlen = width * self.samples
        total = int(np.prod(spec.shape))
        row_bytes = -(-runlen * self.bits // 8)
        rows = min(data.size // row_bytes, total // runlen)
        if rows < self.min_rows or (self.min_rows and self.min_rows < rows < total // runlen):
            raise TiffFormatError(
                f"a {self.bits}-bit chunk holds {rows} full rows of {row_bytes} bytes ({data.size} bytes): neither "
                f"a full chunk ({total // runlen} rows) nor the shortest chunk ({self.min_rows}); the chunk is "
                f"corrupt; {STALE_HINT}"
            )
        out = np.zeros(total, dtype=dtype)
        if rows:
            unpacked = imagecodecs.packints_decode(data[: rows * row_bytes].tobytes(), dtype, self.bits,
                                                   runlen=runlen)
            out[: rows * runlen] = unpacked.reshape(-1)[: rows * runlen]
        return out
