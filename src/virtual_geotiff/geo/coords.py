"""1-D ``x`` and ``y`` pixel-centre coordinates of a north-up grid, exactly as rioxarray computes them.

``rioxarray.open_rasterio`` builds them with ``affine * Affine.translation(0.5, 0.5)`` applied to
``arange(width)`` / ``arange(height)``; the same float64 operations in the same order are used here, so
the coordinates are bit-identical, not just close. Rotated or sheared grids have no 1-D coordinates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .transform import GeoTransform


def pixel_centers(gt: GeoTransform, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: float64 centres of the columns and of the rows of a ``width`` x ``height`` grid."""
    c, a, b, f, d, e = (float(v) for v in gt)
    if b != 0.0 or d != 0.0:
        raise ValueError(f"GeoTransform {gt} has rotation/shear terms: no 1-D x/y coordinates exist")
    # Affine(a, b, c, d, e, f) * Affine.translation(0.5, 0.5), then applied to (col, 0) and (0, row)
    c_center = a * 0.5 + b * 0.5 + c
    f_center = d * 0.5 + e * 0.5 + f
    cols = np.arange(width)
    rows = np.arange(height)
    x = cols * a + np.zeros(width) * b + c_center
    y = np.zeros(height) * d + rows * e + f_center
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def coordinate_attrs(crs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """CF attributes (standard_name, long_name, units, axis) of ``x`` and ``y`` for ``crs`` (or None)."""
    x_attrs: dict[str, Any] = {"axis": "X"}
    y_attrs: dict[str, Any] = {"axis": "Y"}
    if crs is None:
        return x_attrs, y_attrs
    try:
        axes = crs.cs_to_cf()
    except Exception:  # pyproj cannot describe every CS in CF terms; the attributes are optional
        return x_attrs, y_attrs
    for axis in axes:
        target = {"X": x_attrs, "Y": y_attrs}.get(axis.get("axis"))
        if target is None:
            if axis.get("standard_name") == "longitude":
                target = x_attrs
            elif axis.get("standard_name") == "latitude":
                target = y_attrs
            else:
                continue
        for key in ("standard_name", "long_name", "units"):
            if key in axis:
                target[key] = axis[key]
    return x_attrs, y_attrs
