"""GeoTIFF semantics: CRS, geotransform, coordinates, nodata and attributes, as GDAL/rasterio read them.

One module per job, all pure functions over ``IfdInfo``/``GeoTags`` (no I/O):

- ``crs``: the CRS of the GeoKeys (``pyproj.CRS``), or a typed error naming the key it cannot interpret;
- ``transform``: GDAL's GeoTransform, PixelIsPoint shift, GCP detection, ``georef_status``;
- ``coords``: 1-D pixel-centre ``x``/``y`` exactly as rioxarray computes them;
- ``attrs``: nodata, GDAL metadata, the CF ``spatial_ref`` grid mapping and the GeoZarr conventions.

``georeference`` below is the one canonical helper that combines them for an IFD; every entry point
(the parser, multi-file builders, the CLI) calls it rather than re-deriving any step.
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedTiffError
from ..tiff.tags import SubfileType
from .crs import crs_code, crs_from_geotags, vertical_crs_from_geokeys
from .transform import GeorefStatus, GeoTransform, gcp_note, georef_status, georeferencing, geotransform

__all__ = ["GeoreferencingWarning", "IfdGeoref", "georeference"]


class GeoreferencingWarning(UserWarning):
    """GeoKeys that cannot be read exactly: the pixels are still exposed, without the CRS (or with the local CRS
    GDAL reports), and ``georef_status``/``georef_note`` say what was lost. The message names the key."""


@dataclass(frozen=True, eq=False)
class IfdGeoref:
    """The georeferencing of one IFD."""

    crs: Any  # pyproj.CRS | None (GDAL's default report: horizontal, or compound for GeoTIFF 1.1)
    crs_code: str | None  # "EPSG:32633" when the CRS carries its own authority code
    vertical_crs: Any  # pyproj.CRS | None: VerticalCSTypeGeoKey of a GeoTIFF 1.0 file (not in ``crs``)
    transform: GeoTransform | None  # GDAL order, pixel corners
    point_transform: GeoTransform | None  # PixelIsPoint only: the untransformed (cell-centre) transform
    pixel_is_point: bool
    gcp_count: int
    status: GeorefStatus
    note: str | None

    @property
    def has_spatial_ref(self) -> bool:
        return self.status != "none"

    @property
    def has_xy(self) -> bool:
        return self.status in ("full", "transform-only")


def georeference(ifd: Any, where: str = "") -> IfdGeoref:
    """Georeferencing of ``ifd`` (an ``IfdInfo``).

    A georeferencing problem never blocks the pixels: GeoKeys that cannot be interpreted give no CRS (status
    ``transform-only`` or ``none``), keys GDAL reads only lossily (a projection PROJ cannot express, a
    user-defined model without an ESRI PE string) give the local CRS GDAL reports; both set ``note`` and
    emit a ``GeoreferencingWarning`` naming the key.
    """
    geo = ifd.geo
    ref = georeferencing(geo)
    note = None
    if ref.gcp_count:
        # GDAL gives the CRS to the GCPs, not to the pixel grid: without a grid there is nothing to refer to
        return IfdGeoref(crs=None, crs_code=None, vertical_crs=None, transform=None, point_transform=None,
                         pixel_is_point=ref.pixel_is_point, gcp_count=ref.gcp_count, status="none",
                         note=gcp_note(ref.gcp_count))
    crs, code, vertical = None, None, None
    if geo.geo_keys:
        try:
            crs, code, vertical, note = _crs_of(geo, where)
        except UnsupportedTiffError as exc:
            note = f"no CRS: {exc}"
    if note:
        warnings.warn(f"{where}: {note}" if where and where not in note else note, GeoreferencingWarning,
                      stacklevel=2)
    point_transform = (geotransform(geo, point_geo_ignore=True)
                       if ref.pixel_is_point and ref.transform is not None else None)
    status = georef_status(ref.transform, crs is not None)
    return IfdGeoref(crs=crs, crs_code=code, vertical_crs=vertical,
                     transform=ref.transform, point_transform=point_transform,
                     pixel_is_point=ref.pixel_is_point, gcp_count=0, status=status, note=note)


#: Per-thread cache of CRS interpretations (pyproj objects are not shared across threads): an archive's
#: files repeat a handful of GeoKey sets, and building a ``pyproj.CRS`` (a PROJ database lookup) costs more than
#: everything else this package does per IFD.
_CRS_CACHE = threading.local()
_CRS_CACHE_SIZE = 256


def _crs_of(geo: Any, where: str) -> tuple[Any, str | None, Any, str | None]:
    """``(crs, crs_code, vertical_crs, note)`` of ``geo``'s GeoKeys, computed once per distinct key set and
    thread (``note`` says what was read lossily; uninterpretable keys raise ``UnsupportedTiffError``)."""
    key = (geo.key_directory, geo.double_params, repr(sorted(geo.geo_keys.items())))
    cache = getattr(_CRS_CACHE, "entries", None)
    if cache is None:
        cache = _CRS_CACHE.entries = {}
    hit = cache.get(key)
    if hit is None:
        notes: list[str] = []
        crs = crs_from_geotags(geo, where=where, notes=notes)  # errors are not cached: they name the file
        vertical = None
        if crs is not None and not (crs.is_compound or len(crs.axis_info) == 3):
            vertical = vertical_crs_from_geokeys(geo.geo_keys, where=where)
        if len(cache) >= _CRS_CACHE_SIZE:
            cache.clear()
        hit = cache[key] = (crs, crs_code(crs) if crs is not None else None, vertical, "; ".join(notes) or None)
    return hit


def inherits_georeferencing(ifd: Any, main: Any) -> bool:
    """True for an overview or mask IFD without GeoTIFF tags of its own, next to a georeferenced main IFD:
    GDAL georeferences those from the main image (overviews rescaled to their size)."""
    return (ifd.index != main.index and not ifd.geo.is_georeferenced and main.geo.is_georeferenced
            and bool(ifd.subfile_type & (SubfileType.REDUCED_IMAGE | SubfileType.MASK)))


def rescaled(main: IfdGeoref, main_ifd: Any, ifd: Any) -> IfdGeoref:
    """The georeferencing of an overview/mask ``ifd`` of ``main_ifd``, as GDAL gives it to overviews
    (``GDALRescaleGeoTransform`` by the size ratios; same CRS)."""
    transform = None
    if main.transform is not None:
        transform = GeoTransform(*main.transform).rescaled(main_ifd.width / ifd.width, main_ifd.height / ifd.height)
    status = georef_status(transform, main.crs is not None)
    note = (f"georeferenced from IFD {main_ifd.index} (this IFD is an overview or mask without GeoTIFF tags of "
            "its own), as GDAL does")
    return IfdGeoref(crs=main.crs, crs_code=main.crs_code, vertical_crs=main.vertical_crs, transform=transform,
                     point_transform=None, pixel_is_point=main.pixel_is_point, gcp_count=0, status=status,
                     note=note if main.status != "none" else main.note)
