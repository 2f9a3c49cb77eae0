"""Manifest arrays to Icechunk references at array speed.

Icechunk 1.1 takes references only as ``VirtualChunkSpec`` lists (``store.set_virtual_refs``). The manifest's
numpy arrays become the spec arguments through whole-array operations (chunk indices from ``np.nonzero``,
distinct URLs from run boundaries, per-file checksums broadcast by code), the specs are built by one ``map``
call per batch, and a worker thread hands each batch to Icechunk's Rust code (which releases the GIL) while
the next is built.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import icechunk as ic
import numpy as np
import xarray as xr
from virtualizarr.manifests import ChunkManifest

from ..errors import PublishError
from ..sources import SourceStamp
from .stamps import _checksum_columns

#: References handed to Icechunk per ``set_virtual_refs`` call (bounded memory, overlaps Python and Rust).
DEFAULT_BATCH = 65_536
#: The first batch of each array is this small (batches then double up to the batch size), so Icechunk
#: starts ingesting after ~10 ms of spec building instead of a whole batch's ~100 ms.
FIRST_BATCH = 4_096


def _array_path(group: str | None, name: str) -> str:
    g = (group or "").strip("/")
    return f"{g}/{name}" if g else name


@dataclass
class _Refs:
    """One array's references as flat arrays (no per-chunk Python objects until the specs are built)."""

    index: np.ndarray  # (n, ndim) int64 chunk indices
    codes: np.ndarray  # (n,) index into ``urls``
    urls: list[str]
    offsets: np.ndarray  # (n,) uint64
    lengths: np.ndarray  # (n,) uint64

    def __len__(self) -> int:
        return len(self.codes)


def _manifest_refs(manifest: ChunkManifest) -> _Refs:
    """Non-empty entries of a manifest. ``_paths``/``_offsets``/``_lengths`` are ChunkManifest's numpy
    arrays (its only array-level accessors); paths repeat in long runs (one file's chunks), so distinct
    URLs come from run boundaries instead of sorting every path."""
    paths, offsets, lengths = manifest._paths, manifest._offsets, manifest._lengths
    if paths.ndim == 0:
        paths, offsets, lengths = paths.reshape(1), offsets.reshape(1), lengths.reshape(1)
    present = paths != ""
    if present.all():
        index = np.indices(paths.shape).reshape(paths.ndim, -1).T
        flat, offs, lens = paths.ravel(), offsets.ravel(), lengths.ravel()
    else:
        index = np.stack(np.nonzero(present), axis=1) if paths.ndim else np.zeros((0, 0), np.int64)
        flat, offs, lens = paths[present], offsets[present], lengths[present]
    if manifest._paths.ndim == 0:
        index = np.zeros((len(flat), 0), dtype=np.int64)
    if not len(flat):
        return _Refs(index, np.zeros(0, np.intp), [], offs, lens)
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    run_urls = flat[starts].tolist()
    table: dict[str, int] = {}
    run_codes = np.fromiter((table.setdefault(u, len(table)) for u in run_urls), dtype=np.intp, count=len(run_urls))
    codes = np.repeat(run_codes, np.diff(np.append(starts, len(flat))))
    return _Refs(index, codes, list(table), offs, lens)


def _specs(refs: _Refs, start: int, stop: int, chunk_offset: np.ndarray, etags: np.ndarray,
           stamps: np.ndarray) -> list[ic.VirtualChunkSpec]:
    """``VirtualChunkSpec``s for refs[start:stop]: every argument list comes from a whole-array operation."""
    index = refs.index[start:stop]
    if chunk_offset.any():
        index = index + chunk_offset
    codes = refs.codes[start:stop]
    urls = np.asarray(refs.urls, dtype=object)
    # Chunk indices as tuples zipped from per-axis lists: Icechunk copies them in at construction, so zip can
    # recycle one tuple, where ``index.tolist()`` allocates a list per chunk (spec building ~2x faster).
    indices = zip(*(axis.tolist() for axis in index.T)) if index.shape[1] else itertools.repeat((), len(index))
    return list(map(ic.VirtualChunkSpec, indices, urls[codes].tolist(),
                    refs.offsets[start:stop].tolist(), refs.lengths[start:stop].tolist(),
                    etags[codes].tolist(), stamps[codes].tolist()))


class _RefWriter:
    """Hands batches of specs to Icechunk on one worker thread while the caller builds the next batch."""

    def __init__(self, store: Any, batch: int) -> None:
        self.store, self.batch = store, batch
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="virtual-geotiff-icechunk")
        self.pending: list[Future] = []

    def write(self, path: str, refs: _Refs, stamps: Mapping[str, SourceStamp], chunk_offset: Sequence[int]) -> int:
        etags, moments = _checksum_columns(refs.urls, stamps)
        offset = np.asarray(chunk_offset, dtype=np.int64)
        start, size = 0, min(self.batch, FIRST_BATCH)
        while start < len(refs):
            stop = min(len(refs), start + size)
            specs = _specs(refs, start, stop, offset, etags, moments)
            self._drain(keep=1)
            self.pending.append(self.pool.submit(self._set, path, specs))
            start, size = stop, min(self.batch, size * 2)
        return len(refs)

    def _set(self, path: str, specs: list[ic.VirtualChunkSpec]) -> None:
        failed = self.store.set_virtual_refs(path, specs, validate_containers=False)
        if failed:
            raise PublishError(f"Icechunk refused {len(failed)} reference(s) of {path}, e.g. chunk {failed[0]}")

    def _drain(self, keep: int = 0) -> None:
        while len(self.pending) > keep:
            self.pending.pop(0).result()

    def close(self) -> None:
        try:
            self._drain()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _write_refs(store: Any, group: str, virtual: Mapping[str, xr.Variable], refs: Mapping[str, _Refs],
                stamps: Mapping[str, SourceStamp], offsets: Mapping[str, Sequence[int]],
                batch_size: int) -> dict[str, int]:
    writer = _RefWriter(store, batch_size)
    written: dict[str, int] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived spec objects: collection passes would dominate
    try:
        for name, var in virtual.items():
            path = _array_path(group, name)
            written[path] = writer.write(path, refs[name], stamps, offsets.get(name, (0,) * var.ndim))
    finally:
        try:
            writer.close()
        finally:
            if gc_was_enabled:
                gc.enable()
    return written
