"""The one module that touches VirtualiZarr's manifest internals: building ``ManifestArray``s from a chunk
layout and a codec plan, and reading, stacking and padding a manifest's references as numpy arrays.

Why one module: ``ChunkManifest`` keeps its references in private numpy arrays (``_paths``, ``_offsets``,
``_lengths``) and has no public array-level accessor; everything else in the package goes through the
functions here, so an upstream change is mended in one place (``tests/project/test_upstream.py`` fails
loudly when it happens). Paths, offsets and lengths go straight into ``ChunkManifest.from_arrays`` as numpy
arrays: no per-chunk Python objects, and no per-path validation (the URL is normalised once per file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray
from virtualizarr.manifests.utils import create_v3_array_metadata
from zarr.core.metadata.v3 import ArrayV3Metadata

from .codecs.mapping import CodecPlan
from .layout import ChunkLayout


@dataclass(frozen=True)
class ChunkRefs:
    """A manifest's references as numpy arrays over its chunk grid; an empty path is a missing chunk."""

    paths: np.ndarray  # StringDType
    offsets: np.ndarray  # uint64
    lengths: np.ndarray  # uint64

    def __getitem__(self, index: Any) -> ChunkRefs:
        return ChunkRefs(self.paths[index], self.offsets[index], self.lengths[index])

    @property
    def referenced(self) -> np.ndarray:
        """True where a chunk has a reference (non-empty path)."""
        return self.paths != ""


def references(manifest: ChunkManifest) -> ChunkRefs:
    """The references of ``manifest`` (views of its arrays: do not write into them)."""
    return ChunkRefs(manifest._paths, manifest._offsets, manifest._lengths)


def from_references(paths: np.ndarray, offsets: np.ndarray, lengths: np.ndarray) -> ChunkManifest:
    """A manifest from numpy arrays (paths already normalised: they are not validated one by one)."""
    return ChunkManifest.from_arrays(paths=paths, offsets=offsets.astype(np.uint64, copy=False),
                                     lengths=lengths.astype(np.uint64, copy=False), validate_paths=False)


def referenced_count(manifest: ChunkManifest) -> int:
    """How many chunks of ``manifest`` have a reference."""
    return int(references(manifest).referenced.sum())


def stack_manifests(manifests: list[ChunkManifest]) -> ChunkManifest:
    """Manifests of equal chunk grids stacked along a new leading axis."""
    refs = [references(m) for m in manifests]
    return from_references(np.stack([r.paths for r in refs]), np.stack([r.offsets for r in refs]),
                           np.stack([r.lengths for r in refs]))


def pad_leading(manifest: ChunkManifest, n: int) -> ChunkManifest:
    """``manifest`` with its leading axis grown to ``n`` (the new positions have no chunks)."""
    refs = references(manifest)
    extra = n - refs.paths.shape[0]
    pad = [(0, extra)] + [(0, 0)] * (refs.paths.ndim - 1)
    paths = np.concatenate([refs.paths, np.empty((extra, *refs.paths.shape[1:]), dtype=np.dtypes.StringDType())])
    return from_references(paths, np.pad(refs.offsets, pad), np.pad(refs.lengths, pad))


def chunk_manifest(url: str, layout: ChunkLayout) -> ChunkManifest:
    """One manifest entry per chunk; missing chunks (sparse files) get an empty path."""
    paths = np.full(layout.grid_shape, url, dtype=np.dtypes.StringDType())
    paths[layout.missing] = ""
    return from_references(paths, layout.offsets, layout.lengths)


def codecs_for_ndim(codecs: list[Any], ndim: int) -> list[Any]:
    """``codecs`` for an array of ``ndim`` dimensions: a ``transpose`` planned for one file's ``(band, y, x)``
    keeps the dimensions a cube puts in front (``time``) where they are, ``[1, 2, 0]`` -> ``[0, 2, 3, 1]``."""
    out = []
    for codec in codecs:
        order = codec.get("configuration", {}).get("order") if isinstance(codec, dict) else None
        if codec.get("name") == "transpose" and order is not None and len(order) < ndim:
            extra = ndim - len(order)
            codec = {**codec, "configuration": {**codec["configuration"],
                                                "order": [*range(extra), *(int(o) + extra for o in order)]}}
        out.append(codec)
    return out


def array_metadata(layout: ChunkLayout, plan: CodecPlan, *, fill_value: Any = None,
                   attributes: dict[str, Any] | None = None) -> ArrayV3Metadata:
    """Zarr v3 metadata of an array of ``layout`` decoded by ``plan`` (VirtualiZarr's own helper builds it)."""
    return create_v3_array_metadata(shape=layout.shape, data_type=np.dtype(plan.dtype), chunk_shape=layout.chunks,
                                    fill_value=fill_value, codecs=codecs_for_ndim(list(plan.codecs), len(layout.shape)),
                                    attributes=attributes, dimension_names=layout.dims)


def manifest_array(url: str, layout: ChunkLayout, plan: CodecPlan, *, fill_value: Any = None,
                   attributes: dict[str, Any] | None = None) -> ManifestArray:
    """The virtual array of one file's IFD: every chunk of ``layout`` referenced in ``url``."""
    return assembled_array(chunk_manifest(url, layout), layout, plan, fill_value=fill_value, attributes=attributes)


def assembled_array(manifest: ChunkManifest, layout: ChunkLayout, plan: CodecPlan, *, fill_value: Any = None,
                    attributes: dict[str, Any] | None = None) -> ManifestArray:
    """A virtual array over ``manifest`` (placed from many files: a stitched VRT band, a cube), shaped and
    chunked by ``layout`` and decoded by ``plan``."""
    return ManifestArray(metadata=array_metadata(layout, plan, fill_value=fill_value, attributes=attributes),
                         chunkmanifest=manifest)


def single_chunk_array(shape: tuple[int, ...], dtype: str, fill_value: Any, dims: tuple[str, ...],
                       attrs: dict[str, Any], url: str | None, nbytes: int = 0) -> ManifestArray:
    """A one-chunk array in plain little-endian ``bytes`` (readable by any Zarr v3 reader); without ``url`` it
    has no chunk and reads as ``fill_value``."""
    metadata = create_v3_array_metadata(shape=shape, data_type=np.dtype(dtype), chunk_shape=shape,
                                        fill_value=fill_value, codecs=[{"name": "bytes",
                                                                        "configuration": {"endian": "little"}}],
                                        attributes=attrs, dimension_names=dims)
    grid = (1,) * len(shape)
    paths = np.full(grid, url or "", dtype=np.dtypes.StringDType())
    lengths = np.full(grid, nbytes if url else 0, dtype=np.uint64)
    return ManifestArray(metadata=metadata, chunkmanifest=from_references(paths, np.zeros(grid, np.uint64), lengths))
