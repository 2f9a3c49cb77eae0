"""Decode one IFD's raw entries into an ``IfdInfo``: the tags this library maps, typed, from bytes in memory.

Why our own decoder instead of async-tiff's: the chain walk (``tiff.chain``) must read every IFD entry
table anyway, to stop looping chains and absurd counts before any parser sees them, so the entries are
already in memory. Typing the few dozen tags we map from them is a small, pure step; handing the same bytes
to another TIFF parser would read them twice and would need repaired copies of the IFDs it cannot parse
(no SamplesPerPixel, unknown field types or photometric values, non-UTF-8 strings, duplicate tags).

The value rules follow libtiff/tifffile (which the tests compare against): missing SamplesPerPixel and
BitsPerSample default to 1, a tag stored twice keeps its first entry (``tiff.chain``), ASCII values end
at their first NUL, GeoTIFF ASCII keys lose the trailing ``|``.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

from ..errors import CORRUPT_HINT, TiffFormatError, UnsupportedTiffError, where
from .chain import FIELD_TYPE_SIZES, IfdChain, RawEntry
from .tags import FieldType, GeoKey, Tag

#: struct/numpy format letter of each integer or floating-point field type (RATIONALs are pairs of these).
#: Plain int keys, as in every table below: they are looked up for each entry of each IFD read.
_FORMATS: dict[int, str] = {int(typ): fmt for typ, fmt in (
    (FieldType.BYTE, "B"), (FieldType.SHORT, "H"), (FieldType.LONG, "I"), (FieldType.RATIONAL, "I"),
    (FieldType.SBYTE, "b"), (FieldType.SSHORT, "h"), (FieldType.SLONG, "i"), (FieldType.SRATIONAL, "i"),
    (FieldType.FLOAT, "f"), (FieldType.DOUBLE, "d"), (FieldType.IFD, "I"), (FieldType.LONG8, "Q"),
    (FieldType.SLONG8, "q"), (FieldType.IFD8, "Q"))}
_INTEGER_TYPES = frozenset(int(typ) for typ in (
    FieldType.BYTE, FieldType.SHORT, FieldType.LONG, FieldType.SBYTE, FieldType.SSHORT, FieldType.SLONG,
    FieldType.IFD, FieldType.LONG8, FieldType.SLONG8, FieldType.IFD8))
_RATIONAL_TYPES = frozenset({int(FieldType.RATIONAL), int(FieldType.SRATIONAL)})
#: Unsigned field types an enumerated value (Compression, Predictor, ...) may be stored as.
_UNSIGNED_TYPES = tuple(int(typ) for typ in (FieldType.BYTE, FieldType.SHORT, FieldType.LONG, FieldType.LONG8))

#: GeoKey id -> its name in ``GeoTags.geo_keys`` (``GeoKey.key``). GeogTOWGS84GeoKey and
#: ProjRectifiedGridAngleGeoKey are left out: ``geo.crs`` reads them from the raw directory, where a missing
#: or malformed value can be told apart from an absent key.
GEO_KEY_NAMES: dict[int, str] = {
    int(key): key.key for key in GeoKey if key not in (GeoKey.GEOG_TOWGS84, GeoKey.PROJ_RECTIFIED_GRID_ANGLE)
}


#: Precompiled readers of one inline integer value: (byte order, field type) -> unpack_from.
_ONE_INT = {(bo, typ): struct.Struct(bo + _FORMATS[typ]).unpack_from for bo in "<>" for typ in _UNSIGNED_TYPES}


class EntryValues:
    """Typed values of one IFD's entries; out-of-line values come from ``data(start, end)``, the header
    bytes already fetched (``CachedRangeReader.cached``)."""

    __slots__ = ("bigtiff", "byteorder", "data", "entries", "index", "url")

    def __init__(self, entries: dict[int, RawEntry], chain: IfdChain, data: Any, url: str, index: int) -> None:
        self.entries, self.byteorder, self.bigtiff = entries, chain.byteorder, chain.bigtiff
        self.data, self.url, self.index = data, url, index

    def raw(self, tag: int) -> bytes | None:
        """The value bytes of ``tag`` as stored (None when absent); a value cut off by the file's end is refused."""
        entry = self.entries.get(tag)
        if entry is None:
            return None
        size = FIELD_TYPE_SIZES.get(entry.type, 0) * entry.count
        if size <= len(entry.field):
            return entry.field[:size]
        start = struct.unpack(self.byteorder + ("Q" if self.bigtiff else "I"), entry.field)[0]
        data = self.data(start, start + size)
        if len(data) < size:
            raise TiffFormatError(f"{where(self.url, self.index)}: the values of tag {tag} (bytes {start}-"
                                  f"{start + size}) lie past the end of the file; {CORRUPT_HINT}")
        return data

    def _numbers(self, tag: int) -> tuple[Any, ...] | None:
        entry = self.entries.get(tag)
        if entry is None:
            return None
        fmt = _FORMATS.get(entry.type)
        if fmt is None:
            raise TiffFormatError(f"{where(self.url, self.index)}: tag {tag} is stored as field type {entry.type}, "
                                  f"which holds no numbers; {CORRUPT_HINT}")
        count = entry.count * (2 if entry.type in _RATIONAL_TYPES else 1)
        values = struct.unpack(f"{self.byteorder}{count}{fmt}", self.raw(tag))
        if entry.type in _RATIONAL_TYPES:
            return tuple(n / d if d else float("nan") for n, d in zip(values[::2], values[1::2], strict=True))
        return values

    def _integer_entry(self, tag: int) -> RawEntry | None:
        """The entry of ``tag`` when present; one that is not of an integer type is refused."""
        entry = self.entries.get(tag)
        if entry is not None and entry.type not in _INTEGER_TYPES:
            raise TiffFormatError(f"{where(self.url, self.index)}: tag {tag} is stored as field type {entry.type}, "
                                  f"where TIFF wants integers; {CORRUPT_HINT}")
        return entry

    def ints(self, tag: int) -> tuple[int, ...] | None:
        """Integer values (BYTE/SHORT/LONG/LONG8 and signed kinds); a tag of another type is refused."""
        return None if self._integer_entry(tag) is None else self._numbers(tag)

    def first(self, tag: int, default: int | None, what: str) -> int | None:
        """The first integer value of ``tag``, ``default`` when the tag is absent."""
        entry = self.entries.get(tag)
        if entry is None:
            return default
        if entry.count == 1 and (one := _ONE_INT.get((self.byteorder, entry.type))) is not None and \
                FIELD_TYPE_SIZES[entry.type] <= len(entry.field):
            return one(entry.field)[0]  # the common case: one inline value (a classic TIFF's LONG8 is not inline)
        values = self.ints(tag)
        if values is None:
            return default
        if not values:
            raise TiffFormatError(f"{where(self.url, self.index)} has an empty {what} tag; {CORRUPT_HINT}")
        return int(values[0])

    def array(self, tag: int) -> np.ndarray | None:
        """Integer values as a uint64 array (strip/tile offsets and byte counts: thousands of values)."""
        entry = self._integer_entry(tag)
        if entry is None:
            return None
        values = np.frombuffer(self.raw(tag), dtype=self.byteorder + _FORMATS[entry.type], count=entry.count)
        if values.dtype.kind == "i" and (values < 0).any():
            raise TiffFormatError(f"{where(self.url, self.index)}: tag {tag} holds negative offsets or byte counts; "
                                  f"{CORRUPT_HINT}")
        return values.astype(np.uint64)

    def floats(self, tag: int) -> tuple[float, ...] | None:
        values = self._numbers(tag)
        return None if values is None else tuple(float(v) for v in values)

    def text(self, tag: int) -> str | None:
        """An ASCII value up to its first NUL (as libtiff and the tiff crate read it); bytes that are not
        UTF-8 are replaced, never an error (GDAL writes metadata in the system encoding)."""
        data = self.raw(tag)
        if data is None:
            return None
        return data.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def uniform(values: tuple[int, ...], what: str, url: str, index: int) -> int:
    """The one value of a per-sample tag (BitsPerSample, SampleFormat); different values are refused."""
    if not values:
        raise TiffFormatError(f"{where(url, index)} has an empty {what} tag; {CORRUPT_HINT}")
    first = values[0]
    if any(v != first for v in values):
        raise UnsupportedTiffError(
            f"{where(url, index)} has different {what} per sample ({list(values)}); Zarr arrays need one data type. "
            "Rewrite the file with one type for all bands (e.g. gdal_translate -ot)"
        )
    return int(first)


def enumerated(values: EntryValues, tag: int, default: int) -> int:
    """A one-value enumerated tag (Compression, Predictor, PlanarConfiguration) as stored, else the default.

    Any stored value passes through unchanged, so that layout and codec planning refuse values they do not
    know instead of a parser mapping them to a default. A value stored as another field type is refused
    (libtiff refuses it too).
    """
    entry = values.entries.get(tag)
    if entry is None:
        return default
    if entry.type in _UNSIGNED_TYPES and entry.count >= 1 and FIELD_TYPE_SIZES[entry.type] * entry.count <= len(
            entry.field):
        return values.first(tag, default, str(tag))
    raise TiffFormatError(
        f"{where(values.url, values.index)}: tag {tag} is stored as {entry.count} value(s) of field type "
        f"{entry.type}; TIFF wants one SHORT. The file is corrupt"
    )


def geo_keys(values: EntryValues) -> tuple[dict[str, Any], tuple[int, ...] | None, tuple[float, ...] | None]:
    """``(keys by name, raw GeoKeyDirectoryTag, raw GeoDoubleParamsTag)`` of one IFD.

    SHORT keys give ints, DOUBLE keys a float (a tuple for several values), ASCII keys the string from
    GeoAsciiParamsTag without its ``|`` terminator. A key pointing outside its params tag is left out (GDAL
    ignores it too); a malformed directory gives no keys.
    """
    entry = values.entries.get(Tag.GEO_KEY_DIRECTORY)
    directory = values.ints(Tag.GEO_KEY_DIRECTORY) if entry is not None and entry.type == FieldType.SHORT else None
    doubles = values.floats(Tag.GEO_DOUBLE_PARAMS)
    keys: dict[str, Any] = {}
    if not directory or len(directory) < 4:
        return keys, directory, doubles
    ascii_params: bytes | None = None
    for i in range(min(directory[3], (len(directory) - 4) // 4)):
        key, location, count, value = directory[4 + 4 * i: 8 + 4 * i]
        name = GEO_KEY_NAMES.get(key)
        if name is None:
            continue
        if location == 0:  # the value sits in the directory itself (a SHORT)
            keys[name] = value
        elif location == Tag.GEO_DOUBLE_PARAMS:
            if doubles is not None and count >= 1 and value + count <= len(doubles):
                keys[name] = doubles[value] if count == 1 else tuple(doubles[value: value + count])
        elif location == Tag.GEO_ASCII_PARAMS:
            if ascii_params is None:
                ascii_params = values.raw(Tag.GEO_ASCII_PARAMS) or b""
            if value + count <= len(ascii_params):
                text = ascii_params[value: value + count].split(b"\0", 1)[0].decode("utf-8", errors="replace")
                keys[name] = text[:-1] if text.endswith("|") else text
    return keys, directory, doubles
