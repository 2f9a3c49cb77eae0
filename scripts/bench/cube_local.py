"""Files/s of building one stitched cube from a local 10 x 20 grid of COGs: ``open_virtual_cube`` against
virtual-tiff 0.5.0's ``open_virtual_mfdataset(parallel=ThreadPoolExecutor)`` (nested combine over y/x)
and raw ``async_tiff.TIFF.open`` under one ``asyncio.gather``, interleaved, best and median of N rounds.

Usage: python scripts/bench/cube_local.py DIR [--rounds 5]
DIR holds ``*_r{row}_c{col}.tif`` (or ``r{row}_c{col}.tif``) COGs of one grid, e.g. from
``scripts/bench/archive.py`` or the generator in this script (``--generate``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import obstore
from obspec_utils.registry import ObjectStoreRegistry

warnings.filterwarnings("ignore")


def generate(root: Path, rows: int = 10, cols: int = 20, size: int = 1024) -> None:
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    root.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    for r in range(rows):
        for c in range(cols):
            data = (2000 + 800 * np.sin((yy + r * size) / 300) * np.cos((xx + c * size) / 200)
                    + (xx * yy) % 64).astype(np.uint16)
            with rasterio.open(root / f"tile_r{r:02d}_c{c:02d}.tif", "w", driver="COG", width=size, height=size,
                               count=1, dtype="uint16", crs="EPSG:32633", compress="DEFLATE", blocksize=512,
                               transform=from_origin(500000 + c * size * 10, 5000000 - r * size * 10, 10, 10)
                               ) as dst:
                dst.write(data, 1)


def grid_files(root: Path) -> list[list[str]]:
    found = {}
    for p in root.glob("*.tif"):
        m = re.search(r"r(\d+)_c(\d+)\.tif$", p.name)
        if m:
            found[int(m.group(1)), int(m.group(2))] = str(p)
    rows, cols = max(r for r, _ in found) + 1, max(c for _, c in found) + 1
    return [[found[r, c] for c in range(cols)] for r in range(rows)]


def ours(files: list[str]) -> None:
    from virtual_geotiff.cube import open_virtual_cube

    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    open_virtual_cube(files, registry)


def virtual_tiff(nested: list[list[str]]) -> None:
    from virtual_tiff import VirtualTIFF
    from virtualizarr import open_virtual_mfdataset

    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    urls = [["file://" + f for f in row] for row in nested]
    open_virtual_mfdataset(urls, registry=registry, parser=VirtualTIFF(ifd=0), combine="nested",
                           concat_dim=["y", "x"], parallel=ThreadPoolExecutor)


def raw_async_tiff(files: list[str]) -> None:
    from async_tiff import TIFF

    async def main():
        store = obstore.store.LocalStore()
        sem = asyncio.Semaphore(128)

        async def one(f):
            async with sem:
                return await TIFF.open(f, store=store, prefetch=32768)

        return await asyncio.gather(*(one(f) for f in files))

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--generate", action="store_true")
    args = parser.parse_args()
    if args.generate:
        generate(args.root)
    nested = grid_files(args.root)
    files = [f for row in nested for f in row]
    runs = {"open_virtual_cube": lambda: ours(files), "virtual-tiff mfdataset(threads)": lambda: virtual_tiff(nested),
            "raw async-tiff gather": lambda: raw_async_tiff(files)}
    for run in runs.values():  # warm-up: imports, pyproj database, page cache
        run()
    rates: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():
            t = time.perf_counter()
            run()
            rates[name].append(len(files) / (time.perf_counter() - t))
    ref = max(rates["virtual-tiff mfdataset(threads)"])
    raw = max(rates["raw async-tiff gather"])
    print(f"{len(files)} files, {args.rounds} interleaved rounds")
    print(f"{'':34s} {'best files/s':>12s} {'median':>8s} {'vs virtual-tiff':>16s} {'vs raw':>7s}")
    for name, values in rates.items():
        best = max(values)
        print(f"{name:34s} {best:12.0f} {statistics.median(values):8.0f} {best / ref:15.1f}x {best / raw:6.2f}x")


if __name__ == "__main__":
    main()
