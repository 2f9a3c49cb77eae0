"""``VirtualTIFF``: the VirtualiZarr parser that maps one TIFF/GeoTIFF/COG to a ``ManifestStore``.

The read contract, one canonical helper per step:
validate arguments (``__init__``) -> read IFDs/tags (``tiff.reader``) -> plan chunk layout (``layout``)
-> choose codec chain (``codecs.mapping``) -> georeference, nodata and attributes (``geo``)
-> assemble metadata (``manifest``) -> ``ManifestStore``.
Multi-file builders call ``read_header``, ``build_ifd_array`` and ``ifd_attributes`` rather than
re-implementing steps. Configuration lives in ``__init__``, all I/O in ``__call__``: the parser pickles
and parallelises.

Georeferenced IFDs open in xarray as ``rioxarray.open_rasterio`` opens them: a scalar ``spatial_ref``
coordinate (CF grid mapping, ``crs_wkt`` + ``GeoTransform``), ``grid_mapping: "spatial_ref"`` on the data
array, 1-D ``x``/``y`` pixel-centre coordinates for north-up grids, and nodata as ``_FillValue`` (masked by
``xr.open_zarr`` by default). ``spatial_ref`` is an array with no chunk: it reads as its fill value 0
everywhere, so it stays valid when the virtual dataset is written out. ``x``/``y`` are computed: their
bytes live in an obstore ``MemoryStore`` that ``__call__`` registers in the caller's registry under a
unique ``memory://virtual-geotiff/<uuid>`` prefix; they are dimension coordinates, which VirtualiZarr
loads by default, so published datasets hold them as real arrays, never as references to memory.

Which arrays get them: ``ifd_layout="nested"`` gives every georeferenced IFD group its own
``spatial_ref``/``x``/``y``. In the flat layout, all arrays share the dimensions ``(y, x)`` while IFDs
differ in size, so ``spatial_ref`` describes the first selected IFD only, and ``x``/``y`` are added only
when exactly one IFD is selected (``ifd=N`` or a single-image file). Every georeferenced array also
carries its own GeoZarr ``proj:``/``spatial:`` attributes and ``georef_status``. Overview and mask IFDs
without GeoTIFF tags of their own take IFD 0's georeferencing rescaled to their size, as GDAL does.

``ifd_layout="multiscale"`` and ``overview_level=`` expose GDAL's view instead of raw IFDs: resolution
levels with their internal masks and ``.ovr`` sidecar overviews (``virtual_geotiff.multiscale``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup, ManifestStore
from zarr.core.dtype import parse_data_type
from zarr.core.metadata.v3 import ArrayV3Metadata

from ._sync import run_sync
from ._version import __version__
from .codecs.mapping import PORTABLE_CODECS, CodecPlan, check_supported, plan_codecs, sample_dtype
from .colour import colour_attributes
from .errors import InvalidArgumentError, TiffFormatError, where
from .geo import IfdGeoref, georeference, inherits_georeferencing, rescaled
from .geo.attrs import (
    GdalMetadata,
    encode_fill_value_attr,
    geozarr_attributes,
    metadata_attributes,
    parse_gdal_metadata,
    parse_nodata,
    spatial_ref_attributes,
)
from .geo.coords import coordinate_attrs, pixel_centers
from .layout import ChunkLayout, check_chunks_in_object, plan_layout
from .limits import Limits
from .manifest import manifest_array, normalize_url
from .masks import MASK
from .readers import readable_by
from .store import GeoManifestStore
from .tiff.reader import IfdInfo, TiffHeader, read_tiff_header

IfdLayout = Literal["flat", "nested", "multiscale"]
_IFD_LAYOUTS = ("flat", "nested", "multiscale")


def resolve(url: str, registry: ObjectStoreRegistry) -> tuple[Any, str]:
    """The store and in-store path for ``url``, with an error that says how to register a store."""
    try:
        store, path = registry.resolve(url)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"no object store is registered for {url}; register one first, e.g. "
            f"ObjectStoreRegistry({{'file://': LocalStore()}}) or {{'s3://bucket': S3Store('bucket')}}"
        ) from exc
    return store, str(path)


async def read_header(url: str, registry: ObjectStoreRegistry, limits: Limits) -> TiffHeader:
    """Read one file's IFDs through the store the registry resolves for ``url``."""
    store, path = resolve(url, registry)
    return await read_tiff_header(store, path, normalize_url(url), limits)


def plan_ifd(ifd: IfdInfo, header: TiffHeader, limits: Limits) -> tuple[ChunkLayout, CodecPlan]:
    """Layout and codec chain of one IFD (the two steps every entry point shares)."""
    check_supported(ifd, header.url)
    dtype = sample_dtype(ifd, header.url)
    layout = plan_layout(ifd, header.url, limits, dtype.itemsize)
    check_chunks_in_object(ifd, layout, header.stamp.size if header.stamp else None, where(header.url, ifd.index))
    plan = plan_codecs(ifd, header.byteorder, layout, header.url)
    return layout, plan


def ifd_georeference(ifd: IfdInfo, header: TiffHeader) -> IfdGeoref:
    """Georeferencing of ``ifd``: its own GeoTIFF tags, or for an overview/mask IFD without any, the main
    image's rescaled to its size (what rasterio gives with ``overview_level=``)."""
    main = header.ifds[0]
    if inherits_georeferencing(ifd, main):
        return rescaled(georeference(main, where(header.url, main.index)), main, ifd)
    return georeference(ifd, where(header.url, ifd.index))


def build_ifd_array(ifd: IfdInfo, header: TiffHeader, limits: Limits, *, georef: IfdGeoref | None = None,
                    grid_mapping: bool = False) -> tuple[ManifestArray, CodecPlan]:
    """The virtual array of one IFD: chunks, codecs, nodata as fill value and its attributes.

    ``grid_mapping=True`` when a ``spatial_ref`` variable next to the array describes this IFD.
    """
    layout, plan = plan_ifd(ifd, header, limits)
    if georef is None:
        georef = ifd_georeference(ifd, header)
    fill_value, attrs = ifd_attributes(ifd, plan.dtype, layout.shape, georef, where(header.url, ifd.index),
                                       grid_mapping=grid_mapping)
    return manifest_array(header.url, layout, plan, fill_value=fill_value, attributes=attrs), plan


def ifd_attributes(ifd: IfdInfo, dtype: Any, shape: tuple[int, ...], georef: IfdGeoref, loc: str = "", *,
                   grid_mapping: bool = False) -> tuple[Any, dict[str, Any]]:
    """``(fill_value, attributes)`` of one IFD's array: nodata, GDAL metadata, georeferencing, GeoZarr."""
    dtype = np.dtype(dtype)
    meta = parse_gdal_metadata(ifd.geo.gdal_metadata, where=loc)
    nodata = parse_nodata(ifd.geo.gdal_nodata, dtype, where=loc)
    attrs = raster_attributes(meta, nodata, dtype, shape, georef, grid_mapping=grid_mapping,
                              has_crs_keys=bool(ifd.geo.geo_keys), georeferenced=ifd.geo.is_georeferenced,
                              where=loc)
    attrs.update(colour_attributes(ifd))
    return nodata, attrs


def raster_attributes(meta: GdalMetadata, nodata: Any, dtype: Any, shape: tuple[int, ...], georef: IfdGeoref, *,
                      grid_mapping: bool = False, has_crs_keys: bool = False,
                      georeferenced: bool = False, where: str = "") -> dict[str, Any]:
    """Attributes of one raster array from its GDAL metadata, nodata and georeferencing: the policy shared by
    TIFF IFDs (``ifd_attributes``) and GDAL VRTs (``virtual_geotiff.vrt``)."""
    dtype = np.dtype(dtype)
    bands = shape[0] if len(shape) == 3 else 1
    attrs = metadata_attributes(meta, bands, where=where)
    if nodata is not None:
        attrs["_FillValue"] = encode_fill_value_attr(nodata, dtype)
    if has_crs_keys or georef.transform is not None:
        attrs["AREA_OR_POINT"] = "Point" if georef.pixel_is_point else "Area"
    if georeferenced or georef.status != "none":
        attrs["georef_status"] = georef.status
    if georef.note:
        attrs["georef_note"] = georef.note
    if georef.vertical_crs is not None:
        attrs["vertical_crs_wkt"] = georef.vertical_crs.to_wkt(version="WKT2_2019")
    if grid_mapping and georef.has_spatial_ref:
        attrs["grid_mapping"] = "spatial_ref"
    if georef.status != "none":
        attrs.update(geozarr_attributes(georef.crs, georef.crs_code, georef.transform, georef.point_transform,
                                        (shape[-2], shape[-1])))
    return attrs


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


def _small_array(shape: tuple[int, ...], dtype: str, fill_value: Any, dims: tuple[str, ...],
                 attrs: dict[str, Any], url: str | None, nbytes: int = 0) -> ManifestArray:
    """A one-chunk array in plain little-endian ``bytes`` (readable by any Zarr v3 reader)."""
    zdtype = parse_data_type(np.dtype(dtype), zarr_format=3)
    metadata = ArrayV3Metadata(
        shape=shape,
        data_type=zdtype,
        chunk_grid={"name": "regular", "configuration": {"chunk_shape": shape}},
        chunk_key_encoding={"name": "default"},
        fill_value=fill_value,
        codecs=[{"name": "bytes", "configuration": {"endian": "little"}}],
        attributes=attrs,
        dimension_names=dims,
        storage_transformers=None,
    )
    grid = (1,) * len(shape)
    manifest = ChunkManifest.from_arrays(
        paths=np.full(grid, url or "", dtype=np.dtypes.StringDType()),
        offsets=np.zeros(grid, dtype=np.uint64),
        lengths=np.full(grid, nbytes if url else 0, dtype=np.uint64),
        validate_paths=False,
    )
    return ManifestArray(metadata=metadata, chunkmanifest=manifest)


def georef_arrays(georef: IfdGeoref, shape: tuple[int, ...], memory: InMemoryObjects, name: str = "",
                  *, with_xy: bool = True) -> dict[str, ManifestArray]:
    """``spatial_ref`` (and ``x``/``y`` for north-up grids) describing one IFD's array of ``shape``.

    ``spatial_ref`` has no chunk: it reads as its fill value 0, so it never points at memory.
    """
    if not georef.has_spatial_ref:
        return {}
    arrays = {"spatial_ref": _small_array((), "int64", 0, (),
                                          spatial_ref_attributes(georef.crs, georef.transform), None)}
    if with_xy and georef.has_xy:
        height, width = shape[-2], shape[-1]
        x, y = pixel_centers(georef.transform, width, height)
        x_attrs, y_attrs = coordinate_attrs(georef.crs)
        prefix = f"{name}/" if name else ""
        for dim, values, attrs in (("x", x, x_attrs), ("y", y, y_attrs)):
            data = values.astype("<f8").tobytes()
            url = memory.add(f"{prefix}{dim}", data)
            arrays[dim] = _small_array((values.size,), "float64", np.nan, (dim,), attrs, url, len(data))
    return arrays


def store_attributes(plans: list[CodecPlan]) -> dict[str, Any]:
    """Group attributes that tell any reader which non-standard codecs it needs."""
    custom = sorted({name for plan in plans for name in plan.custom_codecs})
    return {
        "virtual_geotiff": {
            "version": __version__,
            "custom_codecs": custom,
            "portable": not custom,
            "readable_by": readable_by(plan.codecs for plan in plans),
            "note": "arrays using custom_codecs need `pip install virtual-geotiff` to decode; "
            f"other Zarr readers decode only {sorted(PORTABLE_CODECS)}",
        }
    }


class VirtualTIFF:
    """Parse a TIFF, GeoTIFF or COG into a VirtualiZarr ``ManifestStore`` without copying pixels.

    Parameters
    ----------
    ifd
        Index of the one IFD to expose, or ``None`` (default) for every IFD of the main chain.
    ifd_layout
        ``"flat"``: one array per IFD named ``"0"``, ``"1"``, ... in the root group. ``"nested"``: one
        group per IFD, each holding its array under the same name (a layout ``xarray.DataTree`` opens).
        ``"multiscale"``: the full-resolution image and its overviews as levels ``"0"``, ``"1"``, ...
        (each with image ``"0"``, GDAL internal ``mask`` and its own ``spatial_ref``/``x``/``y``) plus a
        ``multiscales`` attribute; opens with ``xr.open_datatree(store, engine="zarr")`` (see
        ``virtual_geotiff.multiscale``).
    overview_level
        Expose one overview only, numbered as rasterio's ``overview_level`` (0 = first overview), laid out
        like ``ifd=0`` (image ``"0"``, ``mask``, ``spatial_ref``, ``x``/``y``) with that level's
        georeferencing. Not combinable with ``ifd`` or a non-flat ``ifd_layout``.
    sidecar_overviews
        Look for a GDAL ``<url>.ovr`` sidecar (default True). Only the multiscale layout and
        ``overview_level`` use it, and only for files without internal overviews (GDAL ignores ``.ovr``
        next to internal overviews), so COGs and the flat/nested layouts never pay for the lookup; a
        file without a sidecar costs one failed GET. False never looks.
    limits
        Safety caps (IFD count, header bytes, chunks per array, ...) for untrusted files.
    """

    def __init__(self, ifd: int | None = None, ifd_layout: IfdLayout = "flat", *,
                 overview_level: int | None = None, sidecar_overviews: bool = True,
                 limits: Limits | None = None) -> None:
        if ifd is not None and (not isinstance(ifd, int) or isinstance(ifd, bool) or ifd < 0):
            raise InvalidArgumentError(f"ifd must be None or a non-negative int, got {ifd!r}")
        if ifd_layout not in _IFD_LAYOUTS:
            raise InvalidArgumentError(f"ifd_layout must be one of {_IFD_LAYOUTS}, got {ifd_layout!r}")
        if overview_level is not None and (not isinstance(overview_level, int) or isinstance(overview_level, bool)
                                           or overview_level < 0):
            raise InvalidArgumentError(f"overview_level must be None or a non-negative int (0 = first overview), "
                                       f"got {overview_level!r}")
        if overview_level is not None and (ifd is not None or ifd_layout != "flat"):
            raise InvalidArgumentError("overview_level picks one level by itself: it cannot be combined with ifd= "
                                       "or ifd_layout='nested'/'multiscale'")
        if ifd is not None and ifd_layout == "multiscale":
            raise InvalidArgumentError("ifd_layout='multiscale' exposes every level of the pyramid: drop ifd= "
                                       "(or use overview_level= for one level)")
        if not isinstance(sidecar_overviews, bool):
            raise InvalidArgumentError(f"sidecar_overviews must be True or False, got {sidecar_overviews!r}")
        if limits is not None and not isinstance(limits, Limits):
            raise InvalidArgumentError(f"limits must be a virtual_geotiff.Limits, got {type(limits).__name__}")
        self.ifd = ifd
        self.ifd_layout: IfdLayout = ifd_layout
        self.overview_level = overview_level
        self.sidecar_overviews = sidecar_overviews
        self.limits = limits or Limits()

    def __repr__(self) -> str:
        extra = f", overview_level={self.overview_level!r}" if self.overview_level is not None else ""
        if not self.sidecar_overviews:
            extra += ", sidecar_overviews=False"
        return f"VirtualTIFF(ifd={self.ifd!r}, ifd_layout={self.ifd_layout!r}{extra})"

    def __call__(self, url: str, registry: ObjectStoreRegistry) -> ManifestStore:
        header, sidecar = run_sync(self.read_headers(url, registry))
        memory = InMemoryObjects.new()
        group = self.build_group(header, memory, sidecar=sidecar)
        memory.register(registry)
        return GeoManifestStore(group, registry=registry)

    @property
    def uses_levels(self) -> bool:
        """True when the output is made of pyramid levels (multiscale layout or ``overview_level``)."""
        return self.ifd_layout == "multiscale" or self.overview_level is not None

    async def read_headers(self, url: str, registry: ObjectStoreRegistry) -> tuple[TiffHeader, TiffHeader | None]:
        """The file's header and, when this parser uses levels and the file has no internal overview, the
        header of its ``.ovr`` sidecar (None when absent or not wanted)."""
        from .multiscale import has_internal_overviews, read_sidecar

        header = await read_header(url, registry, self.limits)
        sidecar = None
        if self.uses_levels and self.sidecar_overviews and not has_internal_overviews(header):
            sidecar = await read_sidecar(url, registry, self.limits)
        return header, sidecar

    def selected_ifds(self, header: TiffHeader) -> tuple[IfdInfo, ...]:
        if self.ifd is None:
            return header.ifds + header.sub_ifds
        if self.ifd >= len(header.ifds):
            raise TiffFormatError(
                f"ifd={self.ifd} requested but {header.url} has {len(header.ifds)} IFD(s) "
                f"(valid: 0..{len(header.ifds) - 1})"
            )
        return (header.ifds[self.ifd],)

    def build_group(self, header: TiffHeader, memory: InMemoryObjects | None = None, *,
                    sidecar: TiffHeader | None = None) -> ManifestGroup:
        """The store's root group. ``memory`` collects the bytes of computed coordinates; without it (or
        when it is never registered) no ``x``/``y`` arrays are made. ``sidecar`` is the ``.ovr`` header
        (see ``read_headers``), used by the multiscale layout and ``overview_level`` only."""
        if self.uses_levels:
            return self._build_levels(header, memory, sidecar)
        arrays: dict[str, ManifestArray] = {}
        georefs: dict[str, IfdGeoref] = {}
        masks: dict[str, ManifestArray] = {}
        mask_ifds: dict[str, int] = {}
        plans: list[CodecPlan] = []
        selected = self.selected_ifds(header)
        for i, ifd in enumerate(selected):
            georef = ifd_georeference(ifd, header)
            described = i == 0 or self.ifd_layout == "nested"
            array, plan = build_ifd_array(ifd, header, self.limits, georef=georef, grid_mapping=described)
            arrays[ifd.name] = array
            georefs[ifd.name] = georef
            plans.append(plan)
            if described:  # the image a spatial_ref describes gets its GDAL mask next to it, as "mask"
                mask = self._mask_of(ifd, header)
                if mask is not None:
                    masks[ifd.name], mask_plan, mask_ifds[ifd.name] = mask
                    plans.append(mask_plan)
        attrs = store_attributes(plans)
        with_xy = memory is not None
        memory = memory or InMemoryObjects.new()
        if self.ifd_layout == "flat":
            first = selected[0].name
            # x/y describe every array only when the others are the first image's mask
            alone = len(selected) == 1 or (len(selected) == 2 and mask_ifds.get(first) == selected[1].index)
            extra = georef_arrays(georefs[first], arrays[first].shape, memory, with_xy=with_xy and alone)
            if extra:
                attrs["coordinates"] = "spatial_ref"
            if first in masks:
                extra[MASK] = masks[first]
            return ManifestGroup(arrays={**arrays, **extra}, attributes=attrs)
        groups = {}
        for name, arr in arrays.items():
            extra = georef_arrays(georefs[name], arr.shape, memory, name, with_xy=with_xy)
            group_attrs = {"coordinates": "spatial_ref"} if extra else {}
            if name in masks:
                extra[MASK] = masks[name]
            groups[name] = ManifestGroup(arrays={name: arr, **extra}, attributes=group_attrs)
        return ManifestGroup(groups=groups, attributes=attrs)

    def _mask_of(self, ifd: IfdInfo, header: TiffHeader) -> tuple[ManifestArray, CodecPlan, int] | None:
        """The GDAL internal mask of ``ifd`` (IFD 0 or one of its overviews) as an array, with its codec plan and
        the mask's IFD index, or None."""
        from .multiscale import level_of, mask_array

        if ifd.parent is not None:  # SubIFDs are not GDAL levels
            return None
        level = level_of(header, ifd)
        if level is None or level.mask is None:
            return None
        return (*mask_array(level, self.limits, image=ifd.name), level.mask.index)

    def _build_levels(self, header: TiffHeader, memory: InMemoryObjects | None,
                      sidecar: TiffHeader | None) -> ManifestGroup:
        from .multiscale import build_multiscale_group, build_overview_group, pyramid_levels, select_overview

        levels = pyramid_levels(header, sidecar)
        with_xy = memory is not None
        memory = memory or InMemoryObjects.new()
        if self.overview_level is None:
            return build_multiscale_group(levels, self.limits, memory, with_xy=with_xy,
                                          store_attributes=store_attributes)
        level = select_overview(levels, self.overview_level, header.url)
        return build_overview_group(level, self.overview_level, header.ifds[0], self.limits, memory,
                                    with_xy=with_xy, store_attributes=store_attributes)
