"""Overview pyramids, GDAL internal masks and ``.ovr`` sidecars as resolution levels: the group layout.

``arrays.levels`` finds the levels (the first four rules below); this module lays them out as groups with
their attributes. GDAL's view of a GeoTIFF, which rasterio's ``overview_level=`` exposes, is reproduced
step by step:

- **Levels.** Level 0 is IFD 0 (full resolution). Its overviews are the reduced-resolution IFDs
  (``NewSubfileType`` bit 0, not a mask) with the same bands and sample type, in file order: level
  ``k + 1`` is rasterio's ``overview_level=k``. Other IFDs (pages of a multi-page file) are not levels.
- **External overviews.** As GDAL does, a ``<file>.ovr`` sidecar is consulted only when the file has no
  internal overview (GDAL refuses to add external overviews next to internal ones and ignores them);
  its image IFDs become the further levels. The sidecar URL is the source URL plus ``.ovr``, checked by
  ``urls.resolve_relative`` (same directory, a registered prefix) and resolved through the same registry
  to the same store; URLs with a query string or fragment get no lookup. A missing sidecar costs one
  failed GET.
- **Masks.** A mask IFD (``NewSubfileType`` bit 2, ``Photometric=4``) belongs to the level of the same
  size: the full-resolution mask (``NewSubfileType=4``) to level 0, each overview mask (``=5``) to the
  overview it matches, as GDAL pairs them. It becomes an array ``mask`` next to the image, on the same
  dimensions, chunked as the mask IFD is tiled (GDAL tiles masks like their image). Values follow GDAL:
  a 1-bit mask reads 0 (nodata) / 255 (valid), exactly ``rasterio``'s ``read_masks()``; an 8-bit mask
  reads as stored. A level without a mask IFD (e.g. from a ``.ovr`` GDAL wrote without mask overviews,
  where GDAL reports every pixel valid) has no ``mask`` array.
- **Georeferencing.** Every level gets IFD 0's CRS with its transform rescaled to the level's size
  (``GDALRescaleGeoTransform``) and its own ``spatial_ref``/``x``/``y``.
- **Nodata and metadata.** Every level takes IFD 0's nodata (as GDAL's overview datasets do) and IFD 0's
  GDAL metadata, scale/offset included. That last part is a deliberate difference: GDAL's overview
  datasets report scale 1 / offset 0, so ``rioxarray.open_rasterio(..., overview_level=k)`` returns raw
  values, while an overview holds the same quantity as the full image; here every level decodes to the
  same unit. An overview's own ``RESAMPLING`` item becomes its ``resampling_method`` in the layout.

Each level is a group holding the image under the name ``"0"`` (the name ``VirtualTIFF(ifd=0)`` gives the
full-resolution image, so code written for one level works at every level), ``mask`` when there is one,
and ``spatial_ref``/``x``/``y``. The multiscale root group carries the ``multiscales`` attribute of the
zarr-conventions multiscales convention v1 (https://github.com/zarr-conventions/multiscales/blob/v1/README.md),
registered in ``zarr_conventions`` next to ``proj:`` (geo-proj v1) and ``spatial:`` (spatial v1):
one layout entry per level, ``{"asset": "1", "derived_from": "0", "transform": {"scale": [sy, sx],
"translation": [0.0, 0.0]}, "spatial:shape": [h, w], "spatial:transform": [...]}``, where the scale is
the ratio of level 0's size to the level's (the overview factor; GDAL overviews share the top-left corner,
hence no translation).
"""

from __future__ import annotations

from typing import Any

from virtualizarr.manifests import ManifestArray, ManifestGroup

from .arrays.attributes import store_attributes
from .arrays.coords import InMemoryObjects, georef_arrays
from .arrays.levels import IMAGE, MASK, Level, mask_array, with_dataset_metadata
from .arrays.planned import plan_georeferenced_ifd
from .codecs.mapping import CodecPlan
from .errors import where
from .geo.attrs import PROJ_CONVENTION, SPATIAL_CONVENTION, crs_wkt, geozarr_attributes, parse_gdal_metadata
from .limits import Limits
from .tiff.reader import IfdInfo

MULTISCALES_CONVENTION = {
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
    "uuid": "d35379db-88df-4056-af3a-620245f8e347",
    "name": "multiscales",
    "description": "Multiscale layout of zarr datasets",
}


def level_group(level: Level, main: IfdInfo, limits: Limits, memory: InMemoryObjects, name: str, *, with_xy: bool,
                overview_level: int | None) -> tuple[dict[str, ManifestArray], dict[str, Any], list[CodecPlan]]:
    """Arrays, attributes and codec plans of one level (a child group, or the root with ``overview_level=``)."""
    planned = plan_georeferenced_ifd(with_dataset_metadata(level.ifd, main), level.header, limits,
                                     georef=level.georef)
    image = planned.array(grid_mapping=True)
    arrays = {IMAGE: image}
    plans = [planned.plan]
    if level.mask is not None:
        arrays[MASK], mask_plan = mask_array(level, limits)
        plans.append(mask_plan)
    extra = georef_arrays(level.georef, image.shape, memory, name, with_xy=with_xy)
    arrays.update(extra)
    attrs: dict[str, Any] = {"coordinates": "spatial_ref"} if extra else {}
    attrs["virtual_geotiff_level"] = {
        "source": level.header.url,
        "ifd": level.ifd.index,
        "mask_ifd": None if level.mask is None else level.mask.index,
        "overview_level": overview_level,
    }
    return arrays, attrs, plans


def _resampling(level: Level) -> str | None:
    """The ``RESAMPLING`` item GDAL writes into an overview's own GDAL_METADATA (e.g. ``"nearest"``)."""
    if level.ifd.index == 0 and level.header is not None and level.ifd is level.header.ifds[0]:
        return None
    meta = parse_gdal_metadata(level.ifd.geo.gdal_metadata, where=where(level.header.url, level.ifd.index))
    value = meta.bands.get(0, {}).get("RESAMPLING") or meta.dataset.get("RESAMPLING")
    return value.strip().lower() if value and value.strip() else None


def multiscales_attributes(levels: list[Level]) -> dict[str, Any]:
    """Root-group attributes: ``multiscales`` (convention v1) plus the CRS (``proj:``) shared by all levels."""
    base = levels[0]
    layout = []
    for i, level in enumerate(levels):
        entry: dict[str, Any] = {"asset": str(i)}
        if i:
            entry["derived_from"] = "0"
        entry["transform"] = {"scale": [base.ifd.height / level.ifd.height, base.ifd.width / level.ifd.width],
                              "translation": [0.0, 0.0]}
        resampling = _resampling(level)
        if resampling:
            entry["resampling_method"] = resampling
        georef = level.georef
        if georef.transform is not None:
            spatial = geozarr_attributes(None, None, georef.transform, georef.point_transform, level.shape)
            entry["spatial:shape"] = spatial["spatial:shape"]
            entry["spatial:transform"] = spatial["spatial:transform"]
        layout.append(entry)
    conventions = [dict(MULTISCALES_CONVENTION)]
    attrs: dict[str, Any] = {"multiscales": {"layout": layout}}
    georef = base.georef
    if georef.crs is not None:
        conventions.append(dict(PROJ_CONVENTION))
        if georef.crs_code:
            attrs["proj:code"] = georef.crs_code
        else:
            attrs["proj:wkt2"] = crs_wkt(georef.crs)
    if georef.transform is not None:
        conventions.append(dict(SPATIAL_CONVENTION))
        attrs["spatial:dimensions"] = ["y", "x"]
    return {"zarr_conventions": conventions, **attrs}


def build_multiscale_group(levels: list[Level], limits: Limits, memory: InMemoryObjects, *,
                           with_xy: bool) -> ManifestGroup:
    """The multiscale root: one child group per level (``"0"`` = full resolution) and ``multiscales``."""
    main = levels[0].ifd
    groups = {}
    plans: list[CodecPlan] = []
    for i, level in enumerate(levels):
        arrays, attrs, level_plans = level_group(level, main, limits, memory, str(i), with_xy=with_xy,
                                                 overview_level=i - 1 if i else None)
        groups[str(i)] = ManifestGroup(arrays=arrays, attributes=attrs)
        plans.extend(level_plans)
    return ManifestGroup(groups=groups, attributes={**store_attributes(plans), **multiscales_attributes(levels)})


def build_overview_group(level: Level, overview_level: int, main: IfdInfo, limits: Limits,
                         memory: InMemoryObjects, *, with_xy: bool) -> ManifestGroup:
    """The root group of ``VirtualTIFF(overview_level=k)``: that level's arrays, as ``ifd=0`` lays out IFD 0."""
    arrays, attrs, plans = level_group(level, main, limits, memory, "", with_xy=with_xy,
                                       overview_level=overview_level)
    return ManifestGroup(arrays=arrays, attributes={**store_attributes(plans), **attrs})

