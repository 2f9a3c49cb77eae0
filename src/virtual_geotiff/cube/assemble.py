"""One cube variable from scanned files: their chunk references placed into one manifest, with attributes
and coordinates, as an ``xarray.Dataset``.

Per stack position the files are placed by ``stitch.place_blocks`` (the files' own chunk grids copied into
one preallocated manifest; chunk-aligned offsets checked per file). Stacking adds a leading dimension.
Coordinates (``x``/``y``, ``spatial_ref``, the stack and band coordinates) are computed once for the whole
cube as numpy arrays, so they are written as real arrays when published. Attributes come from
``arrays.attributes.ifd_attributes``, so a cube describes its data exactly as a single file's array would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..arrays.attributes import check_same_decoding, ifd_attributes, shared_attributes, store_attributes
from ..arrays.coords import grid_coordinates
from ..arrays.planned import PlannedIfd
from ..errors import InvalidArgumentError, where
from ..geo import IfdGeoref
from ..geo.transform import GeoTransform
from ..manifest import assembled_array, pad_leading
from ..stitch import Block, place_blocks
from .compat import check_compatible
from .grid import Grid, bbox_window, check_one_per_position, crop_block, place_on_grid, window_transform
from .stack import stack_positions

__all__ = ["assemble_variable", "select_bands"]


def assemble_variable(entries: list[PlannedIfd], values: list[Any] | None, stack_dim: str | None, *,
                      stitch: bool, bands: Sequence[Any] | None, bbox: tuple[float, ...] | None, name: str,
                      grid: Grid | None = None, stack: np.ndarray | None = None,
                      ) -> tuple[Any, list[PlannedIfd]]:
    """One variable (and its coordinates) from ``entries``, and the entries it references. ``grid`` and
    ``stack`` (sorted coordinate values, a superset of ``values``) impose a shared grid and stack axis on
    variables built separately."""
    import xarray as xr

    check_compatible(entries)
    first = entries[0]
    layout0 = first.layout
    if stack_dim is not None and stack_dim in layout0.dims:
        raise InvalidArgumentError(f"stack_dim={stack_dim!r} collides with the files' own dimension "
                                   f"{stack_dim!r} (dims {layout0.dims})")
    grid, positions = place_on_grid(entries, grid)
    chunks2 = (layout0.chunks[-2], layout0.chunks[-1])

    # stack positions: sorted unique values; files sharing a value are stitched together
    uniq, stack_index = stack_positions(values, len(entries), stack)
    if not stitch or grid.transform is None:
        check_one_per_position(entries, positions, stack_index, grid, stitching_possible=grid.transform is not None)

    window = bbox_window(grid, bbox, chunks2)
    band_index = select_bands(entries, bands)
    placed = []
    used: list[PlannedIfd] = []
    for entry, (row, col), s in zip(entries, positions, stack_index):
        cut = crop_block(_block(entry, band_index), row, col, window, chunks2)
        if cut is None:
            continue
        block, r, c = cut
        placed.append((block, (s,) if uniq is not None else (), r, c))
        used.append(entry)
    if not placed:
        raise InvalidArgumentError(f"bbox {bbox} covers no file")
    height, width = window[1] - window[0], window[3] - window[2]
    out_shape, manifest = place_blocks(placed, layout0.chunks, shape=(height, width), what="cannot stitch")
    if uniq is not None and out_shape[0] != len(uniq):
        out_shape, manifest = (len(uniq), *out_shape[1:]), pad_leading(manifest, len(uniq))

    georef = _cube_georef(entries, window_transform(grid, window))
    fill_value, attrs = _cube_attributes(used, (height, width), georef, band_index)

    dims = ((stack_dim,) if stack_dim is not None else ()) + tuple(layout0.dims)
    cube_chunks = ((1,) if stack_dim is not None else ()) + tuple(layout0.chunks)
    cube_layout = dataclasses.replace(layout0, shape=out_shape, chunks=cube_chunks, dims=dims)
    array = assembled_array(manifest, cube_layout, first.plan, fill_value=fill_value, attributes=attrs)
    variable = array.to_virtual_variable()
    coords = _coordinates(stack_dim, uniq, band_index, georef, (height, width))
    ds = xr.Dataset({name: variable}, coords=coords, attrs=store_attributes([first.plan]))
    return ds, used


def select_bands(entries: list[PlannedIfd], bands: Sequence[Any] | None) -> np.ndarray | None:
    """0-based indices of the 1-based ``bands`` (None: every band). Only separate-plane files can give up
    bands: a pixel-interleaved chunk holds all of them."""
    if bands is None:
        return None
    layout = entries[0].layout
    if "band" not in layout.dims:
        raise InvalidArgumentError("bands= selects bands of multi-band files, but these files have one band; "
                                   "to choose single-band files by name use stack_dim='band'")
    count = layout.shape[0]
    try:
        index = np.array([int(b) for b in bands], dtype=np.int64) - 1
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"bands must be 1-based band numbers, got {bands!r}") from None
    if index.size == 0 or index.min() < 0 or index.max() >= count:
        raise InvalidArgumentError(f"bands {list(bands)} out of range: the files have bands 1..{count}")
    if layout.chunks[0] != 1:
        if index.tolist() == list(range(count)):
            return None  # every band in file order: nothing to select
        raise InvalidArgumentError(
            f"bands= cannot pick bands of {entries[0].url}: it stores bands pixel-interleaved "
            "(PlanarConfiguration=1), so every chunk holds all of them; rewrite with "
            "gdal_translate -co INTERLEAVE=BAND, or select bands after opening")
    return index


def _block(entry: PlannedIfd, band_index: np.ndarray | None) -> Block:
    layout = entry.layout
    offsets, lengths, shape = layout.offsets, layout.lengths, layout.shape
    if band_index is not None:
        offsets, lengths = offsets[band_index], lengths[band_index]
        shape = (len(band_index), *shape[1:])
    return Block(entry.url, tuple(shape), entry.url, offsets, lengths)


def _coordinates(stack_dim: str | None, stack: np.ndarray | None, band_index: np.ndarray | None,
                 georef: IfdGeoref, shape: tuple[int, int]) -> dict[str, Any]:
    """The stack, band, ``spatial_ref`` and ``x``/``y`` coordinates of the whole cube."""
    coords: dict[str, Any] = {}
    if stack is not None:
        coords[stack_dim] = (stack_dim, stack)  # type: ignore[index]
    if band_index is not None:
        coords["band"] = ("band", band_index + 1)
    coords.update(grid_coordinates(georef, *shape))
    return coords


def _cube_georef(entries: list[PlannedIfd], transform: GeoTransform | None) -> IfdGeoref:
    """The first file's georeferencing with the cube's transform."""
    georef = next(e.georef for e in entries if e.georef is not None)
    if transform is None:
        return dataclasses.replace(georef, transform=None, point_transform=None) if georef.crs is not None \
            else georef
    point = transform.point_registered() if georef.pixel_is_point else None
    return dataclasses.replace(georef, transform=transform, point_transform=point, note=None)


def _cube_attributes(entries: list[PlannedIfd], shape: tuple[int, int], georef: IfdGeoref,
                     band_index: np.ndarray | None) -> tuple[Any, dict[str, Any]]:
    """Fill value and attributes from ``ifd_attributes``, once per distinct nodata/metadata.

    Items that change decoded values (nodata, scale/offset) must agree; other items are kept when all
    files agree on them (per-file statistics are dropped)."""
    groups: dict[tuple[str | None, str | None], PlannedIfd] = {}
    for e in entries:
        groups.setdefault((e.ifd.geo.gdal_nodata, e.ifd.geo.gdal_metadata), e)
    first = entries[0]
    results = []
    for e in groups.values():
        full_shape = (*e.layout.shape[:-2], *shape)
        fill, attrs = ifd_attributes(e.ifd, e.plan.dtype, full_shape, georef, where(e.url, e.ifd.index),
                                     grid_mapping=georef.has_spatial_ref)
        results.append((e, fill, attrs))
    check_same_decoding([(e.url, attrs) for e, _, attrs in results])
    fill0 = results[0][1]
    attrs = shared_attributes([attrs for _, _, attrs in results])
    if band_index is not None:
        count = first.layout.shape[0]
        for key, value in list(attrs.items()):
            if isinstance(value, list) and len(value) == count:
                attrs[key] = [value[i] for i in band_index]
    return fill0, attrs

