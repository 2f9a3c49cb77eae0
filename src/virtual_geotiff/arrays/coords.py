"""Coordinates of a georeferenced raster, computed once from its georeferencing: the scalar ``spatial_ref``
(CF grid mapping) and, for north-up grids, 1-D ``x``/``y`` pixel centres.

Why computed here and nowhere else: the parser stores them as small virtual arrays whose bytes live in
memory (``georef_arrays``), the cube builder as numpy coordinates of an ``xarray.Dataset``
(``grid_coordinates``); both must agree to the last bit with what rioxarray gives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray

from ..geo import IfdGeoref
from ..geo.attrs import spatial_ref_attributes
from ..geo.coords import coordinate_attrs, pixel_centers
from ..manifest import single_chunk_array

#: ``(dims, values, attributes)`` of one coordinate, as ``xarray.Dataset(coords=...)`` takes it.
Coordinate = tuple[tuple[str, ...], Any, dict[str, Any]]


def grid_coordinates(georef: IfdGeoref, height: int, width: int, *, with_xy: bool = True) -> dict[str, Coordinate]:
    """``spatial_ref`` (and ``x``/``y`` for north-up grids) of a ``height`` x ``width`` raster, or nothing when
    the raster has no CRS or transform to describe."""
    if not georef.has_spatial_ref:
        return {}
    coords: dict[str, Coordinate] = {
        "spatial_ref": ((), np.int64(0), spatial_ref_attributes(georef.crs, georef.transform))}
    if with_xy and georef.has_xy:
        x, y = pixel_centers(georef.transform, width, height)
        x_attrs, y_attrs = coordinate_attrs(georef.crs)
        coords["x"] = (("x",), x, x_attrs)
        coords["y"] = (("y",), y, y_attrs)
    return coords


@dataclass
class InMemoryObjects:
    """Bytes of computed arrays (x/y coordinates), keyed by URL under one ``memory://`` prefix."""

    prefix: str
    objects: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def new(cls) -> InMemoryObjects:
        return cls(prefix=f"memory://virtual-geotiff/{uuid.uuid4().hex}")

    def add(self, name: str, data: bytes) -> str:
        url = f"{self.prefix}/{name}"
        self.objects[url] = data
        return url

    def register(self, registry: ObjectStoreRegistry) -> None:
        """Put the objects in a ``MemoryStore`` and register it for ``prefix`` (no-op when empty)."""
        if not self.objects:
            return
        import obstore
        from obstore.store import MemoryStore

        store = MemoryStore()
        for url, data in self.objects.items():
            # ManifestStore reads the URL's whole path from a store without a prefix
            obstore.put(store, url.split("://", 1)[1].split("/", 1)[1], data)
        registry.register(self.prefix, store)


def georef_arrays(georef: IfdGeoref, shape: tuple[int, ...], memory: InMemoryObjects, name: str = "",
                  *, with_xy: bool = True) -> dict[str, ManifestArray]:
    """``spatial_ref`` (and ``x``/``y`` for north-up grids) describing one array of ``shape``, as virtual arrays.

    ``spatial_ref`` has no chunk: it reads as its fill value 0, so it never points at memory. ``x``/``y`` are
    little-endian float64 bytes in ``memory``, one chunk each.
    """
    arrays: dict[str, ManifestArray] = {}
    prefix = f"{name}/" if name else ""
    for key, (dims, values, attrs) in grid_coordinates(georef, shape[-2], shape[-1], with_xy=with_xy).items():
        if not dims:
            arrays[key] = single_chunk_array((), "int64", 0, (), attrs, None)
            continue
        data = values.astype("<f8").tobytes()
        url = memory.add(f"{prefix}{key}", data)
        arrays[key] = single_chunk_array((values.size,), "float64", np.nan, dims, attrs, url, len(data))
    return arrays
