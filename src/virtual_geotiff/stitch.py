"""Stitch per-file virtual arrays lying on one chunk-aligned pixel grid into one larger virtual array.

Why a module of its own: a stitched cube (a tile grid of COGs, a VRT of aligned files) is the same
operation whatever describes the placement, so the cube builder and the VRT parser share this one helper.
It never reads a pixel and never resamples: every source chunk keeps its own byte range and lands on
exactly one chunk of the output. That only works when all sources decode the same way (dtype, codec
chain, chunk shape, fill value) and sit at chunk-aligned pixel offsets; anything else is refused with
an error that lists each offending file and what differs.

The manifest is built with numpy block assignment into preallocated ``StringDType``/``uint64`` arrays:
no per-chunk Python work, so stitching 10,000 files of 256 chunks costs a few milliseconds per 1,000 files.
Chunks no source covers get an empty path and read as the fill value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray
from zarr.core.metadata.v3 import ArrayV3Metadata

from .errors import IncompatibleSourcesError, InvalidArgumentError

__all__ = ["Placement", "stitch"]


@dataclass(frozen=True, eq=False)
class Placement:
    """One source array and the pixel position of its top-left corner in the stitched array.

    ``row``/``col`` index the last two dimensions (``y``, ``x``); leading dimensions (``band``) are not
    offset and must match. ``label`` names the source in errors (default: the first path of its manifest).
    """

    array: ManifestArray
    row: int = 0
    col: int = 0
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label is not None:
            return self.label
        paths = self.array.manifest._paths
        nonempty = paths[paths != ""]
        return str(nonempty.flat[0]) if nonempty.size else "<array without chunks>"


def stitch(placements: Sequence[Placement], *, shape: Sequence[int] | None = None,
           attributes: Mapping[str, Any] | None = None) -> ManifestArray:
    """One ``ManifestArray`` holding every placement's chunks at its offset.

    ``shape`` is the stitched array's shape (default: the smallest that holds every placement).
    ``attributes`` replace the output's attributes (default: those every input shares with equal values;
    per-file georeferencing attributes differ and are dropped, the caller describes the whole grid).

    Raises ``IncompatibleSourcesError`` listing each file whose dtype, codec chain, chunk shape, fill value,
    dimensions or leading shape differ from the first one's, that is not chunk-aligned, whose partial edge
    chunks would fall inside the grid, or that overlaps another.
    """
    if not placements:
        raise InvalidArgumentError("stitch() needs at least one placement")
    for i, p in enumerate(placements):
        if not isinstance(p, Placement) or not isinstance(p.array, ManifestArray):
            raise InvalidArgumentError(f"placement {i} must be a Placement of a ManifestArray, got {p!r}")
        if p.array.ndim < 2:
            raise InvalidArgumentError(f"{p.name}: stitching needs arrays with (y, x) as last dimensions")
    first = placements[0]
    ref_meta = first.array.metadata
    chunks = tuple(first.array.chunks)
    lead = tuple(first.array.shape[:-2])
    problems: dict[str, list[str]] = {}

    def problem(p: Placement, text: str) -> None:
        problems.setdefault(p.name, []).append(text)

    ref_facts = _facts(ref_meta)
    for p in placements[1:]:
        facts = _facts(p.array.metadata)
        for key, value in facts.items():
            if value != ref_facts[key]:
                problem(p, f"{key} {value} (expected {ref_facts[key]} as in {first.name})")
        if tuple(p.array.shape[:-2]) != lead:
            problem(p, f"leading shape {tuple(p.array.shape[:-2])} (expected {lead} as in {first.name})")
    ch, cw = chunks[-2], chunks[-1]
    for p in placements:
        if p.row < 0 or p.col < 0:
            problem(p, f"negative offset (row {p.row}, col {p.col})")
        elif p.row % ch or p.col % cw:
            problem(p, f"offset (row {p.row}, col {p.col}) is not a multiple of the chunk shape {ch} x {cw}")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot stitch", problems)

    height = max(p.row + p.array.shape[-2] for p in placements)
    width = max(p.col + p.array.shape[-1] for p in placements)
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != len(chunks) or shape[:-2] != lead:
            raise InvalidArgumentError(f"shape {shape} does not match the placements' leading shape {lead}")
        if shape[-2] < height or shape[-1] < width:
            raise InvalidArgumentError(f"shape {shape} is smaller than the placements' extent {height} x {width}")
        height, width = shape[-2], shape[-1]
    out_shape = (*lead, height, width)
    grid = tuple(math.ceil(s / c) for s, c in zip(out_shape, chunks))

    owner = np.full(grid[-2:], -1, dtype=np.int64)
    for i, p in enumerate(placements):
        h, w = p.array.shape[-2:]
        if h % ch and p.row + h != height:
            problem(p, f"height {h} is not a multiple of the chunk height {ch} and the file is not on the "
                       "bottom edge of the grid (its partial last chunk row would fall inside the array)")
        if w % cw and p.col + w != width:
            problem(p, f"width {w} is not a multiple of the chunk width {cw} and the file is not on the "
                       "right edge of the grid (its partial last chunk column would fall inside the array)")
        r0, c0 = p.row // ch, p.col // cw
        gh, gw = p.array.manifest.shape_chunk_grid[-2:]
        block = owner[r0:r0 + gh, c0:c0 + gw]
        taken = np.unique(block[block >= 0])
        if taken.size:
            others = ", ".join(placements[int(j)].name for j in taken[:3])
            problem(p, f"overlaps {others} (row {p.row}, col {p.col}, {h} x {w} pixels)")
        block[block < 0] = i
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot stitch", problems)

    paths = np.empty(grid, dtype=np.dtypes.StringDType())
    offsets = np.zeros(grid, dtype=np.uint64)
    lengths = np.zeros(grid, dtype=np.uint64)
    for p in placements:
        m = p.array.manifest
        gh, gw = m.shape_chunk_grid[-2:]
        r0, c0 = p.row // ch, p.col // cw
        window = (..., slice(r0, r0 + gh), slice(c0, c0 + gw))
        paths[window] = m._paths
        offsets[window] = m._offsets
        lengths[window] = m._lengths
    manifest = ChunkManifest.from_arrays(paths=paths, offsets=offsets, lengths=lengths, validate_paths=False)
    attrs = dict(attributes) if attributes is not None else _shared_attributes(placements)
    metadata = ref_meta.update_shape(out_shape).update_attributes(attrs)
    return ManifestArray(metadata=metadata, chunkmanifest=manifest)


def _facts(meta: ArrayV3Metadata) -> dict[str, str]:
    """What must be equal for chunks of two arrays to decode the same way, as comparable text."""
    d = meta.to_dict()
    return {
        "dtype": str(meta.data_type.to_native_dtype()),
        "codecs": json.dumps(d["codecs"], sort_keys=True, default=str),
        "chunk shape": str(tuple(meta.chunks)),
        "fill value": json.dumps(d["fill_value"], default=str),
        "dimensions": str(tuple(meta.dimension_names or ())),
    }


def _shared_attributes(placements: Sequence[Placement]) -> dict[str, Any]:
    attrs = dict(placements[0].array.metadata.attributes)
    for p in placements[1:]:
        other = p.array.metadata.attributes
        for key in list(attrs):
            if key not in other or other[key] != attrs[key]:
                del attrs[key]
    return attrs
