"""Overview pyramids, GDAL internal masks and ``.ovr`` sidecars as resolution levels.

GDAL's view of a GeoTIFF, which rasterio's ``overview_level=`` exposes, is reproduced step by step:

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

import dataclasses
from dataclasses import dataclass
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray, ManifestGroup

from .codecs.mapping import CodecPlan
from .errors import TiffFormatError, where
from .geo import SUBFILE_MASK, SUBFILE_REDUCED, IfdGeoref, georeference, rescaled
from .geo.attrs import PROJ_CONVENTION, SPATIAL_CONVENTION, crs_wkt, geozarr_attributes, parse_gdal_metadata
from .limits import Limits
from .manifest import manifest_array
from .masks import MASK
from .tiff.reader import IfdInfo, TiffHeader
from .tiff.tags import Photometric

#: Name of the image array inside every level (what ``VirtualTIFF(ifd=0)`` calls the full-resolution image).
IMAGE = "0"
#: Suffix GDAL gives external overview files.
SIDECAR_SUFFIX = ".ovr"

MULTISCALES_CONVENTION = {
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
    "uuid": "d35379db-88df-4056-af3a-620245f8e347",
    "name": "multiscales",
    "description": "Multiscale layout of zarr datasets",
}

#: Mask values (GDAL convention) written as CF flag attributes on every ``mask`` array.
MASK_ATTRIBUTES = {"flag_values": [0, 255], "flag_meanings": "nodata valid",
                   "long_name": "GDAL internal mask (0 = nodata, 255 = valid)"}


@dataclass(frozen=True, eq=False)
class Level:
    """One resolution level: the image IFD, its mask IFD (or None) and the file (header) holding both."""

    header: TiffHeader
    ifd: IfdInfo
    mask: IfdInfo | None
    georef: IfdGeoref

    @property
    def shape(self) -> tuple[int, int]:
        return (self.ifd.height, self.ifd.width)


# ---------------------------------------------------------------------------------------------- discovery


def is_mask(ifd: IfdInfo) -> bool:
    """A GDAL transparency mask: ``NewSubfileType`` bit 2 and ``Photometric=4``, one sample of 1 or 8 bits."""
    return (bool(ifd.subfile_type & SUBFILE_MASK) and ifd.photometric == Photometric.MASK
            and ifd.samples_per_pixel == 1 and ifd.bits_per_sample in (1, 8))


def is_overview_of(ifd: IfdInfo, main: IfdInfo) -> bool:
    """A reduced-resolution image of ``main``, as GDAL accepts one: same bands and sample type, not larger."""
    return (bool(ifd.subfile_type & SUBFILE_REDUCED) and not ifd.subfile_type & SUBFILE_MASK
            and _same_samples(ifd, main) and ifd.width <= main.width and ifd.height <= main.height)


def _same_samples(ifd: IfdInfo, main: IfdInfo) -> bool:
    return (ifd.samples_per_pixel == main.samples_per_pixel and ifd.bits_per_sample == main.bits_per_sample
            and ifd.sample_format == main.sample_format)


def has_internal_overviews(header: TiffHeader) -> bool:
    main = header.ifds[0]
    return any(is_overview_of(ifd, main) for ifd in header.ifds[1:])


def _mask_for(ifd: IfdInfo, masks: list[IfdInfo], reduced: bool) -> IfdInfo | None:
    for mask in masks:
        if bool(mask.subfile_type & SUBFILE_REDUCED) == reduced and (mask.width, mask.height) == (ifd.width,
                                                                                                  ifd.height):
            masks.remove(mask)
            return mask
    return None


def pyramid_levels(header: TiffHeader, sidecar: TiffHeader | None = None) -> list[Level]:
    """The levels of ``header``'s file (plus ``sidecar``'s when it has no internal overview), finest first."""
    main = header.ifds[0]
    main_georef = georeference(main, where(header.url, main.index))
    masks = [ifd for ifd in header.ifds[1:] if is_mask(ifd)]
    levels = [Level(header, main, _mask_for(main, masks, reduced=False), main_georef)]
    for ifd in header.ifds[1:]:
        if is_overview_of(ifd, main):
            # rasterio's overview_level= rescales IFD 0's georeferencing (GDALCreateOverviewDataset)
            georef = rescaled(main_georef, main, ifd)
            levels.append(Level(header, ifd, _mask_for(ifd, masks, reduced=True), georef))
    if sidecar is not None and len(levels) == 1:
        ovr_masks = [ifd for ifd in sidecar.ifds if is_mask(ifd)]
        for ifd in sidecar.ifds:
            if not is_mask(ifd) and _same_samples(ifd, main) and ifd.width <= main.width and \
                    ifd.height <= main.height:
                # GDAL georeferences external overviews from the base dataset, whatever the .ovr says
                georef = rescaled(main_georef, main, ifd)
                levels.append(Level(sidecar, ifd, _mask_for(ifd, ovr_masks, reduced=True)
                                    or _mask_for(ifd, ovr_masks, reduced=False), georef))
    return levels


def level_of(header: TiffHeader, ifd: IfdInfo) -> Level | None:
    """The level ``ifd`` is in its own file (IFD 0 or one of its overviews, with the mask GDAL pairs with it),
    or None for other pages and for mask IFDs."""
    for level in pyramid_levels(header):
        if level.ifd is ifd:
            return level
    return None


def select_overview(levels: list[Level], overview_level: int, url: str) -> Level:
    """Level ``overview_level + 1`` (rasterio numbering: 0 is the first overview), or a clear error."""
    overviews = len(levels) - 1
    if overview_level >= overviews:
        have = f"overview_level 0..{overviews - 1}" if overviews else "none"
        raise TiffFormatError(
            f"overview_level={overview_level} requested but {url} has {overviews} overview(s) ({have}; "
            f"external {SIDECAR_SUFFIX} sidecars count when the file has no internal overview)"
        )
    return levels[overview_level + 1]


# ---------------------------------------------------------------------------------------------- sidecars


def sidecar_url(url: str, registry: ObjectStoreRegistry | None = None) -> str | None:
    """``url + ".ovr"`` checked by ``urls.resolve_relative`` to sit in ``url``'s own directory (and, with a
    registry, under a registered prefix), or None when no sidecar can be named safely (query string,
    fragment, unusual characters)."""
    from .errors import UnsafeUrlError
    from .urls import resolve_relative

    if "?" in url or "#" in url or url.endswith("/"):
        return None
    name = url.rsplit("/", 1)[-1] + SIDECAR_SUFFIX
    try:
        return resolve_relative(url, name, registry, what="overview sidecar")
    except UnsafeUrlError:
        return None


async def read_sidecar(url: str, registry: ObjectStoreRegistry, limits: Limits) -> TiffHeader | None:
    """The header of ``url``'s ``.ovr`` sidecar, or None when there is none (one failed GET)."""
    from .parser import read_header, resolve

    ovr = sidecar_url(url, registry)
    if ovr is None:
        return None
    store, _ = resolve(url, registry)
    if registry.resolve(ovr)[0] is not store:  # another registered prefix would answer: not the source's own
        return None
    try:
        return await read_header(ovr, registry, limits)
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------------------------------- arrays


def with_dataset_metadata(ifd: IfdInfo, main: IfdInfo) -> IfdInfo:
    """``ifd`` carrying ``main``'s nodata and GDAL metadata: GDAL gives overviews the dataset's."""
    if ifd is main:
        return ifd
    geo = dataclasses.replace(ifd.geo, gdal_nodata=main.geo.gdal_nodata, gdal_metadata=main.geo.gdal_metadata)
    return dataclasses.replace(ifd, geo=geo)




def mask_array(level: Level, limits: Limits, image: str = IMAGE) -> tuple[ManifestArray, CodecPlan]:
    """The ``mask`` array of ``level``: GDAL's 0/255 values, georeferenced like the image (named by
    ``mask_of``)."""
    from .parser import ifd_attributes, plan_ifd

    mask = level.mask
    assert mask is not None
    layout, plan = plan_ifd(mask, level.header, limits)
    if mask.bits_per_sample == 1:
        plan = dataclasses.replace(plan, codecs=({"name": "virtual_geotiff.mask_8bit"}, *plan.codecs))
    bare = dataclasses.replace(mask, geo=dataclasses.replace(mask.geo, gdal_nodata=None, gdal_metadata=None))
    _, attrs = ifd_attributes(bare, plan.dtype, layout.shape, level.georef, where(level.header.url, mask.index),
                              grid_mapping=True)
    attrs.pop("georef_note", None)
    attrs.update(MASK_ATTRIBUTES)
    attrs["mask_of"] = image
    return manifest_array(level.header.url, layout, plan, fill_value=0, attributes=attrs), plan


def level_group(level: Level, main: IfdInfo, limits: Limits, memory: Any, name: str, *, with_xy: bool,
                overview_level: int | None) -> tuple[dict[str, ManifestArray], dict[str, Any], list[CodecPlan]]:
    """Arrays, attributes and codec plans of one level (a child group, or the root with ``overview_level=``)."""
    from .parser import build_ifd_array, georef_arrays

    image, plan = build_ifd_array(with_dataset_metadata(level.ifd, main), level.header, limits,
                                  georef=level.georef, grid_mapping=True)
    arrays = {IMAGE: image}
    plans = [plan]
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


def build_multiscale_group(levels: list[Level], limits: Limits, memory: Any, *, with_xy: bool,
                           store_attributes: Any) -> ManifestGroup:
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


def build_overview_group(level: Level, overview_level: int, main: IfdInfo, limits: Limits, memory: Any, *,
                         with_xy: bool, store_attributes: Any) -> ManifestGroup:
    """The root group of ``VirtualTIFF(overview_level=k)``: that level's arrays, as ``ifd=0`` lays out IFD 0."""
    arrays, attrs, plans = level_group(level, main, limits, memory, "", with_xy=with_xy,
                                       overview_level=overview_level)
    return ManifestGroup(arrays=arrays, attributes={**store_attributes(plans), **attrs})
