"""A faster decoder for the standard ``numcodecs.zlib`` codec name (TIFF Deflate tiles), opt-in.

Why: TIFF Deflate chunks are zlib streams, so arrays keep the portable name ``numcodecs.zlib`` that
zarr-python, zarrs and zarrita.js all decode. zarr-python decodes it with Python's ``zlib``; libdeflate
(shipped in imagecodecs) decodes the same streams about twice as fast when it is told the output size,
which for a chunk is known: the decoded chunk is at most ``prod(shape) * itemsize`` bytes.

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

from zarr.codecs.numcodecs import Zlib

from ._base import chunk_nbytes

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer

#: The config value that selects this implementation for ``numcodecs.zlib``.
QUALNAME = "virtual_geotiff.codecs.fastzlib.LibdeflateZlib"


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


#: zarr's own implementation (what ``set_zlib_decoder(ZARR_ZLIB)`` restores).
ZARR_ZLIB = "zarr.codecs.numcodecs.Zlib"


def set_zlib_decoder(qualname: str) -> None:
    """Select the implementation zarr uses for ``numcodecs.zlib`` in this process."""
    import zarr
    from zarr.registry import register_codec

    register_codec("numcodecs.zlib", LibdeflateZlib, qualname=QUALNAME)
    codecs = dict(zarr.config.get("codecs"))
    codecs["numcodecs.zlib"] = qualname
    zarr.config.set({"codecs": codecs})


def use_fast_decoders(*, pipeline: bool = True) -> None:
    """Make zarr read faster in this process (zarr config changes; decoded arrays are byte-identical).

    Decodes ``numcodecs.zlib`` chunks with libdeflate and, unless ``pipeline=False``, reads arrays through
    ``virtual_geotiff.codecs.pipeline.GroupedReadPipeline`` (chunks fetched and decoded in groups, one
    thread hop per group, Deflate + predictor in one pass). Both apply to arrays opened afterwards;
    ``use_default_decoders()`` restores zarr's own.
    """
    set_zlib_decoder(QUALNAME)
    if pipeline:
        from .pipeline import use_fast_pipeline

        use_fast_pipeline()


def use_default_decoders() -> None:
    """Undo ``use_fast_decoders``: zarr's own ``numcodecs.zlib`` and ``BatchedCodecPipeline``."""
    from .pipeline import ZARR_PIPELINE, set_codec_pipeline

    set_zlib_decoder(ZARR_ZLIB)
    set_codec_pipeline(ZARR_PIPELINE)
