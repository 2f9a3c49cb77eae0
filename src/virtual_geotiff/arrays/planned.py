"""``PlannedIfd``: one IFD of one file planned into a chunk layout, a codec chain and its georeferencing.

Why one record: the parser, the cube builder and the VRT reader all turn an IFD into the same three facts
and then into attributes and a ``ManifestArray``. Planning reads nothing (the header is already read) and
builds no Zarr metadata, so a scan of thousands of files keeps one small picklable record per file and
makes Zarr metadata once per output array.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from virtualizarr.manifests import ManifestArray

from ..codecs.mapping import CodecPlan, check_supported, plan_codecs, sample_dtype
from ..errors import where
from ..geo import IfdGeoref, georeference, inherits_georeferencing, rescaled
from ..geo.attrs import parse_nodata
from ..geo.transform import GeoTransform
from ..layout import ChunkLayout, check_chunks_in_object, plan_layout
from ..limits import Limits
from ..manifest import manifest_array
from ..sources import SourceStamp
from ..tiff.reader import IfdInfo, TiffHeader
from .attributes import ifd_attributes

_EMPTY = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True, eq=False)
class PlannedIfd:
    """One IFD of the file at ``url``: its chunk ``layout``, codec ``plan`` and georeferencing.

    ``georef`` is None only in records shipped from another process without it (a cube batch ships one per
    grid). ``grid_key`` is filled by scans that compare files (the cube builder): the CRS as WKT plus the
    raster-space convention, which files must share to lie on one grid.
    """

    url: str
    stamp: SourceStamp | None
    ifd: IfdInfo
    layout: ChunkLayout
    plan: CodecPlan
    georef: IfdGeoref | None
    grid_key: str = ""

    @property
    def where(self) -> str:
        """How errors name this IFD."""
        return where(self.url, self.ifd.index)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.plan.dtype)

    @property
    def planes(self) -> int:
        """Bands of the array (1 for a ``(y, x)`` array)."""
        return self.layout.shape[0] if len(self.layout.shape) == 3 else 1

    @property
    def interleaved(self) -> bool:
        """Chunks hold every band (a pixel-interleaved file): bands cannot be picked one by one."""
        return self.layout.interleaved_samples > 1

    @property
    def nodata(self) -> Any:
        """The file's GDAL nodata as a value of the array's dtype, or None."""
        return parse_nodata(self.ifd.geo.gdal_nodata, self.plan.dtype, where=self.where)

    @property
    def fill(self) -> Any:
        """What GDAL reads for a missing (sparse) chunk of this IFD: its nodata, else 0."""
        nodata = self.nodata
        return self.dtype.type(0) if nodata is None else nodata

    @cached_property
    def decode_key(self) -> tuple[Any, ...]:
        """What must be equal for chunks of two IFDs to decode the same way in one array: dtype, chunk shape,
        dimensions, leading (band) shape and codec chain (labelled by ``DECODE_KEY_LABELS`` in messages)."""
        return (str(self.plan.dtype), self.layout.chunks, self.layout.dims, self.layout.shape[:-2],
                repr(self.plan.codecs))

    #: Labels of ``decode_key``'s items, for messages that say what differs.
    DECODE_KEY_LABELS = ("dtype", "chunk shape", "dimensions", "leading shape (bands)", "codecs")

    @cached_property
    def plane_decode_key(self) -> str:
        """``decode_key`` for single planes (a VRT band taken from band-separate files of any band count):
        dtype, tile shape, samples per chunk and codecs."""
        return json.dumps([str(self.dtype), list(self.layout.chunks[-2:]), self.layout.interleaved_samples,
                           self.plan.codecs], sort_keys=True, default=str)

    @property
    def transform(self) -> GeoTransform | None:
        """The pixel grid's transform, for north-up or rotated grids that have x/y (None otherwise)."""
        georef = self.georef
        return georef.transform if georef is not None and georef.has_xy else None

    def attributes(self, *, shape: tuple[int, ...] | None = None, georef: IfdGeoref | None = None,
                   grid_mapping: bool = False) -> tuple[Any, dict[str, Any]]:
        """``(fill_value, attributes)`` of an array made of this IFD, ``shape`` and ``georef`` defaulting to
        the IFD's own (a cube passes the whole cube's)."""
        geo = self.georef if georef is None else georef
        assert geo is not None, "a PlannedIfd shipped without georeferencing needs georef="
        return ifd_attributes(self.ifd, self.plan.dtype, self.layout.shape if shape is None else shape, geo,
                              self.where, grid_mapping=grid_mapping)

    def array(self, *, grid_mapping: bool = False) -> ManifestArray:
        """The virtual array of this IFD alone: its chunks, codecs, nodata as fill value and attributes.
        ``grid_mapping=True`` when a ``spatial_ref`` variable next to the array describes this IFD."""
        fill_value, attrs = self.attributes(grid_mapping=grid_mapping)
        return manifest_array(self.url, self.layout, self.plan, fill_value=fill_value, attributes=attrs)

    def for_shipping(self, *, keep_crs: bool) -> PlannedIfd:
        """This record as it travels back from a scan on another process: without the IFD's offsets and byte
        counts (the layout holds them) and, unless ``keep_crs``, without its CRS objects, which pickle as
        WKT: a batch ships them once per ``grid_key`` and ``with_crs_of`` puts them back."""
        light = dataclasses.replace(self.ifd, offsets=_EMPTY, byte_counts=_EMPTY)
        georef = self.georef
        if not keep_crs and georef is not None:
            georef = dataclasses.replace(georef, crs=None, vertical_crs=None)
        return dataclasses.replace(self, ifd=light, georef=georef)

    def with_crs_of(self, other: PlannedIfd) -> PlannedIfd:
        """This record with ``other``'s CRS objects (same ``grid_key``: the same CRS, by its WKT)."""
        if self.georef is None or other.georef is None:
            return self
        georef = dataclasses.replace(self.georef, crs=other.georef.crs, vertical_crs=other.georef.vertical_crs)
        return dataclasses.replace(self, georef=georef)


def ifd_georeference(ifd: IfdInfo, header: TiffHeader) -> IfdGeoref:
    """Georeferencing of ``ifd``: its own GeoTIFF tags, or for an overview/mask IFD without any, the main
    image's rescaled to its size (what rasterio gives with ``overview_level=``)."""
    main = header.ifds[0]
    if inherits_georeferencing(ifd, main):
        return rescaled(georeference(main, where(header.url, main.index)), main, ifd)
    return georeference(ifd, where(header.url, ifd.index))


def plan_ifd(ifd: IfdInfo, header: TiffHeader, limits: Limits) -> PlannedIfd:
    """Plan ``ifd`` of ``header``'s file: refuse what cannot be mapped, then its chunk layout and codec chain.
    No georeferencing (``georef`` stays None): callers that only need bytes (VRT writer, ``inspect``) never
    pay for a CRS, and a georeferencing problem never blocks them."""
    check_supported(ifd, header.url)
    dtype = sample_dtype(ifd, header.url)
    layout = plan_layout(ifd, header.url, limits, dtype.itemsize)
    check_chunks_in_object(ifd, layout, header.stamp.size if header.stamp else None, where(header.url, ifd.index))
    plan = plan_codecs(ifd, header.byteorder, layout, header.url)
    return PlannedIfd(url=header.url, stamp=header.stamp, ifd=ifd, layout=layout, plan=plan, georef=None)


def plan_georeferenced_ifd(ifd: IfdInfo, header: TiffHeader, limits: Limits, *,
                           georef: IfdGeoref | None = None) -> PlannedIfd:
    """``plan_ifd`` plus the IFD's georeferencing (``ifd_georeference``), or ``georef`` when the caller knows it
    (a pyramid level takes the base image's, rescaled). Planned first, so an unsupported IFD fails as such."""
    planned = plan_ifd(ifd, header, limits)
    return dataclasses.replace(planned, georef=ifd_georeference(ifd, header) if georef is None else georef)
