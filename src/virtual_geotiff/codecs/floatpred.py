"""``virtual_geotiff.floating_point_predictor``: undo TIFF Predictor=3 (floating-point predictor).

Predictor 3 splits each row's floats into byte planes (most significant first) and differences the
bytes, so it is a bytes->array stage: it replaces ``bytes``. The stored form is independent of the
file's byte order. ``samples`` is the number of interleaved samples per pixel in the stored row (the
band count for chunky multi-band data, otherwise 1); the predictor steps over pixels, not bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import imagecodecs
import numpy as np

from ..errors import STALE_HINT, TiffFormatError
from ._base import TiffArrayBytesDecoder, chunk_nbytes


@dataclass(frozen=True)
class FloatingPointPredictorCodec(TiffArrayBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.floating_point_predictor"
    samples: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.samples, int) or self.samples < 1:
            raise ValueError(f"samples must be a positive int, got {self.samples!r}")

    def decode_to_array(self, data: np.ndarray, spec) -> np.ndarray:
        dtype = spec.dtype.to_native_dtype()
        if data.size != chunk_nbytes(spec):
            raise TiffFormatError(
                f"floating-point predictor: chunk holds {data.size} bytes, expected {chunk_nbytes(spec)}; the chunk "
                f"is corrupt or the file's tags disagree with it; {STALE_HINT}"
            )
        width = spec.shape[-2] if self.samples > 1 else spec.shape[-1]
        rows = int(np.prod(spec.shape)) // (width * self.samples)
        stored = np.frombuffer(data.tobytes(), dtype=dtype).reshape(rows, width, self.samples)
        return imagecodecs.floatpred_decode(stored, axis=-2)
