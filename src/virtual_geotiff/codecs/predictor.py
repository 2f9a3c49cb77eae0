"""``virtual_geotiff.horizontal_predictor``: undo TIFF Predictor=2 (horizontal differencing).

TIFF restarts the differencing on every row and differences each sample with the same sample of the
previous pixel. With chunks laid out as ``(..., y, x)`` that is a cumulative sum along the last axis,
in the integer width of the samples (wrapping on overflow, as libtiff does). ``numcodecs.delta`` is a
flat delta over the whole chunk, so it cannot be used. Float16 data with Predictor=2 is differenced on
its 16-bit words, which is why the sum runs on an unsigned view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ._base import TiffArrayArrayDecoder


@dataclass(frozen=True)
class HorizontalPredictorCodec(TiffArrayArrayDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.horizontal_predictor"
    axis: int = -1

    def __post_init__(self) -> None:
        if not isinstance(self.axis, int) or isinstance(self.axis, bool):
            raise TypeError(f"axis must be an int, got {self.axis!r}")

    def decode_array(self, array: np.ndarray) -> np.ndarray:
        # The ``bytes`` codec of a big-endian file hands over a non-native (``>``) view: convert to native
        # first, since both the unsigned view and ``np.cumsum`` (whose result is native) need native words.
        native = array.dtype.newbyteorder("=")
        if array.dtype != native:
            array = array.astype(native)
        words = array.view(f"u{array.dtype.itemsize}") if array.dtype.kind != "u" else array
        summed = np.cumsum(words, axis=self.axis, dtype=words.dtype)
        return summed.view(native)
