"""Shared plumbing for the read-only TIFF codecs: JSON round-trip, threading and the encode refusal.

Each codec module only says how to decode one chunk; this base gives every codec the same
``from_dict``/``to_dict`` mirror (so metadata round-trips exactly) and runs CPU-heavy decoding in a
worker thread, as zarr's own compressors do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec
from zarr.core.common import JSON, parse_named_configuration

from ..errors import TiffFormatError, UnsupportedTiffError, VirtualGeoTiffError

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer


class _NamedConfig:
    """``from_dict``/``to_dict`` for a frozen dataclass codec whose fields are its configuration."""

    codec_name: ClassVar[str]

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, cls.codec_name, require_configuration=False)
        return cls(**(config or {}))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        config = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        if not config:
            return {"name": self.codec_name}
        return {"name": self.codec_name, "configuration": config}


@contextmanager
def _typed_errors(codec: str) -> Iterator[None]:
    """A decoder library's error on a corrupt chunk (``ImcdError``, ``zlib.error``, ...) becomes a
    ``TiffFormatError`` naming the codec, so a read of a damaged file fails with the library's own type."""
    try:
        yield
    except (VirtualGeoTiffError, MemoryError):
        raise
    except Exception as exc:
        raise TiffFormatError(
            f"{codec} cannot decode a chunk ({type(exc).__name__}: {str(exc)[:200]}); the chunk is corrupt or "
            "the file's tags do not describe it"
        ) from exc


def _read_only(name: str) -> UnsupportedTiffError:
    return UnsupportedTiffError(
        f"the {name} codec only decodes existing TIFF chunks; write new data with a standard Zarr codec"
    )


@dataclass(frozen=True)
class TiffBytesDecoder(_NamedConfig, BytesBytesCodec):
    """A bytes->bytes stage that turns a stored TIFF chunk into raw sample bytes."""

    is_fixed_size: ClassVar[bool] = False
    #: Run the decode in a thread (true for real decompressors, false for trivial reshuffles).
    threaded: ClassVar[bool] = True

    def decode_chunk(self, data: np.ndarray, spec: ArraySpec) -> Any:
        """Decode ``data`` (a uint8 array); return bytes or a numpy array of the decoded samples."""
        raise NotImplementedError

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        with _typed_errors(self.codec_name):
            out = self.decode_chunk(chunk_bytes.as_numpy_array(), chunk_spec)
        if isinstance(out, np.ndarray):
            out = np.ascontiguousarray(out)
            if out.dtype.itemsize > 1 and out.dtype.byteorder not in ("<", "|") and (
                out.dtype.byteorder != "=" or not np.little_endian
            ):
                out = out.astype(out.dtype.newbyteorder("<"))
            out = out.reshape(-1).view(np.uint8)
            return chunk_spec.prototype.buffer.from_array_like(out)
        return chunk_spec.prototype.buffer.from_bytes(out)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        if self.threaded:
            return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)
        return self._decode_sync(chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer | None:
        raise _read_only(self.codec_name)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        raise _read_only(self.codec_name)


@dataclass(frozen=True)
class TiffArrayArrayDecoder(_NamedConfig, ArrayArrayCodec):
    """An array->array stage (predictors) applied after the samples are laid out as an array."""

    def decode_array(self, array: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _decode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        out = self.decode_array(chunk_array.as_numpy_array())
        return chunk_spec.prototype.nd_buffer.from_numpy_array(out)

    async def _decode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return self._decode_sync(chunk_array, chunk_spec)

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer | None:
        raise _read_only(self.codec_name)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return input_byte_length


@dataclass(frozen=True)
class TiffArrayBytesDecoder(_NamedConfig, ArrayBytesCodec):
    """A bytes->array stage that replaces ``bytes`` when the stored layout is not plain samples."""

    def decode_to_array(self, data: np.ndarray, spec: ArraySpec) -> np.ndarray:
        raise NotImplementedError

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        with _typed_errors(self.codec_name):
            out = self.decode_to_array(chunk_bytes.as_numpy_array(), chunk_spec)
        return chunk_spec.prototype.nd_buffer.from_numpy_array(out.reshape(chunk_spec.shape))

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        raise _read_only(self.codec_name)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return input_byte_length


def chunk_nbytes(spec: ArraySpec) -> int:
    """Bytes of one decoded chunk of ``spec`` (shape x item size)."""
    return int(np.prod(spec.shape)) * spec.dtype.to_native_dtype().itemsize


def check_full(out: bytes, spec: ArraySpec, codec: Any) -> bytes:
    """``out`` trimmed to one chunk; shorter than one chunk raises ``TiffFormatError`` when ``codec.exact``."""
    want = chunk_nbytes(spec)
    if len(out) > want:
        return out[:want]
    if codec.exact and len(out) < want:
        raise TiffFormatError(
            f"{codec.codec_name}: a chunk decoded to {len(out)} bytes, not the {want} of a full chunk; the chunk is "
            "corrupt or the file's tags disagree with it; if the file changed after the references were built, "
            "rebuild them (`virtual-geotiff verify REPO` lists changed files)"
        )
    return out
