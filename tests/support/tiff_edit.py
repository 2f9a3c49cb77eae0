"""Edit a TIFF that tifffile wrote, in place: the files no writer will make (an entry with another tag, type
or value; offsets and byte counts of 0), made by patching the bytes of a valid file so the IFD keeps its size."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import tifffile


def ifd_entries(path: Path) -> tuple[str, list[tuple[int, int]]]:
    """Byte order and ``(position, tag)`` of every entry of the first IFD of a classic TIFF."""
    raw = path.read_bytes()
    bo = "<" if raw[:2] == b"II" else ">"
    first = struct.unpack(bo + "I", raw[4:8])[0]
    n = struct.unpack(bo + "H", raw[first:first + 2])[0]
    positions = [first + 2 + 12 * i for i in range(n)]
    return bo, [(p, struct.unpack(bo + "H", raw[p:p + 2])[0]) for p in positions]


def edit_entry(path: Path, tag: int, *, new_tag: int | None = None, new_type: int | None = None,
               new_value: bytes | None = None) -> None:
    """Give the first IFD's entry ``tag`` another tag number, field type or (inline, 4-byte) value."""
    bo, entries = ifd_entries(path)
    position = dict((t, p) for p, t in entries)[tag]
    raw = bytearray(path.read_bytes())
    if new_tag is not None:
        raw[position:position + 2] = struct.pack(bo + "H", new_tag)
    if new_type is not None:
        raw[position + 2:position + 4] = struct.pack(bo + "H", new_type)
    if new_value is not None:
        raw[position + 8:position + 12] = new_value.ljust(4, b"\0")
    path.write_bytes(bytes(raw))


def zero_entries(path, tag_name: str, indices: set[int]) -> None:
    """Overwrite entries of an offsets/byte-counts tag with 0, in place."""
    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags[tag_name]
        size = np.dtype(tif.byteorder + tifffile.TIFF.DATA_FORMATS[tag.dtype][-1]).itemsize
        start = tag.valueoffset
    with open(path, "r+b") as fh:
        for index in indices:
            fh.seek(start + index * size)
            fh.write(b"\0" * size)
