"""Walks a TIFF's IFD chain: every IFD's raw entry table, with guards a hostile file cannot get past.

The walk reads only the IFD entry tables (usually inside the first prefetch), refuses absurd tag counts
and value sizes, and cuts a looping chain where it first repeats, as tifffile and libtiff do. It also
records every byte range a parser interprets (``IfdChain.regions``), so the out-of-line values can be
fetched in one go before ``tiff.decode`` types them.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import CORRUPT_HINT, LimitExceededError, TiffFormatError
from ..limits import Limits
from .source import CachedRangeReader
from .tags import FieldType, Tag

#: Byte size of each TIFF field type; unknown types have size 0 and are ignored. Plain int keys: looked up for
#: every entry of every IFD.
FIELD_TYPE_SIZES: dict[int, int] = {int(typ): size for typ, size in (
    (FieldType.BYTE, 1), (FieldType.ASCII, 1), (FieldType.SHORT, 2), (FieldType.LONG, 4), (FieldType.RATIONAL, 8),
    (FieldType.SBYTE, 1), (FieldType.UNDEFINED, 1), (FieldType.SSHORT, 2), (FieldType.SLONG, 4),
    (FieldType.SRATIONAL, 8), (FieldType.FLOAT, 4), (FieldType.DOUBLE, 8), (FieldType.IFD, 4), (FieldType.LONG8, 8),
    (FieldType.SLONG8, 8), (FieldType.IFD8, 8))}


class TiffFormatWarning(UserWarning):
    """A recoverable defect in a TIFF header (e.g. a looping IFD chain that was cut)."""


class RawEntry(NamedTuple):
    """One IFD entry as stored: its type, count and the raw inline value/offset field (a tuple: a file's
    walk makes dozens of these, for thousands of files per build)."""

    type: int
    count: int
    field: bytes


@dataclass(frozen=True)
class IfdChain:
    """Header facts and the entry table of every IFD in the main chain."""

    byteorder: str  # "<" or ">"
    bigtiff: bool
    offsets: tuple[int, ...]
    entries: tuple[dict[int, RawEntry], ...]
    cut_at: int | None  # index of the IFD whose next pointer looped, if any
    #: Every byte range a TIFF parser interprets: the file header, each IFD's entry table and the
    #: out-of-line tag values, sorted: ``CachedRangeReader.fetch_regions`` fetches exactly these.
    regions: tuple[tuple[int, int], ...] = ()
    #: Entries stored in each IFD's table: more than ``len(entries[i])`` when a tag appears twice (the first
    #: wins, as in libtiff and tifffile).
    entry_counts: tuple[int, ...] = ()


async def walk_ifd_chain(reader: CachedRangeReader, limits: Limits) -> IfdChain:
    head = await reader.read(0, 16, min_fetch=limits.prefetch_bytes)
    if len(head) < 8:
        raise TiffFormatError(f"{reader.url} is too short to be a TIFF ({len(head)} bytes)")
    if head[:2] == b"II":
        bo = "<"
    elif head[:2] == b"MM":
        bo = ">"
    else:
        raise TiffFormatError(f"{reader.url} is not a TIFF: it starts with {head[:4]!r}, not 'II' or 'MM'")
    version = struct.unpack(bo + "H", head[2:4])[0]
    if version == 42:
        bigtiff, first = False, struct.unpack(bo + "I", head[4:8])[0]
    elif version == 43:
        if len(head) < 16:
            raise TiffFormatError(f"{reader.url} is a truncated BigTIFF header; {CORRUPT_HINT}")
        bytesize, _ = struct.unpack(bo + "HH", head[4:8])
        if bytesize != 8:
            raise TiffFormatError(f"{reader.url}: BigTIFF offset size {bytesize}, expected 8")
        bigtiff, first = True, struct.unpack(bo + "Q", head[8:16])[0]
    else:
        raise TiffFormatError(f"{reader.url} is not a TIFF: version {version} (expected 42 or BigTIFF 43)")

    offsets: list[int] = []
    entries: list[dict[int, RawEntry]] = []
    regions: list[tuple[int, int]] = [(0, 16 if bigtiff else 8)]
    counts: list[int] = []
    seen: set[int] = set()
    offset, cut_at = first, None
    while offset:
        if offset in seen:
            cut_at = len(offsets) - 1
            warnings.warn(
                f"{reader.url}: the IFD chain loops back to offset {offset} after IFD {cut_at}; "
                f"reading the first {len(offsets)} IFDs only",
                TiffFormatWarning,
                stacklevel=2,
            )
            break
        if len(offsets) >= limits.max_ifds:
            raise LimitExceededError(
                f"{reader.url} has more than max_ifds={limits.max_ifds} IFDs; raise Limits(max_ifds=...) "
                "if that is legitimate"
            )
        if offset < 8:
            raise TiffFormatError(f"{reader.url}: IFD {len(offsets)} points at offset {offset}, inside the header; "
                                  f"{CORRUPT_HINT}")
        seen.add(offset)
        tags, n, nxt = await _read_ifd(reader, offset, f"IFD {len(offsets)}", len(offsets), bo, bigtiff, limits,
                                       regions)
        offsets.append(offset)
        entries.append(tags)
        counts.append(n)
        offset = nxt
    if not offsets:
        raise TiffFormatError(f"{reader.url} contains no image (its first IFD offset is 0); {CORRUPT_HINT}")
    return IfdChain(bo, bigtiff, tuple(offsets), tuple(entries), cut_at, tuple(sorted(regions)),
                    tuple(counts))


def check_tag_values(chain: IfdChain, limits: Limits, url: str) -> None:
    """Refuse a chain whose tags hold more values than ``limits.max_tag_values`` before they are decoded
    (a corrupt count would otherwise allocate gigabytes of offsets)."""
    total = 0
    for index, entries in enumerate(chain.entries):
        for tag, entry in entries.items():
            total += entry.count
            if total > limits.max_tag_values:
                raise LimitExceededError(
                    f"{url}: the tags of the first {index + 1} IFD(s) hold more than max_tag_values="
                    f"{limits.max_tag_values} values (tag {tag} of IFD {index} alone claims {entry.count}); the "
                    "file is corrupt, or raise Limits(max_tag_values=...) if it is legitimate"
                )


async def _read_ifd(reader: CachedRangeReader, offset: int, label: str, index: int, bo: str, bigtiff: bool,
                    limits: Limits, regions: list[tuple[int, int]]) -> tuple[dict[int, RawEntry], int, int]:
    """One IFD's entries, stored entry count and next-IFD pointer; appends its byte ranges to ``regions``."""
    count_fmt, count_size, entry_size, ptr_fmt, ptr_size = (
        ("Q", 8, 20, "Q", 8) if bigtiff else ("H", 2, 12, "I", 4)
    )
    raw = await reader.read(offset, offset + count_size, min_fetch=limits.prefetch_bytes)
    if len(raw) < count_size:
        raise TiffFormatError(
            f"{reader.url}: {label} at offset {offset} lies past the end of the file "
            f"(the file is truncated or its IFD offset is corrupt); {CORRUPT_HINT}"
        )
    n = struct.unpack(bo + count_fmt, raw)[0]
    if n == 0 or n > limits.max_tags_per_ifd:
        raise TiffFormatError(
            f"{reader.url}: {label} at offset {offset} claims {n} tags "
            f"(allowed 1..{limits.max_tags_per_ifd}); the file is corrupt: {CORRUPT_HINT}"
        )
    table = await reader.read(offset + count_size, offset + count_size + n * entry_size + ptr_size,
                              min_fetch=limits.prefetch_bytes)
    if len(table) < n * entry_size:
        raise TiffFormatError(f"{reader.url}: {label} at offset {offset} is truncated; {CORRUPT_HINT}")
    tags = _parse_entries(table, n, bo, bigtiff, reader.url, index, limits, regions)
    regions.append((offset, offset + count_size + n * entry_size + ptr_size))
    nxt = table[n * entry_size : n * entry_size + ptr_size]
    return tags, n, (struct.unpack(bo + ptr_fmt, nxt)[0] if len(nxt) == ptr_size else 0)


_IMAGE_TAGS = frozenset({Tag.IMAGE_WIDTH, Tag.IMAGE_LENGTH})
_OFFSET_TAGS = frozenset({Tag.STRIP_OFFSETS, Tag.TILE_OFFSETS})
#: Field types a SubIFDs tag may use, with their value format.
_OFFSET_FORMATS = {FieldType.LONG: "I", FieldType.IFD: "I", FieldType.LONG8: "Q", FieldType.IFD8: "Q"}


@dataclass(frozen=True)
class SubIfdChain:
    """The SubIFDs (tag 330) of the main chain's IFDs, as an ``IfdChain`` of their own plus, for each,
    ``(parent IFD index, position in the parent's SubIFDs tag)``."""

    chain: IfdChain
    parents: tuple[tuple[int, int], ...]


async def walk_sub_ifds(reader: CachedRangeReader, chain: IfdChain, limits: Limits) -> SubIfdChain | None:
    """Read the IFD tables the SubIFDs tags (OME-TIFF pyramids, DNG previews) point at, one level deep.

    Each listed offset is one image; SubIFDs' own next pointers and nested SubIFDs are not followed (as
    tifffile's ``series`` does for OME/DNG). Offsets already seen (a main IFD, a repeated entry) and
    SubIFDs holding no image (no size or no strip/tile offsets, e.g. a JPEG thumbnail) are skipped.
    """
    bo, big = chain.byteorder, chain.bigtiff
    seen = set(chain.offsets)
    offsets: list[int] = []
    entries: list[dict[int, RawEntry]] = []
    counts: list[int] = []
    parents: list[tuple[int, int]] = []
    regions: list[tuple[int, int]] = [(0, 16 if big else 8)]
    for parent, table in enumerate(chain.entries):
        entry = table.get(Tag.SUB_IFDS)
        fmt = None if entry is None else _OFFSET_FORMATS.get(entry.type)
        if fmt is None or entry is None or entry.count <= 0:
            continue
        size = FIELD_TYPE_SIZES[entry.type] * entry.count
        if size <= len(entry.field):
            data = entry.field[:size]
        else:
            at = struct.unpack(bo + ("Q" if big else "I"), entry.field)[0]
            data = await reader.read(at, at + size)
            if len(data) < size:
                raise TiffFormatError(f"{reader.url}: the SubIFDs tag of IFD {parent} is truncated; {CORRUPT_HINT}")
        for k, offset in enumerate(struct.unpack(f"{bo}{entry.count}{fmt}", data)):
            if offset < 8 or offset in seen:
                continue
            if len(chain.offsets) + len(offsets) >= limits.max_ifds:
                raise LimitExceededError(
                    f"{reader.url} has more than max_ifds={limits.max_ifds} IFDs and SubIFDs; raise "
                    "Limits(max_ifds=...) if that is legitimate"
                )
            seen.add(offset)
            tags, n, _ = await _read_ifd(reader, offset, f"SubIFD {k} of IFD {parent}", parent, bo, big, limits,
                                         regions)
            if not _IMAGE_TAGS.issubset(tags) or not _OFFSET_TAGS & set(tags):
                continue  # no image here (e.g. a JPEGInterchangeFormat thumbnail): nothing to expose
            offsets.append(offset)
            entries.append(tags)
            counts.append(n)
            parents.append((parent, k))
    if not offsets:
        return None
    sub = IfdChain(bo, big, tuple(offsets), tuple(entries), None, tuple(sorted(regions)), tuple(counts))
    return SubIfdChain(sub, tuple(parents))


def _parse_entries(table: bytes, n: int, bo: str, bigtiff: bool, url: str, index: int,
                   limits: Limits, regions: list[tuple[int, int]]) -> dict[int, RawEntry]:
    """The entries of one IFD by tag (first wins); appends every out-of-line value's byte range to
    ``regions`` (duplicates included: another parser may read either)."""
    layout, entry_size, field_len, ptr = (("HHQ8s", 20, 8, "Q") if bigtiff else ("HHI4s", 12, 4, "I"))
    sizes = FIELD_TYPE_SIZES
    limit = limits.max_tag_value_bytes
    tags: dict[int, RawEntry] = {}
    for tag, typ, count, field in struct.iter_unpack(bo + layout, table[: n * entry_size]):
        nbytes = sizes.get(typ, 0) * count
        if nbytes > field_len:
            if nbytes > limit:
                raise LimitExceededError(
                    f"{url}: tag {tag} in IFD {index} holds {nbytes} bytes, above "
                    f"max_tag_value_bytes={limit}; raise Limits(max_tag_value_bytes=...) if that is legitimate"
                )
            start = struct.unpack(bo + ptr, field)[0]
            regions.append((start, start + nbytes))
        if tag not in tags:
            tags[tag] = RawEntry(typ, count, field)
    return tags
