"""Shared helpers of the cube tests: write a tile grid of small georeferenced GeoTIFFs with rasterio, read a
cube's data variable back through a ManifestStore, and build the expected mosaic from rasterio reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
import zarr
from rasterio.transform import from_origin
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore

#: Every tile is TILE x TILE pixels of BLOCK x BLOCK blocks, 10 m pixels in UTM 33N.
TILE, BLOCK, RES = 64, 32, 10.0
X0, Y0 = 500_000.0, 5_000_000.0


def tile_data(row: int, col: int, step: int = 0, count: int = 1, size: tuple[int, int] = (TILE, TILE),
              dtype: str = "uint16") -> np.ndarray:
    """Deterministic data that differs per pixel, tile, time step and band."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    bands = [((yy + row * TILE) * 131 + (xx + col * TILE) * 7 + step * 1000 + b * 50_000) % 65_000
             for b in range(count)]
    return np.stack(bands).astype(dtype)


def write_tile(path: Path, row: int, col: int, step: int = 0, *, count: int = 1, crs: str = "EPSG:32633",
               dtype: str = "uint16", shift: tuple[float, float] = (0.0, 0.0), res: float = RES,
               size: tuple[int, int] = (TILE, TILE), nodata: float | None = None, interleave: str = "pixel",
               compress: str = "deflate", block: int = BLOCK) -> np.ndarray:
    """A tiled GeoTIFF at grid position (row, col) of a grid of ``size`` tiles; returns the (band, y, x) data."""
    data = tile_data(row, col, step, count, size, dtype)
    transform = from_origin(X0 + col * size[1] * RES + shift[0], Y0 - row * size[0] * RES + shift[1], res, res)
    with rasterio.open(path, "w", driver="GTiff", width=size[1], height=size[0], count=count, dtype=dtype,
                       crs=crs, transform=transform, tiled=True, blockxsize=block, blockysize=block,
                       compress=compress, nodata=nodata, interleave=interleave) as dst:
        dst.write(data)
    return data


def write_grid(directory: Path, rows: int, cols: int, steps: tuple[str, ...] = ("20240101",),
               **kwargs) -> list[Path]:
    """``rows`` x ``cols`` tiles per time step, named ``scene_<date>_r<row>_c<col>.tif``."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for s, stamp in enumerate(steps):
        for r in range(rows):
            for c in range(cols):
                path = directory / f"scene_{stamp}_r{r}_c{c}.tif"
                write_tile(path, r, c, s, **kwargs)
                paths.append(path)
    return paths


def read_cube(dataset, name: str = "data", registry=None, key=...) -> np.ndarray:
    """Decode ``dataset[name]`` (a ManifestArray variable) through zarr, as stored (no masking)."""
    from tests.support.helpers import make_registry

    marr: ManifestArray = dataset[name].data
    store = ManifestStore(ManifestGroup(arrays={name: marr}), registry=registry or make_registry())
    return zarr.open_array(store, path=name, mode="r", zarr_format=3)[key]


def rasterio_mosaic(paths: list[Path], shape: tuple[int, ...], transform) -> np.ndarray:
    """Place every file's rasterio read at its pixel offset on ``transform``'s grid (zeros elsewhere)."""
    out = np.zeros(shape, dtype=rasterio.open(paths[0]).dtypes[0])
    c, a, _, f, _, e = transform
    for path in paths:
        with rasterio.open(path) as src:
            data = src.read()
            col = round((src.transform.c - c) / a)
            row = round((src.transform.f - f) / e)
            h, w = data.shape[-2:]
            target = out[..., row:row + h, col:col + w]
            target[...] = data if out.ndim == 3 else data[0]
    return out
