"""One STAC archive, three ways to a cube: virtual-geotiff (build + publish to Icechunk, then read), odc-stac's
``odc.stac.load`` and stackstac's ``stack`` (lazy dask arrays read through GDAL/rasterio at compute time).

Measured per tool, best of N rounds: the time to build (ours: the whole STAC catalog, both zones and all six
bands -> band cube -> Icechunk commit; theirs: one zone's items -> a lazy array of one band) and the time to
read one band's time series (B04 of every date of one tile, at 10 m, in its own CRS: no reprojection for
anyone; ours: open the repository and read through xarray, with zarr's default decoders or with
``use_fast_decoders()``). Every result is compared with rasterio's read of the files, pixel for pixel.

Usage: python scripts/bench/stac_compare.py DIR [--dates 20] [--size 512] [--rounds 3]
DIR is created with ``testing.sentinel2.make_archive`` (2 tiles in UTM zones 31 and 32) when it holds no
catalog.json. Needs ``pip install odc-stac stackstac`` (each is skipped when missing).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("ICECHUNK_NO_LOGS", "1")
warnings.filterwarnings("ignore")

EPSG = 32631
BAND = "B04"


def items_of_zone(root: Path) -> list:
    import pystac

    items = pystac.Catalog.from_file(str(root / "catalog.json")).get_items(recursive=True)
    chosen = sorted((i for i in items if i.assets[BAND].extra_fields["proj:code"] == f"EPSG:{EPSG}"),
                    key=lambda i: i.datetime)
    return [i.make_asset_hrefs_absolute() for i in chosen]  # readers outside pystac get usable paths


def expected(items: list) -> np.ndarray:
    import rasterio

    out = []
    for item in items:
        with rasterio.open(item.assets[BAND].get_absolute_href()) as src:
            out.append(src.read(1))
    return np.stack(out)


def ours(root: Path, workdir: Path, fast: bool = False) -> tuple[float, float, np.ndarray]:
    import icechunk as ic
    import xarray as xr

    from virtual_geotiff import icechunk as vic
    from virtual_geotiff.icechunk import publish_bands
    from virtual_geotiff.stac import open_stac_cube

    repo_dir = Path(tempfile.mkdtemp(dir=workdir))
    t0 = time.perf_counter()
    cube = open_stac_cube(str(root / "catalog.json"))
    storage = ic.local_filesystem_storage(str(repo_dir))
    publish_bands(cube, vic.create_repository(storage, cube.sources))
    build = time.perf_counter() - t0
    from virtual_geotiff import use_default_decoders, use_fast_decoders

    (use_fast_decoders if fast else use_default_decoders)()
    t0 = time.perf_counter()
    repo = vic.open_repository(ic.local_filesystem_storage(str(repo_dir)))
    ds = xr.open_zarr(repo.readonly_session(branch="main").store, group=f"EPSG_{EPSG}/10m", zarr_format=3,
                      consolidated=False, mask_and_scale=False)
    values = ds[BAND].values
    read = time.perf_counter() - t0
    use_default_decoders()
    return build, read, values


def ours_fast(root: Path, workdir: Path) -> tuple[float, float, np.ndarray]:
    return ours(root, workdir, fast=True)


def odc(root: Path, workdir: Path) -> tuple[float, float, np.ndarray]:
    import odc.stac

    t0 = time.perf_counter()
    items = items_of_zone(root)
    ds = odc.stac.load(items, bands=[BAND], crs=f"EPSG:{EPSG}", resolution=10, chunks={}, groupby="id")
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = ds[BAND].values
    return build, time.perf_counter() - t0, values


def stackstac_(root: Path, workdir: Path) -> tuple[float, float, np.ndarray]:
    import stackstac

    t0 = time.perf_counter()
    items = items_of_zone(root)
    # the tile's own bounds: without them stackstac takes the reprojected lon/lat geometry (items carry no
    # proj:bbox), a larger grid padded with fill values
    fields = items[0].assets[BAND].extra_fields
    a, _, c, _, e, f = fields["proj:transform"][:6]
    h, w = fields["proj:shape"]
    arr = stackstac.stack([i.to_dict() for i in items], assets=[BAND], epsg=EPSG, resolution=10,
                          bounds=(c, f + e * h, c + a * w, f), dtype="uint16", fill_value=np.uint16(0),
                          rescale=False)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    values = arr.values[:, 0]
    return build, time.perf_counter() - t0, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--dates", type=int, default=20)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    root = args.dir.resolve()
    if not (root / "catalog.json").exists():
        from virtual_geotiff.testing.sentinel2 import make_archive

        make_archive(root, dates=args.dates, size=args.size, blocksize=min(256, args.size // 2))
    items = items_of_zone(root)
    truth = expected(items)
    print(f"archive {root}: {len(items)} dates of tile {items[0].properties['s2:mgrs_tile']}, {BAND} "
          f"{truth.shape[1]} x {truth.shape[2]} px; {args.rounds} rounds, best")
    tools = {"virtual-geotiff (build = publish to Icechunk)": ours,
             "virtual-geotiff, read with use_fast_decoders()": ours_fast, "odc-stac (odc.stac.load)": odc,
             "stackstac (stackstac.stack)": stackstac_}
    with tempfile.TemporaryDirectory() as tmp:
        for name, run in tools.items():
            try:
                results = [run(root, Path(tmp)) for _ in range(args.rounds)]
            except ImportError as exc:
                print(f"{name:48s} not installed ({exc.name})")
                continue
            build = min(r[0] for r in results)
            read = min(r[1] for r in results)
            values = results[-1][2]
            same = values.shape == truth.shape and np.array_equal(values, truth)
            print(f"{name:48s} build {build:7.3f} s   read {BAND} series {read:7.3f} s   "
                  f"equal to rasterio: {same}{'' if same else f' (shape {values.shape})'}")


if __name__ == "__main__":
    main()
