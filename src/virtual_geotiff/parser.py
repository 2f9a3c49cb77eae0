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
levels with their internal masks and ``.ovr`` sidecar overviews
(``arrays.levels`` finds them, ``virtual_geotiff.multiscale`` lays them out).
"""

from __future__ import annotations

from typing import Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore

from ._sync import run_sync
from .arrays.attributes import store_attributes
from .arrays.coords import InMemoryObjects, georef_arrays
from .arrays.levels import MASK, level_of, mask_array, pyramid_levels, read_header_with_sidecar, select_overview
from .arrays.planned import plan_georeferenced_ifd
from .codecs.mapping import CodecPlan
from .errors import InvalidArgumentError, TiffFormatError
from .geo import IfdGeoref
from .limits import Limits
from .multiscale import build_multiscale_group, build_overview_group
from .store import GeoManifestStore
from .tiff.reader import IfdInfo, TiffHeader

IfdLayout = Literal["flat", "nested", "multiscale"]
_IFD_LAYOUTS = ("flat", "nested", "multiscale")


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
        header, sidecar = run_sync(read_header_with_sidecar(url, registry, self.limits,
                                                            sidecar=self.uses_levels and self.sidecar_overviews))
        memory = InMemoryObjects.new()
        group = self.build_group(header, memory, sidecar=sidecar)
        memory.register(registry)
        return GeoManifestStore(group, registry=registry)

    @property
    def uses_levels(self) -> bool:
        """True when the output is made of pyramid levels (multiscale layout or ``overview_level``)."""
        return self.ifd_layout == "multiscale" or self.overview_level is not None

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
        (``arrays.levels.read_header_with_sidecar``), used by the multiscale layout and ``overview_level`` only."""
        if self.uses_levels:
            return self._build_levels(header, memory, sidecar)
        arrays: dict[str, ManifestArray] = {}
        georefs: dict[str, IfdGeoref] = {}
        masks: dict[str, ManifestArray] = {}
        mask_ifds: dict[str, int] = {}
        plans: list[CodecPlan] = []
        selected = self.selected_ifds(header)
        for i, ifd in enumerate(selected):
            planned = plan_georeferenced_ifd(ifd, header, self.limits)
            described = i == 0 or self.ifd_layout == "nested"
            arrays[ifd.name] = planned.array(grid_mapping=described)
            georefs[ifd.name] = planned.georef
            plans.append(planned.plan)
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
        if ifd.parent is not None:  # SubIFDs are not GDAL levels
            return None
        level = level_of(header, ifd)
        if level is None or level.mask is None:
            return None
        return (*mask_array(level, self.limits, image=ifd.name), level.mask.index)

    def _build_levels(self, header: TiffHeader, memory: InMemoryObjects | None,
                      sidecar: TiffHeader | None) -> ManifestGroup:
        levels = pyramid_levels(header, sidecar)
        with_xy = memory is not None
        memory = memory or InMemoryObjects.new()
        if self.overview_level is None:
            return build_multiscale_group(levels, self.limits, memory, with_xy=with_xy)
        level = select_overview(levels, self.overview_level, header.url)
        return build_overview_group(level, self.overview_level, header.ifds[0], self.limits, memory,
                                    with_xy=with_xy)

