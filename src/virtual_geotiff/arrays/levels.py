"""GDAL's resolution levels of a GeoTIFF: the full-resolution image, its overviews (internal, or from a
``.ovr`` sidecar) and the internal mask GDAL pairs with each, discovered from IFDs alone.

Why below group assembly: the parser's flat layout (a mask next to IFD 0), the multiscale layout, the
``overview_level=`` view and the cube builder's ``overview_level`` all pick levels the same way, GDAL's way
(see ``virtual_geotiff.multiscale`` for the rules), and must not import each other to do it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray

from ..codecs.mapping import CodecPlan
from ..errors import TiffFormatError, UnsafeUrlError, where
from ..geo import IfdGeoref, georeference, rescaled
from ..limits import Limits
from ..manifest import manifest_array
from ..tiff.headers import read_header, resolve
from ..tiff.reader import IfdInfo, TiffHeader
from ..tiff.tags import Photometric, SubfileType
from ..urls import resolve_relative
from .attributes import ifd_attributes
from .planned import plan_ifd

#: Name of the GDAL internal mask array next to its image (the same in every layout).
MASK = "mask"
#: Name of the image array inside every level (what ``VirtualTIFF(ifd=0)`` calls the full-resolution image).
IMAGE = "0"
#: Suffix GDAL gives external overview files.
SIDECAR_SUFFIX = ".ovr"

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
    return (bool(ifd.subfile_type & SubfileType.MASK) and ifd.photometric == Photometric.MASK
            and ifd.samples_per_pixel == 1 and ifd.bits_per_sample in (1, 8))


def is_overview_of(ifd: IfdInfo, main: IfdInfo) -> bool:
    """A reduced-resolution image of ``main``, as GDAL accepts one: same bands and sample type, not larger."""
    return (bool(ifd.subfile_type & SubfileType.REDUCED_IMAGE) and not ifd.subfile_type & SubfileType.MASK
            and _same_samples(ifd, main) and ifd.width <= main.width and ifd.height <= main.height)


def _same_samples(ifd: IfdInfo, main: IfdInfo) -> bool:
    return (ifd.samples_per_pixel == main.samples_per_pixel and ifd.bits_per_sample == main.bits_per_sample
            and ifd.sample_format == main.sample_format)


def has_internal_overviews(header: TiffHeader) -> bool:
    main = header.ifds[0]
    return any(is_overview_of(ifd, main) for ifd in header.ifds[1:])


def _mask_for(ifd: IfdInfo, masks: list[IfdInfo], reduced: bool) -> IfdInfo | None:
    for mask in masks:
        if bool(mask.subfile_type & SubfileType.REDUCED_IMAGE) == reduced and (mask.width, mask.height) == (ifd.width,
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
    if "?" in url or "#" in url or url.endswith("/"):
        return None
    name = url.rsplit("/", 1)[-1] + SIDECAR_SUFFIX
    try:
        return resolve_relative(url, name, registry, what="overview sidecar")
    except UnsafeUrlError:
        return None


async def read_sidecar(url: str, registry: ObjectStoreRegistry, limits: Limits) -> TiffHeader | None:
    """The header of ``url``'s ``.ovr`` sidecar, or None when there is none (one failed GET)."""
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


# ---------------------------------------------------------------------------------------------- arrays of a level


def with_dataset_metadata(ifd: IfdInfo, main: IfdInfo) -> IfdInfo:
    """``ifd`` carrying ``main``'s nodata and GDAL metadata: GDAL gives overviews the dataset's."""
    if ifd is main:
        return ifd
    geo = dataclasses.replace(ifd.geo, gdal_nodata=main.geo.gdal_nodata, gdal_metadata=main.geo.gdal_metadata)
    return dataclasses.replace(ifd, geo=geo)




def mask_array(level: Level, limits: Limits, image: str = IMAGE) -> tuple[ManifestArray, CodecPlan]:
    """The ``mask`` array of ``level``: GDAL's 0/255 values, georeferenced like the image (named by
    ``mask_of``)."""
    mask = level.mask
    assert mask is not None
    planned = plan_ifd(mask, level.header, limits)
    layout, plan = planned.layout, planned.plan
    if mask.bits_per_sample == 1:
        plan = dataclasses.replace(plan, codecs=({"name": "virtual_geotiff.mask_8bit"}, *plan.codecs))
    bare = dataclasses.replace(mask, geo=dataclasses.replace(mask.geo, gdal_nodata=None, gdal_metadata=None))
    _, attrs = ifd_attributes(bare, plan.dtype, layout.shape, level.georef, where(level.header.url, mask.index),
                              grid_mapping=True)
    attrs.pop("georef_note", None)
    attrs.update(MASK_ATTRIBUTES)
    attrs["mask_of"] = image
    return manifest_array(level.header.url, layout, plan, fill_value=0, attributes=attrs), plan


async def read_header_with_sidecar(url: str, registry: ObjectStoreRegistry, limits: Limits, *,
                                   sidecar: bool) -> tuple[TiffHeader, TiffHeader | None]:
    """The file's header and, when ``sidecar`` is wanted and the file has no internal overview, the header of
    its ``.ovr`` sidecar (None when absent): GDAL ignores ``.ovr`` files next to internal overviews, so COGs
    never pay for the lookup."""
    header = await read_header(url, registry, limits)
    ovr = None
    if sidecar and not has_internal_overviews(header):
        ovr = await read_sidecar(url, registry, limits)
    return header, ovr
