"""``virtual_geotiff.pad``: pad a short decoded chunk with zeros to the full chunk size.

Why: Zarr needs one regular chunk grid, but the last strip of a TIFF whose height is not a multiple
of RowsPerStrip holds fewer rows. Padding after decompression makes that strip a full chunk; Zarr then
crops the padded rows away, so they are never visible. Only arrays with a short last strip get it.

``min_bytes`` is the decoded size of that last strip: a chunk decoding to fewer bytes is corrupt (a damaged
stream, or tags that disagree with the data), and padding it would hand back zeros as pixels. 0 (stores
written before the field existed) skips the check. ``row_bytes`` is the decoded size of one row; when it is
set, a chunk shorter than a full one must be exactly that last strip: any other short chunk is a damaged strip
(libtiff refuses it too) and is refused, never padded. 0 skips this check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import STALE_HINT, TiffFormatError
from ._base import TiffBytesDecoder, chunk_nbytes


@dataclass(frozen=True)
class PadCodec(TiffBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.pad"
    threaded: ClassVar[bool] = False
    min_bytes: int = 0
    row_bytes: int = 0

    def decode_chunk(self, data: np.ndarray, spec) -> np.ndarray:
        want = chunk_nbytes(spec)
        if data.size == want:
            return data
        if data.size > want:  # trailing bytes after the last row, as tifffile and libtiff ignore them
            return data[:want]
        if data.size < self.min_bytes:
            raise TiffFormatError(
                f"a chunk decoded to {data.size} bytes, fewer than the {self.min_bytes} even the short last "
                f"strip holds (a full chunk is {want}); the chunk is corrupt or the file's tags disagree with it; "
                f"{STALE_HINT}"
            )
        if self.row_bytes and data.size != self.min_bytes:
            raise TiffFormatError(
                f"a chunk decoded to {data.size} bytes: neither a full chunk ({want}) nor the short last strip "
                f"({self.min_bytes}); the chunk is corrupt or the file's tags disagree with it; "
                f"{STALE_HINT}"
            )
        out = np.zeros(want, dtype=np.uint8)
        out[: data.size] = data
        return out
