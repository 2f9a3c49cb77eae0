"""The affine geotransform of an IFD and its georeferencing status, as GDAL reads them.

Pure functions over ``GeoTags``. Transforms are ``GeoTransform`` values: the six GDAL GeoTransform numbers
``(c, a, b, f, d, e)``, ``x = c + a*col + b*row``, ``y = f + d*col + e*row`` at pixel *corners*, with the
grid arithmetic (rescaling, half-pixel shifts, windows, pixel centres) as methods.

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

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from ..tiff.tags import RasterType

GeorefStatus = Literal["full", "transform-only", "crs-only", "none", "rotated"]


class GeoTransform(NamedTuple):
    """GDAL's six GeoTransform numbers, in GDAL's order: ``x = c + a*col + b*row``, ``y = f + d*col + e*row``.

    A tuple, so it equals, hashes, pickles and JSON-encodes exactly as the plain 6-tuples it replaces (``repr``
    too, which error messages show); build one from any six numbers with ``GeoTransform(*numbers)``. The
    methods hold the grid arithmetic every entry point needs (overview rescaling, the PixelIsPoint half-pixel
    shift, windows), written once so that cube, VRT and multi-scale results agree to the last bit. Where
    rasterio/GDAL have the same operation the result is the same: ``to_affine`` gives ``Affine.from_gdal``'s
    coefficients, ``rescaled`` is ``GDALRescaleGeoTransform``, ``window_transform`` is
    ``rasterio.windows.transform``.
    """

    c: float  # x of the top-left corner of pixel (0, 0)
    a: float  # x step per column
    b: float  # x step per row (rotation/shear)
    f: float  # y of the top-left corner of pixel (0, 0)
    d: float  # y step per column (rotation/shear)
    e: float  # y step per row (negative for north-up images)

    def __repr__(self) -> str:
        return tuple.__repr__(self)

    @property
    def is_north_up(self) -> bool:
        """True without rotation or shear terms (``b == d == 0``), GDAL's test: the axes may still point either
        way. Only such grids have 1-D ``x``/``y`` coordinates and pixel windows of a bounding box."""
        return self.b == 0.0 and self.d == 0.0

    @property
    def resolution(self) -> tuple[float, float]:
        """``(x, y)`` pixel size of a north-up grid, both positive (rasterio's ``res``)."""
        return abs(self.a), abs(self.e)

    def to_affine(self) -> tuple[float, float, float, float, float, float]:
        """The affine/rasterio order ``(a, b, c, d, e, f)`` (STAC ``proj:transform``, ``spatial:transform``)."""
        return (self.a, self.b, self.c, self.d, self.e, self.f)

    def rescaled(self, x_ratio: float, y_ratio: float) -> GeoTransform:
        """The transform of the same extent with pixels ``x_ratio`` x ``y_ratio`` times as large (an overview of a
        ``width / x_ratio`` x ``height / y_ratio`` image), as ``GDALRescaleGeoTransform`` gives overviews."""
        c, a, b, f, d, e = self
        return GeoTransform(c, a * x_ratio, b * y_ratio, f, d * x_ratio, e * y_ratio)

    def point_registered(self) -> GeoTransform:
        """The transform whose origin is the *centre* of pixel (0, 0): what a PixelIsPoint file stores for this
        (corner) transform, and what the ``spatial:`` convention calls node registration."""
        c, a, b, f, d, e = self
        return GeoTransform(c + a * 0.5 + b * 0.5, a, b, f + d * 0.5 + e * 0.5, d, e)

    def area_registered(self) -> GeoTransform:
        """The corner transform of a PixelIsPoint transform (origin at the centre of pixel (0, 0)): the half-pixel
        shift GDAL and rasterio apply when they read a PixelIsPoint file (``GTIFF_POINT_GEO_IGNORE=FALSE``)."""
        c, a, b, f, d, e = self
        return GeoTransform(c - (a * 0.5 + b * 0.5), a, b, f - (d * 0.5 + e * 0.5), d, e)

    def window_transform(self, row_off: float, col_off: float) -> GeoTransform:
        """The transform of a window whose top-left pixel is ``(row_off, col_off)`` of this grid."""
        c, a, b, f, d, e = self
        return GeoTransform(a * col_off + b * row_off + c, a, b, d * col_off + e * row_off + f, d, e)

    def bounds(self, width: float, height: float) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the four corners of a ``width`` x ``height`` grid."""
        c, a, b, f, d, e = self
        xs = [c, c + a * width, c + b * height, c + a * width + b * height]
        ys = [f, f + d * width, f + e * height, f + d * width + e * height]
        return (min(xs), min(ys), max(xs), max(ys))

    def pixel_bounds(self, bbox: Sequence[float]) -> tuple[float, float, float, float]:
        """``(row_start, row_stop, col_start, col_stop)``: where ``bbox`` ``(minx, miny, maxx, maxy)`` lies in
        this north-up grid, in fractional pixels, whichever way the axes point (``rasterio.windows.from_bounds``
        as start/stop)."""
        self._require_north_up("pixel windows")
        c, a, _, f, _, e = self
        minx, miny, maxx, maxy = bbox
        xs = sorted(((minx - c) / a, (maxx - c) / a))
        ys = sorted(((miny - f) / e, (maxy - f) / e))
        return ys[0], ys[1], xs[0], xs[1]

    def pixel_window(self, bbox: Sequence[float], eps: float = 1e-9) -> tuple[int, int, int, int]:
        """``(row_start, row_stop, col_start, col_stop)``: the whole pixels that ``bbox`` touches, unclipped.

        A bound within ``eps`` pixels of a pixel edge counts as on the edge, so that a bbox computed from the
        grid itself (with rounding error) selects exactly the pixels it was computed from.
        """
        row0, row1, col0, col1 = self.pixel_bounds(bbox)
        return math.floor(row0 + eps), math.ceil(row1 - eps), math.floor(col0 + eps), math.ceil(col1 - eps)

    def pixel_centers(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: float64 centres of the columns and of the rows of a north-up ``width`` x ``height`` grid.

        The same float64 operations in the same order as rioxarray (``affine * Affine.translation(0.5, 0.5)``
        applied to ``arange(width)`` / ``arange(height)``), so the coordinates are bit-identical to
        ``rioxarray.open_rasterio``'s, not just close.
        """
        c, a, b, f, d, e = (float(v) for v in self)
        if b != 0.0 or d != 0.0:
            raise ValueError(f"GeoTransform {self} has rotation/shear terms: no 1-D x/y coordinates exist")
        c_center = a * 0.5 + b * 0.5 + c
        f_center = d * 0.5 + e * 0.5 + f
        cols = np.arange(width)
        rows = np.arange(height)
        x = cols * a + np.zeros(width) * b + c_center
        y = np.zeros(height) * d + rows * e + f_center
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def _require_north_up(self, what: str) -> None:
        if not self.is_north_up:
            raise ValueError(f"GeoTransform {self} has rotation/shear terms: no {what} exist")


@dataclass(frozen=True)
class Georeferencing:
    """What one IFD's tags say about where its pixels are."""

    transform: GeoTransform | None  # GDAL order, pixel corners (PixelIsPoint already shifted)
    pixel_is_point: bool
    gcp_count: int  # tie points used as GCPs (0 when a transform exists)

    @property
    def is_rotated(self) -> bool:
        return self.transform is not None and not self.transform.is_north_up


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
    transform = GeoTransform(*gt)
    return transform.area_registered() if pixel_is_point(geo) and not point_geo_ignore else transform


def gcp_count(geo: Any) -> int:
    """Number of tie points GDAL reads as GCPs (tie points without a usable scale or matrix)."""
    ties = geo.model_tiepoint
    if not ties or len(ties) < 6 or geotransform(geo) is not None:
        return 0
    return len(ties) // 6


def georeferencing(geo: Any) -> Georeferencing:
    return Georeferencing(transform=geotransform(geo), pixel_is_point=pixel_is_point(geo),
                          gcp_count=gcp_count(geo))


def georef_status(transform: Sequence[float] | None, has_crs: bool) -> GeorefStatus:
    """``full`` (north-up transform + CRS), ``rotated`` (transform with rotation/shear terms, any CRS),
    ``transform-only``, ``crs-only`` or ``none``."""
    if transform is not None:
        if not GeoTransform(*transform).is_north_up:
            return "rotated"
        return "full" if has_crs else "transform-only"
    return "crs-only" if has_crs else "none"


def gcp_note(count: int) -> str:
    return (f"the file georeferences this image with {count} ground control point(s) (ModelTiepoint without "
            "ModelPixelScale); virtual-geotiff does not interpolate GCPs, so no transform, CRS or x/y "
            "coordinates are given. Warp the file onto a grid first (gdalwarp) to use it georeferenced")


def to_affine(gt: Sequence[float]) -> tuple[float, float, float, float, float, float]:
    """GDAL ``(c, a, b, f, d, e)`` -> affine/rasterio order ``(a, b, c, d, e, f)`` (``GeoTransform.to_affine``
    for transforms given as plain sequences)."""
    return GeoTransform(*gt).to_affine()


def gdal_string(gt: Sequence[float]) -> str:
    """The ``GeoTransform`` attribute exactly as rioxarray writes it (``str`` of each float)."""
    return " ".join(str(float(v)) for v in gt)


def bounds(gt: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    """``(xmin, ymin, xmax, ymax)`` of the four image corners (``GeoTransform.bounds`` for plain sequences)."""
    return GeoTransform(*gt).bounds(width, height)
