"""Georeferencing helpers shared by the GeoTIFF tests: hand-made GeoKey directories, rasterio's CRS of a file, and
the transform comparison every georeferencing test makes (GDAL is the reference; see docs/how-it-works.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyproj
import rasterio

#: Absolute tolerance of transforms and coordinates: equal up to float rounding, not "close".
ATOL = 1e-9

#: A ModelTiepoint tying pixel (0, 0) to (100, 200).
TIE = [0, 0, 0, 100, 200, 0]


def geokey_directory(keys: list[tuple[int, int, int, int]], minor: int = 0) -> list[int]:
    """The GeoKeyDirectory tag value holding ``keys`` ((key, location, count, value) each), sorted as the spec asks."""
    directory = [1, 1, minor, len(keys)]
    for key in sorted(keys):
        directory += list(key)
    return directory


def rasterio_crs(path: Path) -> pyproj.CRS | None:
    """The CRS GDAL reads from ``path``, as a pyproj CRS (None when it reads none)."""
    with rasterio.open(path) as src:
        return None if src.crs is None else pyproj.CRS.from_wkt(src.crs.to_wkt(version="WKT2_2019"))


def assert_transform(actual, expected) -> None:
    """The first six terms of two affine transforms (GDAL order or Affine) are equal within ``ATOL``."""
    np.testing.assert_allclose(tuple(actual)[:6], tuple(expected)[:6], rtol=0, atol=ATOL)
