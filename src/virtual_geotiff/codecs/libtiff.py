"""``virtual_geotiff.libtiff``: decode a chunk through GDAL's libtiff, for codings nothing else decodes as GDAL.

CCITT RLE/Fax3/Fax4, SGILOG (LogL/LogLuv), YCbCr without JPEG (chroma subsampling) and a horizontal
predictor on packed (e.g. 12-bit) samples have no Zarr codec and no decoder that returns GDAL's values
(LogLuv to float, YCbCr to RGB through libtiff's RGBA interface). This codec wraps each chunk, with the
IFD's coding tags, as a one-strip TIFF in memory and reads it with GDAL (through rasterio's
``MemoryFile``): the values are GDAL's own, by construction, because GDAL decodes them. Pillow's bundled
libtiff decodes CCITT too, but not 12-bit samples, and converts LogLuv and YCbCr its own way.

It is Python-only and needs the ``libtiff`` extra (``pip install 'virtual-geotiff[libtiff]'``, which
installs rasterio); without it a read raises ``UnsupportedTiffError`` naming the extra.

Configuration (one array->bytes stage that replaces ``bytes``; nothing else in the chain):

- ``byteorder``: ``"<"`` or ``">"``, the source file's; the wrapped TIFF uses it, so ``tags`` values are
  copied byte for byte.
- ``tags``: ``[[tag, field type, count, base64 value bytes], ...]``, the coding tags of the IFD
  (Compression, Photometric, FillOrder, T4/T6Options, Predictor, ExtraSamples, YCbCr tags, StoNits).
- ``width``: chunk width in pixels; ``samples``: samples per pixel in one chunk (1 for separate planes);
  ``bits``/``sample_format``: BitsPerSample and SampleFormat of each sample.
- ``blob``: old-style JPEG only (else ``null``): base64 of the bytes the IFD's JPEGQTables, JPEGDCTables,
  JPEGACTables and JPEGInterchangeFormat tags point at. In ``tags`` those tags hold offsets into ``blob``;
  the wrapped TIFF places ``blob`` right before the chunk and adds its offset. JPEGInterchangeFormatLength
  holds the length of the header part (the end of ``blob``); the chunk's length is added to it.
- ``short_rows``: rows of a short last strip (0 when no strip is short). A chunk is first decoded with the
  chunk's full height; when libtiff refuses that, with ``short_rows`` rows, padded with zeros (Zarr
  crops the padding away).

The decoded chunk is GDAL's ``(band, y, x)`` array, reshaped to the chunk (``(y, x)`` for one band).
"""

from __future__ import annotations

import base64
import struct
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import STALE_HINT, TiffFormatError, UnsupportedTiffError
from ..tiff.tags import FieldType, Tag
from ._base import TiffArrayBytesDecoder

#: What to tell a user who lacks the extra.
INSTALL_HINT = "pip install 'virtual-geotiff[libtiff]'"
_LONG, _SHORT = FieldType.LONG, FieldType.SHORT


@dataclass(frozen=True)
class LibtiffCodec(TiffArrayBytesDecoder):
    codec_name: ClassVar[str] = "virtual_geotiff.libtiff"
    byteorder: str = "<"
    tags: tuple = ()
    width: int = 1
    samples: int = 1
    bits: int = 8
    sample_format: int = 1
    short_rows: int = 0
    blob: str | None = None

    def __post_init__(self) -> None:
        if self.blob is not None:
            base64.b64decode(self.blob, validate=True)
        if self.byteorder not in ("<", ">"):
            raise ValueError(f"byteorder must be '<' or '>', got {self.byteorder!r}")
        for name in ("width", "samples", "bits", "sample_format"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        object.__setattr__(self, "tags", tuple(tuple(t) for t in self.tags))
        for tag in self.tags:
            if len(tag) != 4:
                raise ValueError(f"each tag is [tag, type, count, base64 bytes], got {tag!r}")
            base64.b64decode(tag[3], validate=True)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["configuration"]["tags"] = [list(t) for t in self.tags]
        return out

    def decode_to_array(self, data: np.ndarray, spec) -> np.ndarray:
        rows = spec.shape[-2]
        dtype = spec.dtype.to_native_dtype()
        chunk = data.tobytes()
        try:
            out = self._read(chunk, rows, dtype)
        except TiffFormatError:
            if not self.short_rows or self.short_rows >= rows:
                raise
            out = self._read(chunk, self.short_rows, dtype)
        if out.shape[-2] < rows:
            full = np.zeros((out.shape[0], rows, out.shape[2]), dtype=out.dtype)
            full[:, : out.shape[1]] = out
            out = full
        return out.reshape(spec.shape)

    def _read(self, chunk: bytes, rows: int, dtype: np.dtype) -> np.ndarray:
        try:
            import rasterio
            from rasterio.errors import RasterioError
            from rasterio.io import MemoryFile
        except ImportError as exc:
            raise UnsupportedTiffError(
                f"this array's chunks are decoded through libtiff (codec {self.codec_name}), which needs the "
                f"'libtiff' extra: {INSTALL_HINT}"
            ) from exc
        blob = None if self.blob is None else base64.b64decode(self.blob)
        tiff = one_strip_tiff(self.byteorder, self.tags, self.width, rows, self.samples, self.bits,
                              self.sample_format, chunk, blob)
        try:
            with warnings.catch_warnings():  # the one-strip TIFF carries no georeferencing on purpose
                warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
                with rasterio.Env(GTIFF_IGNORE_READ_ERRORS=False), MemoryFile(tiff) as mem, mem.open() as ds:
                    out = ds.read()
        except RasterioError as exc:
            raise TiffFormatError(f"libtiff cannot decode a chunk ({str(exc)[:200]}); the chunk is corrupt or the "
                                  f"file's tags do not describe it; {STALE_HINT}") from exc
        if out.shape[0] != self.samples or out.dtype != dtype:
            raise TiffFormatError(f"libtiff decoded a chunk to {out.shape[0]} band(s) of {out.dtype}, not "
                                  f"{self.samples} of {dtype}; the file's tags do not describe its chunks")
        return out


#: Old-style JPEG tags whose values are offsets into ``blob`` (JPEGInterchangeFormat, Q/DC/AC tables).
_BLOB_OFFSET_TAGS = (Tag.JPEG_INTERCHANGE_FORMAT, Tag.JPEG_Q_TABLES, Tag.JPEG_DC_TABLES, Tag.JPEG_AC_TABLES)
_JIF_LENGTH = Tag.JPEG_INTERCHANGE_FORMAT_LENGTH


def one_strip_tiff(byteorder: str, tags: tuple, width: int, rows: int, samples: int, bits: int,
                   sample_format: int, chunk: bytes, blob: bytes | None = None) -> bytes:
    """A classic TIFF holding ``chunk`` as its only strip, described by ``tags`` plus its own size tags
    (and, for old-style JPEG, ``blob`` right before the chunk: see the module docstring)."""
    entries: dict[int, tuple[int, int, bytes]] = {
        tag: (typ, count, base64.b64decode(value)) for tag, typ, count, value in tags
    }

    def put(tag: int, typ: int, values: tuple[int, ...]) -> None:
        entries[tag] = (typ, len(values), struct.pack(f"{byteorder}{len(values)}{'I' if typ == _LONG else 'H'}",
                                                      *values))

    put(Tag.IMAGE_WIDTH, _LONG, (width,))
    put(Tag.IMAGE_LENGTH, _LONG, (rows,))
    put(Tag.BITS_PER_SAMPLE, _SHORT, (bits,) * samples)
    put(Tag.SAMPLES_PER_PIXEL, _SHORT, (samples,))
    put(Tag.ROWS_PER_STRIP, _LONG, (rows,))
    put(Tag.STRIP_BYTE_COUNTS, _LONG, (len(chunk),))
    put(Tag.PLANAR_CONFIGURATION, _SHORT, (1,))
    put(Tag.SAMPLE_FORMAT, _SHORT, (sample_format,) * samples)
    if samples == 1:
        entries.pop(Tag.EXTRA_SAMPLES, None)  # one plane of a separate-planes image: no extra samples
    put(Tag.STRIP_OFFSETS, _LONG, (0,))  # patched below, once the data offset is known
    count = len(entries)
    table_end = 8 + 2 + 12 * count + 4
    values = bytearray()
    fields: list[tuple[int, int, int, bytes]] = []
    for tag in sorted(entries):
        typ, n, raw = entries[tag]
        if len(raw) <= 4:
            fields.append((tag, typ, n, raw.ljust(4, b"\0")))
        else:
            fields.append((tag, typ, n, struct.pack(byteorder + "I", table_end + len(values))))
            values += raw + (b"\0" if len(raw) % 2 else b"")
    blob_at = table_end + len(values)
    data_at = blob_at + len(blob or b"")
    if blob is not None:  # offsets into blob: shift them (they are LONGs, inline or among ``values``)
        for i, (tag, typ, n, field) in enumerate(fields):
            if tag not in _BLOB_OFFSET_TAGS and tag != _JIF_LENGTH:
                continue
            shift = len(chunk) if tag == _JIF_LENGTH else blob_at
            at = None if 4 * n <= 4 else struct.unpack(byteorder + "I", field)[0] - table_end
            raw = field[: 4 * n] if at is None else bytes(values[at: at + 4 * n])
            new = struct.pack(f"{byteorder}{n}I", *(v + shift for v in struct.unpack(f"{byteorder}{n}I", raw)))
            if at is None:
                fields[i] = (tag, typ, n, new)
            else:
                values[at: at + 4 * n] = new
    out = bytearray(b"II*\0" if byteorder == "<" else b"MM\0*")
    out += struct.pack(byteorder + "IH", 8, count)
    for tag, typ, n, field in fields:
        if tag == Tag.STRIP_OFFSETS:
            field = struct.pack(byteorder + "I", data_at)
        out += struct.pack(byteorder + "HHI", tag, typ, n) + field
    out += struct.pack(byteorder + "I", 0) + values + (blob or b"") + chunk
    return bytes(out)
