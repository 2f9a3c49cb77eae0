"""GDAL's validity mask applied to a virtual GeoTIFF: ``rioxarray.open_rasterio(path, masked=True)`` in one call.

A virtual store exposes what the file holds: the image, GDAL's internal ``mask`` array next to it (0 = nodata,
255 = valid, as ``read_masks()`` gives it), nodata as ``_FillValue`` and an alpha band as a plain band named
by the ``alpha_band`` attribute. ``xr.open_zarr`` masks nodata only. GDAL decides validity per band in a fixed
order (``GDALRasterBand::GetMaskBand``), which ``read_masked`` reproduces:

1. an internal mask IFD (per dataset): invalid where the mask is 0; nodata is then *not* applied;
2. else nodata (``GDAL_NODATA``): invalid where the band equals it (NaN nodata: where the band is NaN), on
   every band, the alpha band included;
3. else an alpha band, only as GDAL takes it: in a 2-band (grey + alpha) or 4-band (RGB + alpha) image whose
   last band is the alpha band and has 8 or 16 bits: the other bands are invalid where alpha is 0 (any
   non-zero alpha is valid); the alpha band itself is always valid;
4. else every pixel is valid.

Invalid pixels become NaN in the dtype rioxarray uses (xarray's ``maybe_promote``: float32 for 8/16-bit
integers and float32, float64 otherwise). With ``mask_and_scale=True`` each band is then scaled by its own
``scale_factor``/``add_offset`` (or per-band ``scales``/``offsets``), exactly as rioxarray does with
``mask_and_scale=True``, which is how bands whose scales differ get their physical values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from xarray.core.dtypes import maybe_promote

from .arrays.levels import MASK
from .errors import InvalidArgumentError

__all__ = ["MASK", "read_masked"]


_CF_KEYS = ("_FillValue", "missing_value", "scale_factor", "add_offset")


def read_masked(source: Any, name: str = "0", *, mask_and_scale: bool = False, group: str | None = None
                ) -> xr.DataArray:
    """``name`` with GDAL's invalid pixels set to NaN, equal to ``rioxarray.open_rasterio(path, masked=True,
    mask_and_scale=mask_and_scale)`` of the file: values, dtype, ``(band, y, x)`` dims and band numbers 1..n.

    ``source`` is a virtual store (``VirtualTIFF(...)(url, registry)``, an Icechunk or any Zarr store), which is
    opened raw, or an ``xr.Dataset`` opened with ``mask_and_scale=False`` (a decoded dataset has already lost
    the values GDAL's own mask would keep). ``group`` picks a group of the store (nested/multiscale layouts).
    """
    if isinstance(source, xr.Dataset):
        ds = source
    else:
        ds = xr.open_zarr(source, zarr_format=3, consolidated=False, mask_and_scale=False, group=group)
    if name not in ds:
        raise InvalidArgumentError(f"no array {name!r} in the dataset (arrays: {sorted(map(str, ds.data_vars))})")
    var = ds[name]
    decoded = [key for key in _CF_KEYS if key in var.encoding and key not in var.attrs]
    if decoded:
        raise InvalidArgumentError(
            f"array {name!r} was opened with CF decoding ({', '.join(decoded)} already applied), so nodata and "
            "scaling cannot be redone as GDAL does; pass the store itself, or a dataset opened with "
            "xr.open_zarr(store, mask_and_scale=False)")
    data = var if var.ndim == 3 else var.expand_dims("band", axis=0)
    bands = data.sizes[data.dims[0]]
    valid = _validity(ds, var, data, bands)
    dtype, _ = maybe_promote(np.dtype(var.dtype))
    values = data.astype(dtype)
    out = values.where(valid) if valid is not None else values
    if mask_and_scale:
        scales, offsets = _scales(var.attrs, bands)
        # band by band with Python floats, as rioxarray does: the arithmetic stays in ``dtype``
        out = xr.concat([out.isel({data.dims[0]: i}) * scales[i] + offsets[i] for i in range(bands)],
                        dim=data.dims[0])
    attrs = {k: v for k, v in var.attrs.items() if k not in (*_CF_KEYS, "scales", "offsets")}
    out = out.rename({data.dims[0]: "band"}) if data.dims[0] != "band" else out
    out = out.assign_coords(band=np.arange(1, bands + 1))
    if "x" not in out.coords and "y" not in out.coords:
        # rioxarray's coordinates of an image without georeferencing: pixel centres of the identity transform
        out = out.assign_coords(x=np.arange(out.sizes["x"]) + 0.5, y=np.arange(out.sizes["y"]) + 0.5)
    out.attrs = attrs
    out.name = name
    return out


def _validity(ds: xr.Dataset, var: xr.DataArray, data: xr.DataArray, bands: int) -> xr.DataArray | None:
    """Boolean (band, y, x) or (y, x) validity by GDAL's rules, or None when every pixel is valid."""
    if MASK in ds and _mask_belongs_to(ds, var):
        return ds[MASK] != 0
    nodata = var.attrs.get("_FillValue")
    if nodata is not None:
        value = float(nodata) if np.dtype(var.dtype).kind == "f" else nodata
        if isinstance(value, float) and np.isnan(value):
            return ~np.isnan(data)
        return data != value
    alpha = var.attrs.get("alpha_band")
    if alpha is not None and bands in (2, 4) and int(alpha) == bands - 1 and np.dtype(var.dtype) in (
            np.dtype("uint8"), np.dtype("uint16")):
        band_dim = data.dims[0]
        is_colour = xr.DataArray(np.arange(bands) != int(alpha), dims=band_dim)
        return (data.isel({band_dim: int(alpha)}) != 0) | ~is_colour
    return None


def _mask_belongs_to(ds: xr.Dataset, var: xr.DataArray) -> bool:
    """True when the dataset's ``mask`` is ``var``'s: it names its image in ``mask_of``, and has its size."""
    mask = ds[MASK]
    return mask.attrs.get("mask_of", var.name) == var.name and mask.shape == var.shape[-2:]


def _scales(attrs: dict[str, Any], bands: int) -> tuple[list[float], list[float]]:
    scales = attrs.get("scales")
    offsets = attrs.get("offsets")
    scale = float(attrs.get("scale_factor", 1.0))
    offset = float(attrs.get("add_offset", 0.0))
    scales = [float(v) for v in scales] if scales is not None else [scale] * bands
    offsets = [float(v) for v in offsets] if offsets is not None else [offset] * bands
    return scales, offsets
