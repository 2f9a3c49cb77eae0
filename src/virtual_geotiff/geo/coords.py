"""The ``x``/``y`` coordinate variables of a north-up grid: values exactly as rioxarray computes them, and
their CF attributes.

The values come from ``GeoTransform.pixel_centers`` (bit-identical to ``rioxarray.open_rasterio``'s, so a
virtual store and rioxarray agree on every coordinate); rotated or sheared grids have no 1-D coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .transform import GeoTransform


def pixel_centers(gt: Sequence[float], width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)``: float64 centres of the columns and of the rows of a ``width`` x ``height`` grid
    (``GeoTransform.pixel_centers`` for a transform given as any six numbers)."""
    return GeoTransform(*gt).pixel_centers(width, height)


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
