"""The attribute policy of a raster array, in one place: nodata as fill value, GDAL metadata, georeferencing
status and GeoZarr attributes per array (``ifd_attributes`` for TIFF IFDs, ``raster_attributes`` shared with
GDAL VRTs), what a store tells readers about its codecs (``store_attributes``), and how arrays built from
several files combine their attributes (``shared_attributes``, ``check_same_decoding``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._version import __version__
from ..codecs.mapping import PORTABLE_CODECS, CodecPlan
from ..colour import colour_attributes
from ..errors import IncompatibleSourcesError
from ..geo import IfdGeoref
from ..geo.attrs import (
    GdalMetadata,
    encode_fill_value_attr,
    geozarr_attributes,
    metadata_attributes,
    parse_gdal_metadata,
    parse_nodata,
)
from ..readers import readable_by
from ..tiff.reader import IfdInfo

#: Attributes that change decoded values: files that disagree on them cannot share one array.
DECODING_ATTRIBUTES = ("scale_factor", "add_offset", "scales", "offsets", "_FillValue")


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


def store_attributes(plans: Iterable[CodecPlan]) -> dict[str, Any]:
    """Group attributes that tell any reader which non-standard codecs it needs."""
    plans = list(plans)
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


def shared_attributes(attributes: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The items every mapping holds with an equal value (per-file items such as statistics drop out)."""
    shared = dict(attributes[0])
    for other in attributes[1:]:
        for key in list(shared):
            if key not in other or other[key] != shared[key]:
                del shared[key]
    return shared


def check_same_decoding(attributes: Sequence[tuple[str, Mapping[str, Any]]]) -> None:
    """Raise ``IncompatibleSourcesError`` listing each ``(label, attributes)`` whose decoding attributes (nodata,
    scale/offset) differ from the first one's: one array has one fill value and one scale."""
    label0, attrs0 = attributes[0]
    problems: dict[str, list[str]] = {}
    for label, attrs in attributes[1:]:
        for key in DECODING_ATTRIBUTES:
            if attrs.get(key) != attrs0.get(key):
                problems.setdefault(label, []).append(
                    f"{key} {attrs.get(key)!r} (expected {attrs0.get(key)!r} as in {label0})")
    if problems:
        raise IncompatibleSourcesError.from_problems(
            "these files decode differently (nodata or scale/offset)", problems,
            "files of one cube must share nodata and scale/offset; build separate cubes")
