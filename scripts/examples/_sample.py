"""A small sample COG for the examples: 1024 x 1024 uint16, DEFLATE, 256-px tiles, EPSG:32633, overviews.

Written with rasterio (``pip install -e ".[test]"``). Pass your own file to an example to skip it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_sample_cog(path: Path, seed: int = 0) -> Path:
    """Write a smooth synthetic field as a Cloud-Optimized GeoTIFF with two internal overviews."""
    import rasterio
    from rasterio.transform import from_origin

    size = 1024
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    field = 1000 + 800 * np.sin((xx + 40 * seed) / 90.0) * np.cos(yy / 70.0) + 20 * seed
    profile = {
        "driver": "COG", "width": size, "height": size, "count": 1, "dtype": "uint16",
        "crs": "EPSG:32633", "transform": from_origin(500_000.0, 5_000_000.0, 10.0, 10.0),
        "nodata": 0, "compress": "DEFLATE", "blocksize": 256,
        "overviews": "AUTO", "overview_resampling": "average",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(field.clip(1, 65535).astype(np.uint16), 1)
    return path
