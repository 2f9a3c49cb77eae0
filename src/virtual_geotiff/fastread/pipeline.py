"""``GroupedReadPipeline``: a zarr codec pipeline that reads many small chunks with less per-chunk overhead
(opt-in).

Why: zarr's ``BatchedCodecPipeline`` reads each chunk as its own chain of asyncio tasks: one store ``get``,
then one ``concurrent_map`` and one thread hop *per codec* (Deflate in a thread, predictor in a thread), then
the copy into the output on the event loop. For a COG of many small tiles that hand-off costs about as much
as decoding the chunks (docs/performance.md). This pipeline reads the same chunks with the same codecs,
differently grouped:

- chunks are read in groups: one batched fetch per group where the store offers one (Icechunk's
  ``get_partial_values``; for VirtualiZarr's ``ManifestStore``, whose ``get_partial_values`` is not
  implemented, the chunks' byte ranges go to the object store's ``get_ranges_async``, one call per
  file), per-key ``get`` otherwise;
- each group is decoded in **one** worker-thread call that runs every codec's synchronous decode step
  and writes the chunk into the output array, so a group costs one thread hop instead of two per chunk.

Nothing else changes: the codecs, their order and their output are zarr's (the same synchronous decode the
codecs run under zarr's own pipeline), so decoded arrays are byte-identical. Arrays whose codecs cannot
decode synchronously (sharding, numcodecs wrappers without one) and all writes go through zarr's
``BatchedCodecPipeline`` unchanged. The private zarr and VirtualiZarr APIs this needs are reached through
``virtual_geotiff._upstream``.

Selected process-wide by zarr's ``codec_pipeline.path`` config when an array is opened
(``use_fast_pipeline()`` or ``virtual_geotiff.use_fast_decoders()``); never at import.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import zarr
from virtualizarr.manifests import ManifestArray
from virtualizarr.manifests.manifest import INLINED_CHUNK_PATH
from zarr.abc.codec import GetResult
from zarr.core.codec_pipeline import BatchedCodecPipeline, fill_value_or_default
from zarr.core.config import config
from zarr.registry import register_pipeline

from .._upstream import (
    SyncDecode,
    chunk_index,
    decodes_synchronously,
    deepest_node,
    has_manifest_internals,
    manifest_group,
    path_in_store,
    store_registry,
    sync_decode_chain,
)
from ..codecs._base import chunk_nbytes
from .fused import FusedDecoder, fused_decoder

if TYPE_CHECKING:
    from zarr.abc.store import ByteGetter
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, BufferPrototype, NDBuffer
    from zarr.core.indexing import SelectorTuple

#: The config value that selects this pipeline (``zarr.config.set({"codec_pipeline.path": QUALNAME})``).
QUALNAME = "virtual_geotiff.fastread.pipeline.GroupedReadPipeline"
#: zarr's own pipeline (what ``set_codec_pipeline(ZARR_PIPELINE)`` restores).
ZARR_PIPELINE = "zarr.core.codec_pipeline.BatchedCodecPipeline"
#: At most this many chunks per group (one batched fetch, one thread hop) ...
MAX_GROUP = 64
#: ... and at most about this many decoded bytes: big chunks need no grouping (their overhead is small
#: next to decoding them) and decode better one per thread hop, overlapping their fetches.
GROUP_BYTES = 1 << 20
#: Aim for this many groups per CPU core, so every core has a group to decode while others are fetched.
GROUPS_PER_CPU = 2

_ReadItem = tuple["ByteGetter", "ArraySpec", "SelectorTuple", "SelectorTuple", bool]


class GroupedReadPipeline(BatchedCodecPipeline):
    """``BatchedCodecPipeline`` whose ``read`` fetches chunks in groups and decodes a group per thread hop."""

    @property
    def _fusable(self) -> bool:
        codecs = (*self.array_array_codecs, self.array_bytes_codec, *self.bytes_bytes_codecs)
        return not self.supports_partial_decode and all(decodes_synchronously(c) for c in codecs)

    async def read(self, batch_info: Iterable[_ReadItem], out: NDBuffer,
                   drop_axes: tuple[int, ...] = ()) -> tuple[GetResult, ...]:
        """Decode every chunk of ``batch_info`` into ``out`` and say, per chunk and in order, whether it was
        stored or read as the fill value (zarr reads that when ``array.read_missing_chunks`` is False)."""
        if not self._fusable:
            return await super().read(batch_info, out, drop_axes)
        items = list(batch_info)
        if not items:
            return ()
        size = group_size(len(items), _chunk_bytes(items[0][1]))
        limit = max(1, int(config.get("async.concurrency") or 1))
        fetch_gate = asyncio.Semaphore(limit)
        group_gate = asyncio.Semaphore(limit)

        async def one(group: Sequence[_ReadItem]) -> list[GetResult]:
            async with group_gate:
                chunks = await fetch_group(group, fetch_gate)
                return await asyncio.to_thread(self._decode_group, group, chunks, out, drop_axes)

        groups = await asyncio.gather(*(one(items[i:i + size]) for i in range(0, len(items), size)))
        return tuple(result for group in groups for result in group)

    def _decode_group(self, group: Sequence[_ReadItem], chunks: Sequence[Buffer | None], out: NDBuffer,
                      drop_axes: tuple[int, ...]) -> list[GetResult]:
        """Decode every chunk of ``group`` through the whole codec chain and place it in ``out``."""
        results: list[GetResult] = []
        chain: list[tuple[SyncDecode, ArraySpec]] = []
        fused: FusedDecoder | None = None
        scratch = np.empty(0, np.uint8)
        chain_spec: ArraySpec | None = None
        for (_, spec, chunk_selection, out_selection, _), data in zip(group, chunks, strict=True):
            if data is None:
                out[out_selection] = fill_value_or_default(spec)
                results.append(GetResult(status="missing"))
                continue
            if spec != chain_spec:
                chain_spec = spec
                chain = sync_decode_chain(self, spec)
                found = fused_decoder(self.array_array_codecs, self.array_bytes_codec, self.bytes_bytes_codecs,
                                      spec)
                fused = None if found is None else found[0]
                if found is not None and scratch.size < found[1]:
                    scratch = np.empty(found[1], np.uint8)
            decoded: Any = None if fused is None else fused(data, scratch)
            if decoded is None:
                decoded = data
                for decode, codec_spec in chain:
                    decoded = decode(decoded, codec_spec)
            part = decoded[chunk_selection]
            if drop_axes:
                part = part.squeeze(axis=drop_axes)
            out[out_selection] = part
            results.append(GetResult(status="present"))
        return results


def group_size(n: int, chunk_bytes: int = 0) -> int:
    """Chunks per group: ``GROUPS_PER_CPU`` groups per core (every core decodes), at most ``MAX_GROUP``
    chunks and ``GROUP_BYTES`` decoded bytes."""
    by_bytes = max(1, GROUP_BYTES // chunk_bytes) if chunk_bytes > 0 else MAX_GROUP
    return max(1, min(MAX_GROUP, by_bytes, math.ceil(n / (GROUPS_PER_CPU * (os.cpu_count() or 1)))))


def _chunk_bytes(spec: ArraySpec) -> int:
    try:
        return chunk_nbytes(spec)
    except Exception:  # a data type without a fixed item size: group by count only
        return 0


# -- fetching a group ---------------------------------------------------------------------------------


async def fetch_group(group: Sequence[_ReadItem], gate: asyncio.Semaphore) -> list[Buffer | None]:
    """The stored bytes of every chunk of ``group`` (``None`` for a missing chunk), in order."""
    store = group[0][0].store if all(hasattr(g[0], "store") for g in group) else None
    if store is not None and all(g[0].store is store for g in group):
        prototype = group[0][1].prototype
        paths = [g[0].path for g in group]
        batched = _batched_getter(store)
        if batched is not None:
            async with gate:
                return await batched(store, paths, prototype)

    async def get(item: _ReadItem) -> Buffer | None:
        async with gate:
            return await item[0].get(prototype=item[1].prototype)

    return list(await asyncio.gather(*map(get, group)))


def _batched_getter(store: Any) -> Any:
    """The batched fetch for ``store``'s class, or ``None`` to fetch chunk by chunk."""
    cls = type(store)
    if cls.__module__.startswith("icechunk") and hasattr(store, "get_partial_values"):
        return _icechunk_get_many
    manifest_store = any(c.__module__.startswith("virtualizarr") and c.__name__ == "ManifestStore" for c in cls.__mro__)
    # also the parsers' GeoManifestStore (get not overridden); without the internals ``_manifest_get_many``
    # mirrors, chunks are fetched through ``ManifestStore.get``, one call each, as zarr does
    if manifest_store and has_manifest_internals(store):
        return _manifest_get_many
    return None


async def _icechunk_get_many(store: Any, paths: list[str], prototype: BufferPrototype) -> list[Buffer | None]:
    """Icechunk's ``get_partial_values`` (one Rust call); a missing chunk anywhere falls back to ``get``."""
    try:
        return list(await store.get_partial_values(prototype, [(path, None) for path in paths]))
    except Exception:  # a missing key fails the whole batch: per-key gets map it to None as zarr expects
        return list(await asyncio.gather(*(store.get(path, prototype) for path in paths)))


async def _manifest_get_many(store: Any, paths: list[str], prototype: BufferPrototype) -> list[Buffer | None]:
    """What ``ManifestStore.get`` returns for each chunk key, fetched with one ``get_ranges_async`` per file.

    Mirrors VirtualiZarr's ``ManifestStore.get`` (manifest lookup, registry resolution, the store-prefix rule)
    for plain chunk keys; anything else (metadata keys) goes through ``get`` itself.
    """
    group, registry = manifest_group(store), store_registry(store)
    results: list[Buffer | None] = [None] * len(paths)
    requests: dict[tuple[int, str], tuple[Any, list[int], list[int], list[int]]] = {}
    fallback: list[int] = []
    for i, key in enumerate(paths):
        node, suffix = deepest_node(group, key)
        if not isinstance(node, ManifestArray) or suffix.endswith(".json") or "/" not in key:
            fallback.append(i)
            continue
        separator = getattr(node.metadata.chunk_key_encoding, "separator", ".")
        entry = node.manifest.get_entry(chunk_index(key, separator))
        if entry is None:
            continue
        if entry["path"] == INLINED_CHUNK_PATH:  # bytes held in the manifest itself: ``get`` serves them
            fallback.append(i)
            continue
        url, offset, length = entry["path"], int(entry["offset"]), int(entry["length"])
        obj_store, _ = registry.resolve(url)
        if not obj_store:
            raise ValueError(f"Could not find a store to use for {url} in the store registry")
        key_in_store = path_in_store(obj_store, url)
        slot = requests.setdefault((id(obj_store), key_in_store), (obj_store, [], [], []))
        slot[1].append(i)
        slot[2].append(offset)
        slot[3].append(offset + length)

    async def ranges(obj_store: Any, path: str, starts: list[int], ends: list[int]) -> Sequence[Any]:
        if hasattr(obj_store, "get_ranges_async"):
            return await obj_store.get_ranges_async(path, starts=starts, ends=ends)
        return await asyncio.gather(*(obj_store.get_range_async(path, start=s, end=e)
                                      for s, e in zip(starts, ends, strict=True)))

    slots = list(requests.items())
    fetched = await asyncio.gather(*(ranges(obj, path, starts, ends)
                                     for (_, path), (obj, _, starts, ends) in slots))
    for (_, (_, index, _, _)), data in zip(slots, fetched, strict=True):
        for i, chunk in zip(index, data, strict=True):
            results[i] = prototype.buffer.from_bytes(chunk)
    if fallback:
        extra = await asyncio.gather(*(store.get(paths[i], prototype) for i in fallback))
        for i, value in zip(fallback, extra, strict=True):
            results[i] = value
    return results


# -- selecting the pipeline ---------------------------------------------------------------------------


def set_codec_pipeline(qualname: str) -> None:
    """Select the codec pipeline zarr uses for arrays opened from now on in this process."""
    register_pipeline(GroupedReadPipeline)
    zarr.config.set({"codec_pipeline.path": qualname})


def use_fast_pipeline() -> None:
    """Read chunks through ``GroupedReadPipeline`` (a zarr config change; undo with ``set_codec_pipeline``)."""
    set_codec_pipeline(QUALNAME)
