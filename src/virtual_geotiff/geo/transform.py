"""The affine geotransform of an IFD and its georeferencing status, as GDAL reads them.

Pure functions over ``GeoTags``. Transforms are the six GDAL GeoTransform numbers
``(c, a, b, f, d, e)``: ``x = c + a*col + b*row``, ``y = f + d*col + e*row`` at pixel *corners*.

GDAL's order of precedence (``GTiffDataset::LoadGeoreferencing``), reproduced here:

1. ``ModelPixelScale`` (both X and Y non-zero) with at least one ``ModelTiepoint``: the first tie point
   gives the origin; further tie points are ignored. A negative Y scale is read as north-up
   (``-abs(ScaleY)``: GDAL's default, ``GTIFF_HONOUR_NEGATIVE_SCALEY=NO``). A scale without a tie point
   puts the origin at (0, 0).
2. otherwise a 16-value ``ModelTransformation`` (rotation and shear allowed).
3. otherwise tie points alone are ground control points (GCPs).

PixelIsPoint (``GTRasterTypeGeoKey`` = 2): GDAL and rasterio shift the transform by half a pixel so that
it refers to pixel corners (``GTIFF_POINT_GEO_IGNORE=FALSE``, the default); so does ``geotransform``.

GCPs are not interpolated into a grid: an IFD with GCPs only gets status ``"none"`` and a note saying so
(``gcp_note``), never a made-up transform; warp such files with ``gdalwarp`` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..tiff.tags import RasterType

GeorefStatus = Literal["full", "transform-only", "crs-only", "none", "rotated"]
GeoTransform = tuple[float, float, float, float, float, float]


@dataclass(frozen=True)
class Georeferencing:
    """What one IFD's tags say about where its pixels are."""

    transform: GeoTransform | None  # GDAL order, pixel corners (PixelIsPoint already shifted)
    pixel_is_point: bool
    gcp_count: int  # tie points used as GCPs (0 when a transform exists)

    @property
    def is_rotated(self) -> bool:
        return self.transform is not None and (self.transform[2] != 0.0 or self.transform[4] != 0.0)


def pixel_is_point(geo: Any) -> bool:
    """``GTRasterTypeGeoKey == RasterPixelIsPoint``; any other value (or none) means PixelIsArea."""
    value = geo.geo_keys.get("raster_type")
    try:
        return int(value) == RasterType.PIXEL_IS_POINT
    except (TypeError, ValueError):
        return False


def geotransform(geo: Any, *, point_geo_ignore: bool = False) -> GeoTransform | None:
    """GDAL's GeoTransform of ``geo`` (a ``GeoTags``), or None when the tags define none.

    ``point_geo_ignore=True`` reproduces ``GTIFF_POINT_GEO_IGNORE=TRUE`` (no half-pixel shift).
    """
    scale, ties, matrix = geo.model_pixel_scale, geo.model_tiepoint, geo.model_transformation
    gt: list[float] | None = None
    if scale is not None and len(scale) >= 2 and scale[0] != 0.0 and scale[1] != 0.0:
        gt = [0.0, float(scale[0]), 0.0, 0.0, 0.0, -abs(float(scale[1]))]
        if ties is not None and len(ties) >= 6:
            gt[0] = ties[3] - ties[0] * gt[1]
            gt[3] = ties[4] - ties[1] * gt[5]
    elif matrix is not None and len(matrix) == 16:
        m = [float(v) for v in matrix]
        gt = [m[3], m[0], m[1], m[7], m[4], m[5]]
    if gt is None:
        return None
    if pixel_is_point(geo) and not point_geo_ignore:
        gt[0] -= gt[1] * 0.5 + gt[2] * 0.5
        gt[3] -= gt[4] * 0.5 + gt[5] * 0.5
    return (gt[0], gt[1], gt[2], gt[3], gt[4], gt[5])


def gcp_count(geo: Any) -> int:
    """Number of tie points GDAL reads as GCPs (tie points without a usable scale or matrix)."""
    ties = geo.model_tiepoint
    if not ties or len(ties) < 6 or geotransform(geo) is not None:
        return 0
    return len(ties) // 6


def georeferencing(geo: Any) -> Georeferencing:
    return Georeferencing(transform=geotransform(geo), pixel_is_point=pixel_is_point(geo),
                          gcp_count=gcp_count(geo))


def georef_status(transform: GeoTransform | None, has_crs: bool) -> GeorefStatus:
    """``full`` (north-up transform + CRS), ``rotated`` (transform with rotation/shear terms, any CRS),
    ``transform-only``, ``crs-only`` or ``none``."""
    if transform is not None:
        if transform[2] != 0.0 or transform[4] != 0.0:
            return "rotated"
        return "full" if has_crs else "transform-only"
    return "crs-only" if has_crs else "none"


def gcp_note(count: int) -> str:
    return (f"the file georeferences this image with {count} ground control point(s) (ModelTiepoint without "
            "ModelPixelScale); virtual-geotiff does not interpolate GCPs, so no transform, CRS or x/y "
            "coordinates are given. Warp the file onto a grid first (gdalwarp) to use it georeferenced")


def to_affine(gt: GeoTransform) -> tuple[float, float, float, float, float, float]:
    """GDAL ``(c, a, b, f, d, e)`` -> affine/rasterio order ``(a, b, c, d, e, f)``."""
    c, a, b, f, d, e = gt
    return (a, b, c, d, e, f)


def gdal_string(gt: GeoTransform) -> str:
    """The ``GeoTransform`` attribute exactly as rioxarray writes it (``str`` of each float)."""
    return " ".join(str(float(v)) for v in gt)


def bounds(gt: GeoTransform, width: int, height: int) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of the four image corners."""
    c, a, b, f, d, e = gt
    xs = [c, c + a * width, c + b * height, c + a * width + b * height]
    ys = [f, f + d * width, f + e * height, f + d * width + e * height]
    return (min(xs), min(ys), max(xs), max(ys))
