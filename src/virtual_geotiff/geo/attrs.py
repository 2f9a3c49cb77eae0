"""Attributes of a virtual GeoTIFF array: nodata, GDAL metadata, the CF grid mapping and GeoZarr blocks.

Pure functions; the parser decides which array gets which.

Nodata (``GDAL_NODATA`` tag)
    Parsed into the array's data type: integers exactly (no float round trip, so 64-bit values survive),
    ``nan``/``inf``/``-inf`` for floats, float32 arrays get the float32 value GDAL compares pixels with.
    A value the data type cannot hold (``-9999`` in uint8, ``1.5`` in int16, ``1e40`` in float32) or that
    does not parse is dropped with a ``NodataWarning``: GDAL masks no pixel in that case either, so
    dropping it keeps the masked values identical to rasterio's. The value becomes the Zarr
    ``fill_value`` (missing chunks read as nodata, as GDAL reads sparse blocks) *and* the ``_FillValue``
    attribute, encoded as xarray does for Zarr v3 (floats as base64 little-endian float64, integers as
    JSON integers). xarray only masks with ``_FillValue`` on Zarr v3 (``use_zarr_fill_value_as_mask`` is
    False by default there), so ``xr.open_zarr(store)`` masks nodata to NaN by default, like
    ``rioxarray.open_rasterio(path, masked=True)``.

GDAL metadata (``GDAL_METADATA`` tag, ``<GDALMetadata><Item name= sample= role=>``)
    Items of the default domain only (other domains such as ``IMAGE_STRUCTURE`` or ``RPC`` are GDAL
    internals). Per-band ``SCALE``/``OFFSET`` -> ``scale_factor``/``add_offset`` when equal for every band
    (else lists ``scales``/``offsets`` and no CF decoding), ``DESCRIPTION`` -> ``long_name``,
    ``UNITTYPE`` -> ``units``, other band items by name (one value, or a list when bands differ);
    dataset items by name. Names that would clash with CF attributes this module writes are dropped.
    Malformed XML gives a ``GdalMetadataWarning`` and no items.

Grid mapping (CF, as rioxarray writes it)
    A scalar ``spatial_ref`` variable with ``crs_wkt`` and ``spatial_ref`` (the same WKT2:2019 string),
    pyproj's CF grid-mapping parameters and ``GeoTransform`` (GDAL order, space separated, ``str`` of
    each float); data arrays point at it with ``grid_mapping: "spatial_ref"``.

GeoZarr
    The Zarr conventions ``proj:`` (geo-proj v1: ``proj:code`` when the CRS has an authority code, else
    ``proj:wkt2``) and ``spatial:`` (spatial v1: ``spatial:dimensions``, ``spatial:transform`` in affine
    order ``[a, b, c, d, e, f]``, ``spatial:shape``, ``spatial:bbox``, ``spatial:registration``), each
    registered in ``zarr_conventions`` as https://github.com/zarr-conventions/geo-proj/blob/v1/README.md
    and https://github.com/zarr-conventions/spatial/blob/v1/README.md specify. PixelIsPoint grids are
    described with ``spatial:registration: "node"`` and the untransformed (cell-centre) transform, as the
    spatial convention defines node registration; CF/GDAL attributes keep GDAL's shifted transform.
"""

from __future__ import annotations

import base64
import decimal
import math
import struct
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .transform import GeoTransform, gdal_string


class NodataWarning(UserWarning):
    """A GDAL_NODATA value that the array's data type cannot represent (dropped, as GDAL masks nothing)."""


class GdalMetadataWarning(UserWarning):
    """A GDAL_METADATA tag that is not well-formed XML (ignored)."""


class ScaleOffsetWarning(UserWarning):
    """Bands with different SCALE/OFFSET: xarray's CF decoding takes one factor per variable, so the array keeps
    raw values (lists in ``scales``/``offsets``); ``virtual_geotiff.read_masked(store, mask_and_scale=True)``
    gives rioxarray's physical values."""


# ---------------------------------------------------------------------------------------------- nodata


def parse_nodata(text: str | None, dtype: np.dtype, *, where: str = "") -> Any:
    """The GDAL_NODATA value as a numpy scalar of ``dtype``, or None (absent, unparseable, out of range)."""
    if text is None:
        return None
    text = text.strip().strip("\x00").strip()
    if not text:
        return None
    dtype = np.dtype(dtype)
    loc = f" of {where}" if where else ""

    def drop(why: str) -> None:
        warnings.warn(f"GDAL_NODATA={text!r}{loc} {why} for data type {dtype}; it is ignored (GDAL masks no "
                      "pixel with it either)", NodataWarning, stacklevel=3)
        return None

    if dtype.kind in "iu":
        try:
            exact = decimal.Decimal(text)
        except decimal.InvalidOperation:
            return drop("is not a number")
        if not exact.is_finite() or exact != exact.to_integral_value():
            return drop("is not an integer")
        value = int(exact)
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            return drop(f"is outside [{info.min}, {info.max}]")
        return dtype.type(value)
    if dtype.kind == "f":
        try:
            value = float(text)
        except ValueError:
            return drop("is not a number")
        with np.errstate(over="ignore"):
            cast = dtype.type(value)
        if math.isfinite(value) and not np.isfinite(cast):
            return drop("is outside the representable range")
        return cast
    return drop("cannot be applied (only integer and floating-point data have nodata here)")


def encode_fill_value_attr(value: Any, dtype: np.dtype) -> Any:
    """``_FillValue`` as xarray encodes it in Zarr v3 attributes (xarray's ``FillValueCoder``)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return base64.standard_b64encode(struct.pack("<d", float(value))).decode()
    if dtype.kind in "iu":
        return int(value)
    raise TypeError(f"no _FillValue encoding for {dtype}")


# ---------------------------------------------------------------------------------------------- GDAL metadata


@dataclass
class GdalMetadata:
    dataset: dict[str, str] = field(default_factory=dict)
    bands: dict[int, dict[str, str]] = field(default_factory=dict)  # 0-based sample -> {NAME or role: value}


_ROLE_KEYS = {"scale": "SCALE", "offset": "OFFSET", "unittype": "UNITTYPE", "description": "DESCRIPTION"}

#: Attribute names this library writes itself; GDAL items with these names are dropped.
RESERVED = frozenset({
    "_FillValue", "missing_value", "fill_value", "nodata", "scale_factor", "add_offset", "scales", "offsets",
    "units", "long_name", "grid_mapping", "coordinates", "_Unsigned", "georef_status", "georef_note",
    "AREA_OR_POINT", "zarr_conventions", "crs", "transform",
})


def parse_gdal_metadata(xml: str | None, *, where: str = "") -> GdalMetadata:
    """Default-domain items of a GDAL_METADATA tag."""
    meta = GdalMetadata()
    if not xml or not xml.strip():
        return meta
    try:
        root = ET.fromstring(xml.strip().strip("\x00"))
    except ET.ParseError as exc:
        loc = f" of {where}" if where else ""
        warnings.warn(f"GDAL_METADATA{loc} is not well-formed XML ({exc}); its items are ignored",
                      GdalMetadataWarning, stacklevel=2)
        return meta
    for item in root.iter("Item"):
        if item.get("domain"):
            continue
        name = item.get("name")
        role = (item.get("role") or "").lower()
        key = _ROLE_KEYS.get(role, name)
        if not key:
            continue
        value = item.text or ""
        sample = item.get("sample")
        if sample is None:
            meta.dataset[key] = value
            continue
        try:
            index = int(sample)
        except ValueError:
            continue
        if index >= 0:
            meta.bands.setdefault(index, {})[key] = value
    return meta


def _float_or_none(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _per_band(meta: GdalMetadata, key: str, bands: int) -> list[str | None]:
    return [meta.bands.get(i, {}).get(key) for i in range(bands)]


def metadata_attributes(meta: GdalMetadata, bands: int, *, where: str = "") -> dict[str, Any]:
    """Array attributes from GDAL metadata for an array of ``bands`` bands (1 for a ``(y, x)`` array).

    Bands whose scale/offset differ cannot be CF-decoded by xarray (one ``scale_factor`` per variable): they keep
    ``scales``/``offsets`` lists and a ``ScaleOffsetWarning`` says so, never silently."""
    attrs: dict[str, Any] = {}
    for key, value in meta.dataset.items():
        if key not in RESERVED:
            attrs[key] = value

    scales = [_float_or_none(v) for v in _per_band(meta, "SCALE", bands)]
    offsets = [_float_or_none(v) for v in _per_band(meta, "OFFSET", bands)]
    scales = [1.0 if v is None else v for v in scales]
    offsets = [0.0 if v is None else v for v in offsets]
    if len(set(scales)) == 1 and len(set(offsets)) == 1:
        if scales[0] != 1.0:
            attrs["scale_factor"] = scales[0]
        if offsets[0] != 0.0:
            attrs["add_offset"] = offsets[0]
    else:
        # CF decoding takes one factor per variable: bands that differ keep their lists, undecoded
        attrs["scales"] = scales
        attrs["offsets"] = offsets
        loc = f"{where}: " if where else ""
        warnings.warn(f"{loc}the bands have different scales {scales} / offsets {offsets}; xarray applies one "
                      "scale_factor/add_offset per variable, so xr.open_zarr returns the raw values (see the "
                      "`scales`/`offsets` attributes). virtual_geotiff.read_masked(store, mask_and_scale=True) "
                      "returns rioxarray's physical values (open_rasterio(..., mask_and_scale=True))",
                      ScaleOffsetWarning, stacklevel=3)

    for key, attr in (("DESCRIPTION", "long_name"), ("UNITTYPE", "units")):
        values = _per_band(meta, key, bands)
        if any(values):
            texts = ["" if v is None else v for v in values]
            attrs[attr] = texts[0] if len(set(texts)) == 1 else texts

    other = sorted({k for band in meta.bands.values() for k in band} - {"SCALE", "OFFSET", "DESCRIPTION",
                                                                         "UNITTYPE"})
    for key in other:
        if key in RESERVED:
            continue
        values = _per_band(meta, key, bands)
        if len(set(values)) == 1 and values[0] is not None:
            attrs[key] = values[0]
        else:
            attrs[key] = ["" if v is None else v for v in values]
    return attrs


# ---------------------------------------------------------------------------------------------- CF grid mapping


def crs_wkt(crs: Any) -> str:
    return crs.to_wkt(version="WKT2_2019")


def spatial_ref_attributes(crs: Any | None, transform: Sequence[float] | None) -> dict[str, Any]:
    """Attributes of the scalar ``spatial_ref`` grid-mapping variable (rioxarray's layout)."""
    attrs: dict[str, Any] = {}
    if crs is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                cf = crs.to_cf()
            except Exception:  # not every CRS has a CF grid mapping; WKT is enough for GDAL/rioxarray
                cf = {}
        attrs.update({k: _jsonable(v) for k, v in cf.items()})
        wkt = crs_wkt(crs)
        attrs["crs_wkt"] = wkt
        attrs["spatial_ref"] = wkt
    if transform is not None:
        attrs["GeoTransform"] = gdal_string(transform)
    return attrs


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- GeoZarr

PROJ_CONVENTION = {
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
    "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f",
    "name": "proj:",
    "description": "Coordinate reference system information for geospatial data",
}
SPATIAL_CONVENTION = {
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
    "uuid": "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
    "name": "spatial",
    "description": "Spatial coordinate information",
}


def geozarr_attributes(crs: Any | None, code: str | None, transform: Sequence[float] | None,
                       point_transform: Sequence[float] | None, shape: tuple[int, int],
                       dims: tuple[str, str] = ("y", "x")) -> dict[str, Any]:
    """``proj:`` and ``spatial:`` convention attributes (both v1) for one georeferenced 2-D grid.

    ``transform`` is GDAL's (pixel corners); ``point_transform`` is the untransformed PixelIsPoint transform
    (cell centres), or None for PixelIsArea grids.
    """
    attrs: dict[str, Any] = {}
    conventions = []
    if crs is not None:
        conventions.append(dict(PROJ_CONVENTION))
        if code:
            attrs["proj:code"] = code
        else:
            attrs["proj:wkt2"] = crs_wkt(crs)
    if transform is not None:
        conventions.append(dict(SPATIAL_CONVENTION))
        height, width = shape
        attrs["spatial:dimensions"] = list(dims)
        attrs["spatial:shape"] = [int(height), int(width)]
        attrs["spatial:transform_type"] = "affine"
        if point_transform is not None:
            point = GeoTransform(*point_transform)
            attrs["spatial:transform"] = list(point.to_affine())
            attrs["spatial:bbox"] = list(point.bounds(width - 1, height - 1))
            attrs["spatial:registration"] = "node"
        else:
            grid = GeoTransform(*transform)
            attrs["spatial:transform"] = list(grid.to_affine())
            attrs["spatial:bbox"] = list(grid.bounds(width, height))
            attrs["spatial:registration"] = "pixel"
    if conventions:
        attrs = {"zarr_conventions": conventions, **attrs}
    return attrs
