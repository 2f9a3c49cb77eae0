"""Present async-tiff a repaired copy of IFDs it would panic on, without touching the file.

async-tiff 0.7.2 aborts the whole file (a Rust panic) on IFDs that TIFF 6 allows or that libtiff and
tifffile read without complaint: no SamplesPerPixel or BitsPerSample tag (both default to 1), no
PhotometricInterpretation or one it does not know (LogL, LogLuv, ...), an entry of an unknown field
type, or an informational tag it cannot parse (e.g. a Make string that is not UTF-8). IFDs holding a tag
twice get a copy too: async-tiff keeps the last entry, libtiff and tifffile (and this library) the first.

The chain walk (``tiff.chain``) already holds every IFD's raw entry table. For each IFD that needs it,
this module writes a repaired entry table into a *synthetic* byte region that ``CachedRangeReader``
serves above the real data (it is never fetched), and patches the pointer to that IFD (the header's
first-IFD offset or the previous IFD's next pointer) to lead there. Every kept entry is copied as
stored, so its values (inline or at their original file offsets) are exactly what the file holds; only
the defaulted or dropped entries differ, and the values this library takes from them never come from
async-tiff: Photometric is read from the raw entries, and the defaults added are TIFF 6's own, the
values tifffile uses.
"""

from __future__ import annotations

import struct

from ..errors import TiffFormatError, where
from .chain import FIELD_TYPE_SIZES, IfdChain, RawEntry
from .source import CachedRangeReader

#: Field types async-tiff 0.7.2 knows; an entry of any other type makes it panic.
_KNOWN_TYPES = frozenset(FIELD_TYPE_SIZES)
#: PhotometricInterpretation values async-tiff 0.7.2 maps (it panics on any other or a missing tag).
_KNOWN_PHOTOMETRIC = frozenset({0, 1, 2, 3, 4, 5, 6, 8})
_SHORT, _LONG, _RATIONAL = 3, 4, 5
_IMAGE_WIDTH, _IMAGE_LENGTH, _BITS_PER_SAMPLE, _PHOTOMETRIC, _SAMPLES_PER_PIXEL = 256, 257, 258, 262, 277
_X_RESOLUTION, _Y_RESOLUTION = 282, 283
#: Tags async-tiff parses but this library never reads from it (descriptions, resolution, software, ...):
#: dropped from the presented copy when async-tiff still fails on an IFD.
INFORMATIONAL_TAGS = frozenset({269, 270, 271, 272, 280, 281, 282, 283, 296, 305, 306, 315, 316, 33432})


def _short(value: int, byteorder: str, bigtiff: bool) -> RawEntry:
    field = struct.pack(byteorder + "H", value)
    return RawEntry(_SHORT, 1, field + b"\0" * ((8 if bigtiff else 4) - 2))


def repaired_entries(entries: dict[int, RawEntry], byteorder: str, bigtiff: bool, *,
                     drop_informational: bool = False) -> dict[int, RawEntry] | None:
    """The entry table async-tiff can parse, or None when ``entries`` needs no repair."""
    fixed = {tag: e for tag, e in entries.items() if e.type in _KNOWN_TYPES}
    for tag in (_X_RESOLUTION, _Y_RESOLUTION):  # async-tiff panics on a non-RATIONAL resolution
        if tag in fixed and fixed[tag].type != _RATIONAL:
            del fixed[tag]
    if drop_informational:
        fixed = {tag: e for tag, e in fixed.items() if tag not in INFORMATIONAL_TAGS}
    for tag in (_SAMPLES_PER_PIXEL, _BITS_PER_SAMPLE):
        fixed.setdefault(tag, _short(1, byteorder, bigtiff))
    photometric = fixed.get(_PHOTOMETRIC)
    values = photometric.inline_values(byteorder) if photometric is not None else None
    if not values or values[0] not in _KNOWN_PHOTOMETRIC:
        # Any value async-tiff accepts: IfdInfo.photometric is read from the raw entry, not from async-tiff.
        fixed[_PHOTOMETRIC] = _short(1, byteorder, bigtiff)
    return None if fixed == entries else fixed


def _encode_ifd(entries: dict[int, RawEntry], next_offset: int, byteorder: str, bigtiff: bool) -> bytes:
    head, entry_fmt, next_fmt = ("Q", "HHQ", "Q") if bigtiff else ("H", "HHI", "I")
    out = [struct.pack(byteorder + head, len(entries))]
    for tag in sorted(entries):
        e = entries[tag]
        out.append(struct.pack(byteorder + entry_fmt[:2], tag, e.type) + struct.pack(byteorder + entry_fmt[2], e.count)
                   + e.field)
    out.append(struct.pack(byteorder + next_fmt, next_offset))
    return b"".join(out)


async def present_repaired_ifds(reader: CachedRangeReader, chain: IfdChain, *, drop_informational: bool = False) -> int:
    """Make ``reader`` show async-tiff a parseable copy of every IFD that needs one; returns how many.

    The copies are served just past the object's end.

    Safe to call again with ``drop_informational=True``: earlier patches are overwritten.
    """
    bo, big = chain.byteorder, chain.bigtiff
    repairs = {i: fixed for i, entries in enumerate(chain.entries)
               if (fixed := repaired_entries(entries, bo, big, drop_informational=drop_informational)) is not None}
    for i, entries in enumerate(chain.entries):  # a tag stored twice: async-tiff would take the last one
        if i not in repairs and chain.entry_counts and chain.entry_counts[i] != len(entries):
            repairs[i] = dict(entries)
    if not repairs:
        return 0
    # async-tiff reads the header as one buffer growing from offset 0, so the copies go right after the
    # object's last byte (word-aligned); for a large file this makes async-tiff read all of it.
    size = await reader.size()
    base = size + (size & 1)
    count_size, entry_size, ptr_size = (8, 20, 8) if big else (2, 12, 4)
    # New location of each IFD: its synthetic copy, or where it is.
    locations, position = [], base
    for i, offset in enumerate(chain.offsets):
        if i in repairs:
            locations.append(position)
            position += count_size + len(repairs[i]) * entry_size + ptr_size
        else:
            locations.append(offset)
    synthetic = bytearray()
    for i, offset in enumerate(chain.offsets):
        nxt = locations[i + 1] if i + 1 < len(locations) else 0
        if i in repairs:
            synthetic += _encode_ifd(repairs[i], nxt, bo, big)
        elif i + 1 in repairs:
            pointer_at = offset + count_size + len(chain.entries[i]) * entry_size
            reader.patch(pointer_at, struct.pack(bo + ("Q" if big else "I"), nxt))
    if 0 in repairs:
        reader.patch(8 if big else 4, struct.pack(bo + ("Q" if big else "I"), locations[0]))
    if not big and base + len(synthetic) > 0xFFFF_FFFF:
        raise TiffFormatError(f"{where(reader.url)}: the repaired IFDs do not fit a classic TIFF's offsets")
    reader.serve_synthetic(base, bytes(synthetic))
    return len(repairs)
