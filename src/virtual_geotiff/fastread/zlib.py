"""``LibdeflateZlib``: zarr's ``numcodecs.zlib`` codec decoded by libdeflate (TIFF Deflate chunks), opt-in.

Why: TIFF Deflate chunks are zlib streams, so arrays keep the portable name ``numcodecs.zlib`` that
zarr-python, zarrs and zarrita.js all decode. zarr-python decodes it with Python's ``zlib``, which grows its
output as it goes; libdeflate (shipped in imagecodecs) decodes the same streams in one call into a buffer of
the right size, which for a chunk is known: the decoded chunk is at most ``prod(shape) * itemsize`` bytes.
The gain is measured in docs/performance.md.

Same bytes, same name: ``LibdeflateZlib`` *is* zarr's ``numcodecs.zlib`` codec (a subclass with the same
``to_dict``), so metadata written through it is unchanged. zarr selects one implementation per codec name
from its config, so this one is used only after ``use_fast_decoders()`` (or the equivalent
``set_zlib_decoder(QUALNAME)``; note that ``zarr.config.set({"codecs.numcodecs.zlib": ...})`` does *not*
work: the config splits keys on dots, and this codec name has one).
Any stream libdeflate refuses (more output than a chunk holds, bad data, trailing bytes) is handed to
Python's ``zlib`` exactly as zarr's own codec would, so errors and edge cases stay identical.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import TYPE_CHECKING

import zarr
from zarr.codecs.numcodecs import Zlib
from zarr.registry import register_codec

from ..codecs._base import chunk_nbytes

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer

#: The config value that selects this implementation for ``numcodecs.zlib``.
QUALNAME = "virtual_geotiff.fastread.zlib.LibdeflateZlib"
#: zarr's own implementation (what ``set_zlib_decoder(ZARR_ZLIB)`` restores).
ZARR_ZLIB = "zarr.codecs.numcodecs.Zlib"


class LibdeflateZlib(Zlib):
    """``numcodecs.zlib`` decoded by libdeflate into a buffer of the chunk's size (encode is zarr's)."""

    def _decode_sync(self, chunk_data: Buffer, chunk_spec: ArraySpec) -> Buffer:
        import imagecodecs

        data = chunk_data.as_numpy_array()
        try:
            out = imagecodecs.deflate_decode(data, out=chunk_nbytes(chunk_spec))
        except imagecodecs.DeflateError:
            out = zlib.decompress(data)
        return chunk_spec.prototype.buffer.from_bytes(out)

    async def _decode_single(self, chunk_data: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return await asyncio.to_thread(self._decode_sync, chunk_data, chunk_spec)


def set_zlib_decoder(qualname: str) -> None:
    """Select the implementation zarr uses for ``numcodecs.zlib`` in this process."""
    register_codec("numcodecs.zlib", LibdeflateZlib, qualname=QUALNAME)
    codecs = dict(zarr.config.get("codecs"))
    codecs["numcodecs.zlib"] = qualname
    zarr.config.set({"codecs": codecs})
