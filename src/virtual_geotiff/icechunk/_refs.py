"""Manifest arrays to Icechunk references through ``set_virtual_refs_arr``: no Python object per reference.

Icechunk takes one array's references as a flat C-ordered block of the chunk grid (a list of locations, where
``""`` leaves a chunk untouched, and ``uint64`` offset/length arrays) placed at a chunk offset, with ONE
checksum for the whole call. Per-file checksums therefore need one call per checksum: references are grouped
by the checksum of their file (files stamped with the same last-modified second share a call), and each
group is written as the smallest block of the grid that holds it. A group whose block would be mostly empty
(its files scattered over the grid) is split into one block per file, so no call ever touches much more of
the grid than it sets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr
from virtualizarr.manifests import ChunkManifest

from ..errors import PublishError
from ..manifest import references
from ..sources import SourceStamp
from ._stamps import checksum

#: A group's block may hold this many more chunks than the group sets before it is split per file.
_SPARSE_SLACK = 4_096


def array_path(group: str | None, name: str) -> str:
    """``group/name`` (``name`` alone at the root): the one spelling of an array's path in the session store."""
    g = (group or "").strip("/")
    return f"{g}/{name}" if g else name


@dataclass
class Refs:
    """One array's references as flat arrays (C order of the chunk grid), no per-chunk Python objects."""

    index: np.ndarray  # (n, ndim) int64 chunk indices
    codes: np.ndarray  # (n,) index into ``urls``
    urls: list[str]
    offsets: np.ndarray  # (n,) uint64
    lengths: np.ndarray  # (n,) uint64

    def __len__(self) -> int:
        return len(self.codes)


def manifest_refs(manifest: ChunkManifest) -> Refs:
    """Non-empty entries of a manifest. Paths repeat in long runs (one file's chunks), so distinct
    URLs come from run boundaries instead of sorting every path. A zero-length entry is a missing chunk
    (Icechunk refuses zero-length references; the chunk reads as the fill value either way)."""
    refs = references(manifest)
    paths, offsets, lengths = refs.paths, refs.offsets, refs.lengths
    scalar = paths.ndim == 0
    if scalar:
        paths, offsets, lengths = paths.reshape(1), offsets.reshape(1), lengths.reshape(1)
    present = (paths != "") & (lengths > 0)
    if present.all():
        index = np.indices(paths.shape).reshape(paths.ndim, -1).T
        flat, offs, lens = paths.ravel(), offsets.ravel(), lengths.ravel()
    else:
        index = np.stack(np.nonzero(present), axis=1) if paths.ndim else np.zeros((0, 0), np.int64)
        flat, offs, lens = paths[present], offsets[present], lengths[present]
    if scalar:
        index = np.zeros((len(flat), 0), dtype=np.int64)
    if not len(flat):
        return Refs(index, np.zeros(0, np.intp), [], offs, lens)
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    run_urls = flat[starts].tolist()
    table: dict[str, int] = {}
    run_codes = np.fromiter((table.setdefault(u, len(table)) for u in run_urls), dtype=np.intp, count=len(run_urls))
    codes = np.repeat(run_codes, np.diff(np.append(starts, len(flat))))
    return Refs(index, codes, list(table), offs.astype(np.uint64, copy=False), lens.astype(np.uint64, copy=False))


def _checksum_groups(refs: Refs, stamps: Mapping[str, SourceStamp]) -> list[tuple[Any, np.ndarray]]:
    """``[(checksum, file codes)]``: files that share a checksum value share one call."""
    groups: dict[str | datetime | None, list[int]] = {}
    for code, url in enumerate(refs.urls):
        groups.setdefault(checksum(stamps[url]), []).append(code)
    return [(value, np.asarray(codes, dtype=np.intp)) for value, codes in groups.items()]


def _write_block(store: Any, path: str, refs: Refs, rows: np.ndarray, chunk_offset: np.ndarray,
                 value: str | datetime | None) -> None:
    """One ``set_virtual_refs_arr`` call for ``rows`` of ``refs`` (C-ordered) in their bounding block."""
    index = refs.index[rows]
    if index.shape[1] == 0:  # a 0-d array: one chunk
        lo, shape, positions = np.zeros(0, np.int64), (), np.zeros(len(rows), np.intp)
    else:
        lo = index.min(axis=0)
        shape = tuple(int(n) for n in index.max(axis=0) - lo + 1)
        positions = np.ravel_multi_index(tuple((index - lo).T), shape)
    size = int(np.prod(shape, dtype=np.int64))
    urls = np.asarray(refs.urls, dtype=object)[refs.codes[rows]]
    if size == len(rows):  # the block is exactly these chunks, already in C order
        locations = urls.tolist()
        offsets = np.ascontiguousarray(refs.offsets[rows], dtype=np.uint64)
        lengths = np.ascontiguousarray(refs.lengths[rows], dtype=np.uint64)
    else:
        block = np.full(size, "", dtype=object)
        block[positions] = urls
        locations = block.tolist()
        offsets = np.zeros(size, np.uint64)
        lengths = np.zeros(size, np.uint64)
        offsets[positions] = refs.offsets[rows]
        lengths[positions] = refs.lengths[rows]
    origin = tuple(int(n) for n in lo + chunk_offset) if len(shape) else None
    failed = store.set_virtual_refs_arr(path, shape, locations, offsets, lengths, validate_containers=False,
                                        arr_offset=origin, checksum=value)
    if failed:
        raise PublishError(f"Icechunk refused {len(failed)} reference(s) of {path}, e.g. chunk {failed[0]}")


def _blocks(refs: Refs, codes: np.ndarray, by_code: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    """Row sets to write for one checksum group: the whole group when its bounding block is dense enough,
    else one per file."""
    per_file = [by_code[starts[c]:starts[c + 1]] for c in codes]
    rows = per_file[0] if len(per_file) == 1 else np.sort(np.concatenate(per_file))
    if len(per_file) == 1 or refs.index.shape[1] == 0:
        return [rows]
    index = refs.index[rows]
    volume = int(np.prod(index.max(axis=0) - index.min(axis=0) + 1, dtype=np.int64))
    return [rows] if volume <= len(rows) + _SPARSE_SLACK else per_file


def write_array_refs(store: Any, path: str, refs: Refs, stamps: Mapping[str, SourceStamp],
                     chunk_offset: Sequence[int]) -> int:
    """Every reference of one array, each call carrying the checksum of the files it references."""
    if not len(refs):
        return 0
    offset = np.asarray(chunk_offset, dtype=np.int64)
    by_code = np.argsort(refs.codes, kind="stable")  # rows of each file, in C order of the grid
    starts = np.searchsorted(refs.codes[by_code], np.arange(len(refs.urls) + 1))
    for value, codes in _checksum_groups(refs, stamps):
        for rows in _blocks(refs, codes, by_code, starts):
            _write_block(store, path, refs, rows, offset, value)
    return len(refs)


def write_refs(store: Any, group: str, virtual: Mapping[str, xr.Variable], refs: Mapping[str, Refs],
                stamps: Mapping[str, SourceStamp], offsets: Mapping[str, Sequence[int]]) -> dict[str, int]:
    """Every virtual array's references (at its chunk offset: non-zero along the append axis); ``{path: count}``."""
    written: dict[str, int] = {}
    for name, var in virtual.items():
        path = array_path(group, name)
        written[path] = write_array_refs(store, path, refs[name], stamps, offsets.get(name, (0,) * var.ndim))
    return written
