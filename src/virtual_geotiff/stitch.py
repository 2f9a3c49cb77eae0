"""Stitch per-file virtual arrays lying on one chunk-aligned pixel grid into one larger virtual array.

Why a module of its own: a stitched cube (a tile grid of COGs, a VRT of aligned files) is the same
operation whatever describes the placement, so the cube builder and the VRT parser share this one helper.
It never reads a pixel and never resamples: every source chunk keeps its own byte range and lands on
exactly one chunk of the output. That only works when all sources decode the same way (dtype, codec
chain, chunk shape, fill value) and sit at chunk-aligned pixel offsets; anything else is refused with
an error that lists each offending file and what differs.

The manifest is built with numpy block assignment into preallocated ``StringDType``/``uint64`` arrays:
no per-chunk Python work, so the cost grows with the number of files, not the number of chunks.
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

from .arrays.attributes import shared_attributes
from .errors import IncompatibleSourcesError, InvalidArgumentError
from .manifest import from_references, references

__all__ = ["Block", "Placement", "place_blocks", "stitch"]


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
        paths = references(self.array.manifest).paths
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
    chunks = tuple(first.array.metadata.chunks)
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
    blocks = [Block.of(p.array, p.name) for p in placements]
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != len(chunks) or shape[:-2] != lead:
            raise InvalidArgumentError(f"shape {shape} does not match the placements' leading shape {lead}")
    out_shape, manifest = place_blocks([(b, (), p.row, p.col) for b, p in zip(blocks, placements)], chunks,
                                       shape=None if shape is None else shape[-2:], problems=problems)
    if attributes is None:
        attributes = shared_attributes([p.array.metadata.attributes for p in placements])
    attrs = dict(attributes)
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


@dataclass(frozen=True, eq=False)
class Block:
    """The chunk references of one source as numpy arrays over its chunk grid (what ``place_blocks`` copies).

    ``paths`` is a ``StringDType`` array, or one URL for every chunk whose length is not 0 (a file's own
    chunks: no per-chunk path array needed). ``shape`` is the source array's shape.
    """

    label: str
    shape: tuple[int, ...]
    paths: np.ndarray | str
    offsets: np.ndarray
    lengths: np.ndarray

    @classmethod
    def of(cls, array: ManifestArray, label: str) -> Block:
        refs = references(array.manifest)
        return cls(label, tuple(array.shape), refs.paths, refs.offsets, refs.lengths)


def place_blocks(entries: Sequence[tuple[Block, tuple[int, ...], int, int]], chunks: Sequence[int], *,
                 shape: Sequence[int] | None = None, problems: dict[str, list[str]] | None = None,
                 what: str = "cannot stitch") -> tuple[tuple[int, ...], ChunkManifest]:
    """Copy each block's references into one manifest: ``(block, index, row, col)`` puts ``block`` at
    position ``index`` of the new leading (stack) dimensions and pixel ``(row, col)`` of the (y, x) grid.

    Every block has the same leading in-file dimensions (e.g. ``band``), taken from the first. ``shape``
    is the (height, width) of the result (default: the smallest holding every block); the stack extent is
    the largest index + 1. Returns the full array shape ``(*stack, *lead, height, width)`` and the manifest.
    Raises ``IncompatibleSourcesError`` (with any ``problems`` found before) for misaligned, overlapping
    or partial-edge blocks, listing each.
    """
    problems = {} if problems is None else problems
    chunks = tuple(int(c) for c in chunks)
    ch, cw = chunks[-2], chunks[-1]
    lead = tuple(entries[0][0].shape[:-2])
    nstack = len(entries[0][1])
    stack = tuple(max(e[1][k] for e in entries) + 1 for k in range(nstack))

    def problem(label: str, text: str) -> None:
        problems.setdefault(label, []).append(text)

    for block, _, row, col in entries:
        if row < 0 or col < 0:
            problem(block.label, f"negative offset (row {row}, col {col})")
        elif row % ch or col % cw:
            problem(block.label, f"offset (row {row}, col {col}) is not a multiple of the chunk shape {ch} x {cw}")
    if problems:
        raise IncompatibleSourcesError.from_problems(what, problems)
    height = max(row + b.shape[-2] for b, _, row, _ in entries)
    width = max(col + b.shape[-1] for b, _, _, col in entries)
    if shape is not None:
        if shape[-2] < height or shape[-1] < width:
            raise InvalidArgumentError(f"shape {tuple(shape)} is smaller than the sources' extent {height} x {width}")
        height, width = int(shape[-2]), int(shape[-1])
    out_shape = (*stack, *lead, height, width)
    grid = tuple(math.ceil(s / c) for s, c in zip(out_shape, (1,) * nstack + chunks))
    gy, gx = grid[-2:]

    owner = np.full((*stack, gy, gx), -1, dtype=np.int64)
    for i, (block, index, row, col) in enumerate(entries):
        h, w = block.shape[-2:]
        if h % ch and row + h != height:
            problem(block.label, f"height {h} is not a multiple of the chunk height {ch} and the file is not on "
                                 "the bottom edge of the grid (its partial last chunk row would fall inside)")
        if w % cw and col + w != width:
            problem(block.label, f"width {w} is not a multiple of the chunk width {cw} and the file is not on "
                                 "the right edge of the grid (its partial last chunk column would fall inside)")
        bh, bw = block.offsets.shape[-2:]
        cell = owner[(*index, slice(row // ch, row // ch + bh), slice(col // cw, col // cw + bw))]
        taken = np.unique(cell[cell >= 0])
        if taken.size:
            others = ", ".join(entries[int(j)][0].label for j in taken[:3])
            problem(block.label, f"overlaps {others} (row {row}, col {col}, {h} x {w} pixels)")
        cell[cell < 0] = i
    if problems:
        raise IncompatibleSourcesError.from_problems(what, problems)

    paths = np.empty(grid, dtype=np.dtypes.StringDType())
    offsets = np.zeros(grid, dtype=np.uint64)
    lengths = np.zeros(grid, dtype=np.uint64)
    for block, index, row, col in entries:
        bh, bw = block.offsets.shape[-2:]
        window = (*index, ..., slice(row // ch, row // ch + bh), slice(col // cw, col // cw + bw))
        offsets[window] = block.offsets
        lengths[window] = block.lengths
        if isinstance(block.paths, str):
            target = paths[window]  # a view: assignments below write into ``paths``
            target[...] = block.paths
            target[block.lengths == 0] = ""
        else:
            paths[window] = block.paths
    return out_shape, from_references(paths, offsets, lengths)
