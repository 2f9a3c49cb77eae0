"""``virtual_geotiff.complex_int``: GDAL CInt16/CInt32 samples (SampleFormat=5) as complex64.

A complex integer sample is two signed integers (real, imaginary) of ``bits`` each, in the file's byte
order. numpy has no complex integer type; rasterio returns both CInt16 and CInt32 as ``complex64`` (GDAL
converts each part to float32, rounding to nearest), and this array->bytes stage (it replaces ``bytes``)
returns exactly that. A short last strip decodes to fewer values and is padded with zeros here (Zarr crops
them away); ``min_bytes`` is the stored size of that short strip: a chunk holding neither a full chunk nor
exactly that many whole values is corrupt and refused, never padded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import STALE_HINT, TiffFormatError
from ._base import TiffArrayBytesDecoder


@dataclass(frozen=True)
class ComplexIntCodec(TiffArrayBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.complex_int"
    bits: int = 16  # bits of each part (CInt16: 16, CInt32: 32)
    endian: str = "little"
    min_bytes: int = 0

    def __post_init__(self) -> None:
        if self.bits not in (16, 32):
            raise ValueError(f"bits must be 16 or 32, got {self.bits!r}")
        if self.endian not in ("little", "big"):
            raise ValueError(f"endian must be 'little' or 'big', got {self.endian!r}")

    def decode_to_array(self, data: np.ndarray, spec) -> np.ndarray:
        total = int(np.prod(spec.shape))
        word = np.dtype(f"{'<' if self.endian == 'little' else '>'}i{self.bits // 8}")
        stored = min(data.size // (2 * word.itemsize), total)
        full = total * 2 * word.itemsize
        if data.size < full and (data.size < self.min_bytes or self.min_bytes == 0
                                 or stored * 2 * word.itemsize != self.min_bytes):
            raise TiffFormatError(
                f"a complex integer chunk holds {data.size} bytes, fewer than the "
                f"{self.min_bytes or total * 2 * word.itemsize} its shortest chunk needs; the chunk is corrupt; "
                f"{STALE_HINT}"
            )
        parts = np.frombuffer(data, dtype=word, count=2 * stored).reshape(-1, 2)
        out = np.zeros(total, dtype=np.complex64)
        out.real[:stored] = parts[:, 0]
        out.imag[:stored] = parts[:, 1]
        return out
