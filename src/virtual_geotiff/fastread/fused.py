"""One-pass decoders for common TIFF codec chains, used by ``GroupedReadPipeline`` (``pipeline.py``).

Why: the Sentinel-2 style chain ``numcodecs.zlib`` -> ``bytes`` -> ``virtual_geotiff.horizontal_predictor``
decoded codec by codec allocates three chunk-sized buffers (libdeflate's output, the predictor's cumulative
sum, zarr's copy into the output array). Here libdeflate inflates into one reusable scratch buffer and
imagecodecs' ``delta_decode`` undoes the predictor in place, so the only copy left is into the output.

Same bytes: the decoders are the ones ``LibdeflateZlib`` and ``HorizontalPredictorCodec`` call (libdeflate's
``zlib_decompress`` and imagecodecs' wrapping ``delta_decode`` on the unsigned view of the samples), in the
same order. A chunk this path cannot take whole (libdeflate refuses the stream, or it inflates to other
than exactly one chunk) returns ``None`` and the caller runs the codec chain itself, so errors and edge
cases are the chain's own. Stored metadata is untouched: this only chooses how a known chain is decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.codecs.bytes import BytesCodec
from zarr.core.buffer import cpu

from ..codecs.predictor import HorizontalPredictorCodec
from .zlib import LibdeflateZlib

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer

#: ``decode(chunk_bytes, scratch) -> decoded chunk (a view of scratch) | None``.
FusedDecoder = Callable[["Buffer", np.ndarray], "np.ndarray | None"]


def fused_decoder(array_array: tuple[Any, ...], array_bytes: Any, bytes_bytes: tuple[Any, ...],
                  spec: ArraySpec) -> tuple[FusedDecoder, int] | None:
    """A one-pass decoder and its scratch size in bytes for this chain, or ``None`` when there is none.

    Taken only for: libdeflate-decoded ``numcodecs.zlib``, then ``bytes`` in the machine's byte order,
    then optionally one ``HorizontalPredictorCodec`` of 1/2/4/8-byte samples.
    """
    if len(bytes_bytes) != 1 or type(bytes_bytes[0]) is not LibdeflateZlib:
        return None
    if spec.prototype.nd_buffer is not cpu.NDBuffer:  # the scratch buffer and libdeflate live in host memory
        return None
    if type(array_bytes) is not BytesCodec or len(array_array) > 1:
        return None
    dtype = np.dtype(spec.dtype.to_native_dtype())
    if dtype.itemsize > 1 and array_bytes.endian != _NATIVE:
        return None
    if dtype.hasobject or dtype.kind not in "iuf":
        return None
    predictor_axis: int | None = None
    if array_array:
        if type(array_array[0]) is not HorizontalPredictorCodec or dtype.itemsize not in (1, 2, 4, 8):
            return None
        predictor_axis = array_array[0].axis
    shape = tuple(int(n) for n in spec.shape)
    if not shape or 0 in shape:
        return None
    nbytes = int(np.prod(shape)) * dtype.itemsize
    words = np.dtype(f"u{dtype.itemsize}")

    def decode(chunk: Buffer, scratch: np.ndarray) -> np.ndarray | None:
        import imagecodecs

        raw = scratch[:nbytes]
        try:
            got = imagecodecs.deflate_decode(chunk.as_numpy_array(), out=raw)
        except imagecodecs.DeflateError:
            return None
        if len(got) != nbytes:
            return None
        if predictor_axis is None:
            return raw.view(dtype).reshape(shape)
        samples = raw.view(words).reshape(shape)
        imagecodecs.delta_decode(samples, axis=predictor_axis, out=samples)
        return samples.view(dtype)

    return decode, nbytes


_NATIVE = "little" if np.little_endian else "big"
