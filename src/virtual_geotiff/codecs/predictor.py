"""``virtual_geotiff.horizontal_predictor``: undo TIFF Predictor=2 (horizontal differencing).

TIFF restarts the differencing on every row and differences each sample with the same sample of the
previous pixel. With chunks laid out as ``(..., y, x)`` that is a cumulative sum along the last axis,
in the integer width of the samples (wrapping on overflow, as libtiff does). ``numcodecs.delta`` is a
flat delta over the whole chunk, so it cannot be used. Float16 data with Predictor=2 is differenced on
its 16-bit words, which is why the sum runs on an unsigned view.

Why imagecodecs: its ``delta_decode`` (C, releases the GIL) computes the same wrapping cumulative sum as
``np.cumsum`` in less time (docs/performance.md), and the decode runs in a worker thread like the
decompressors, so chunks un-predict in parallel instead of one after another on the event loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ._base import TiffArrayArrayDecoder

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import NDBuffer


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
        return _cumsum(words, self.axis).view(native)

    async def _decode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return await asyncio.to_thread(self._decode_sync, chunk_array, chunk_spec)


def _cumsum(words: np.ndarray, axis: int) -> np.ndarray:
    """Wrapping cumulative sum of unsigned words along ``axis`` (a new array)."""
    if words.dtype.itemsize in (1, 2, 4, 8) and words.ndim >= 1 and words.size:
        try:
            import imagecodecs

            return imagecodecs.delta_decode(np.ascontiguousarray(words), axis=axis)
        except Exception:  # an imagecodecs without this dtype/axis: numpy gives the same result
            pass
    return np.cumsum(words, axis=axis, dtype=words.dtype)
