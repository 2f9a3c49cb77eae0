"""Quick start: turn a small archive of Cloud-Optimized GeoTIFFs into one versioned virtual datacube.

What it does (in a few seconds, all local, no network):

1. writes 4 small COGs with rasterio: two months (2024-01, 2024-02) x two neighbouring tiles (west, east)
   of one UTM grid, 512 x 512 uint16 each, DEFLATE + predictor 2, 256-px tiles, one overview;
2. opens one file as a Zarr store with ``VirtualTIFF`` and checks a window (and its overview) against
   rasterio;
3. builds ONE virtual cube from all four with ``open_virtual_cube``: tiles stitched side by side on their
   common grid, months stacked along ``time`` (parsed from the file names) -> ``data(time=2, y=512, x=1024)``;
4. publishes it to an on-disk Icechunk repository (``create_repository`` + ``publish``: one commit of byte
   ranges into the TIFFs plus each file's checksum; no pixel is copied);
5. reopens the repository (``open_repository``) and checks every file's pixels, the CRS and each file's
   position (x/y coordinates from the cube's transform) against rasterio;
6. runs ``verify``: every source file still matches the checksum it was published with.

Usage::

    python scripts/quickstart.py [--out DIR]

Needs rasterio (``pip install -e ".[quickstart]"``, or the ``test`` extra). Re-running overwrites the TIFFs
and the repository in the output directory. Exits with status 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

if "ICECHUNK_LOG" not in os.environ:  # hide the "LocalFileSystem is not safe for concurrent commits" warning
    os.environ.setdefault("ICECHUNK_NO_LOGS", "1")  # must be set before icechunk is imported

import icechunk
import numpy as np
import obstore
import rasterio
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.windows import Window

from virtual_geotiff import VirtualTIFF
from virtual_geotiff import icechunk as vic
from virtual_geotiff.cube import open_virtual_cube

# zarr warns that numcodecs.* codec names are not in the Zarr v3 spec; they are still read by
# zarr-python, zarrs and zarrita.js (see README), so keep the quickstart output readable.
warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")

SIZE = 512
TILE = 256
PIXEL = 10.0  # metres
WEST_X, NORTH_Y = 500_000.0, 5_000_000.0  # UTM 33N origin of the west tile
MONTHS = ["202401", "202402"]
TILES = {"west": 0, "east": 1}  # column of the tile in the stitched grid
# A window that crosses tile boundaries in both directions: (row_off, col_off, height, width).
WINDOW = Window(col_off=200, row_off=100, width=256, height=300)


def write_sample_cogs(out: Path) -> dict[Path, tuple[int, int]]:
    """Four COGs of a smooth synthetic field; returns {path: (time index, tile column)}."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    rng = np.random.default_rng(42)
    profile = {
        "driver": "COG",
        "width": SIZE,
        "height": SIZE,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32633",
        "nodata": 0,
        "compress": "DEFLATE",
        "predictor": 2,
        "blocksize": TILE,
        "overviews": "AUTO",  # one 256 x 256 overview for a 512 x 512 image
        "overview_resampling": "average",
    }
    files = {}
    for t, month in enumerate(MONTHS):
        for tile, col in TILES.items():
            x = xx + col * SIZE
            field = 1000 + 800 * np.sin((x + 40 * t) / 60.0) * np.cos(yy / 45.0) + 20 * t
            data = (field + rng.normal(0, 5, field.shape)).clip(1, 65535).astype(np.uint16)
            path = out / f"scene_{month}_{tile}.tif"
            transform = from_origin(WEST_X + col * SIZE * PIXEL, NORTH_Y, PIXEL, PIXEL)
            with rasterio.open(path, "w", transform=transform, **profile) as dst:
                dst.write(data, 1)
            files[path] = (t, col)
    return files


def rasterio_read(path: Path, window: Window | None = None, overview_level: int | None = None) -> np.ndarray:
    """rasterio's pixels with nodata as NaN: xarray masks the virtual store's ``_FillValue`` the same way
    (``rioxarray.open_rasterio(..., masked=True)``), turning uint16 into float32."""
    with rasterio.open(path, overview_level=overview_level) as src:
        return src.read(1, window=window, masked=True).astype(np.float32).filled(np.nan)


def as_slices(window: Window) -> dict[str, slice]:
    return {
        "y": slice(window.row_off, window.row_off + window.height),
        "x": slice(window.col_off, window.col_off + window.width),
    }


def check(label: str, got: np.ndarray, want: np.ndarray, failures: list[str]) -> None:
    got, want = np.asarray(got), np.asarray(want)
    ok = got.shape == want.shape and got.dtype == want.dtype and np.array_equal(
        got, want, equal_nan=got.dtype.kind == "f")
    print(f"  [{'ok' if ok else 'MISMATCH'}] {label}: {got.shape} {got.dtype}")
    if not ok:
        failures.append(label)


def check_true(label: str, ok: bool, failures: list[str]) -> None:
    print(f"  [{'ok' if ok else 'MISMATCH'}] {label}")
    if not ok:
        failures.append(label)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("quickstart-output"), help="output directory (default: ./quickstart-output)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    failures: list[str] = []

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    files = write_sample_cogs(out)
    paths = list(files)
    print(f"1. Wrote {len(paths)} sample COGs to {out}: {', '.join(p.name for p in paths)}")

    # One registry maps URL prefixes to obstore stores; for S3 you would register
    # {"s3://bucket": obstore.store.S3Store("bucket", region=...)} instead.
    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})

    print("2. One file as a Zarr store (VirtualTIFF), read through xarray")
    # ifd=0: only the full-resolution image (a COG's overview would clash with its y/x sizes in one flat
    # group); overview_level=0 picks the first overview, numbered as rasterio numbers them.
    first = paths[0].as_uri()
    ds_one = xr.open_zarr(VirtualTIFF(ifd=0)(url=first, registry=registry), zarr_format=3, consolidated=False)
    check(f"window of {paths[0].name} vs rasterio", ds_one["0"].isel(as_slices(WINDOW)).values,
          rasterio_read(paths[0], WINDOW), failures)
    overview = xr.open_zarr(VirtualTIFF(overview_level=0)(url=first, registry=registry), zarr_format=3,
                            consolidated=False)
    check(f"overview of {paths[0].name} vs rasterio overview_level=0", overview[next(iter(overview.data_vars))].values,
          rasterio_read(paths[0], overview_level=0), failures)
    codecs = ds_one.attrs["virtual_geotiff"]["custom_codecs"]
    print(f"  custom codecs needed to decode: {codecs or 'none (portable)'}")

    print("3. All files as one virtual cube (open_virtual_cube): tiles stitched, months stacked along time")
    cube = open_virtual_cube(paths, registry, stack_values=r"scene_(\d{6})_", stack_format="%Y%m")
    data = cube.dataset["data"]
    print(f"  data{dict(data.sizes)} {data.dtype}, chunks {data.data.metadata.chunks}, from {len(cube.sources)} files")

    print("4. Publish to a local Icechunk repository (create_repository + publish)")
    repo_path = out / "icechunk-repo"
    if repo_path.exists():
        shutil.rmtree(repo_path)
    storage = icechunk.local_filesystem_storage(str(repo_path))
    # The repository's virtual chunk containers (and read authorisation) cover exactly the cube's sources.
    repo = vic.create_repository(storage, cube.sources, registry=registry)
    result = vic.publish(cube, repo)
    print(f"  commit {result.snapshot_id}: {result.message}")

    print("5. Reopen the repository (open_repository) and check every file against rasterio")
    repo = vic.open_repository(icechunk.local_filesystem_storage(str(repo_path)), registry=registry)
    ds = xr.open_zarr(repo.readonly_session(branch="main").store, zarr_format=3, consolidated=False)
    check("time coordinate parsed from the file names", ds["time"].values,
          np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[ns]"), failures)
    spatial_ref = ds[ds["data"].attrs.get("grid_mapping", "spatial_ref")].attrs
    for path, (t, col) in files.items():
        block = ds["data"].isel(time=t, x=slice(col * SIZE, (col + 1) * SIZE))
        check(f"{path.name}: pixels at time={t}, x[{col * SIZE}:{(col + 1) * SIZE}] vs rasterio", block.values,
              rasterio_read(path), failures)
        with rasterio.open(path) as src:
            crs, transform = src.crs, src.transform
        cols, rows = np.arange(SIZE) + 0.5, np.arange(SIZE) + 0.5
        want_x = transform.c + cols * transform.a
        want_y = transform.f + rows * transform.e
        check_true(f"{path.name}: CRS and pixel-centre x/y (its transform) vs rasterio",
                   CRS.from_wkt(spatial_ref["crs_wkt"]) == crs
                   and np.allclose(block["x"].values, want_x, rtol=0, atol=1e-6)
                   and np.allclose(block["y"].values, want_y, rtol=0, atol=1e-6), failures)
    with rasterio.open(paths[0]) as west:  # the cube's transform is the top-left (west) tile's
        gdal = [float(v) for v in spatial_ref["GeoTransform"].split()]
        check_true(f"cube GeoTransform {spatial_ref['GeoTransform']!r} == rasterio's transform of {paths[0].name}",
                   np.allclose(gdal, west.transform.to_gdal(), rtol=0, atol=1e-9), failures)

    print("6. verify: are the published source files unchanged?")
    report = vic.verify(repo, registry=registry)
    print(f"  {report}")
    check_true("no drift", report.ok and report.checked == len(paths), failures)

    elapsed = time.perf_counter() - started
    print()
    print("Summary")
    print(f"  files             : {len(paths)} COGs ({len(MONTHS)} months x {len(TILES)} tiles)")
    print(f"  cube              : data{tuple(ds['data'].shape)} {ds['data'].encoding.get('dtype')} (read as "
          f"{ds['data'].dtype}, nodata -> NaN), dims {ds['data'].dims}")
    print(f"  chunks referenced : {result.total_references} (byte ranges into the TIFFs; no pixels copied)")
    print(f"  Icechunk repo     : {repo_path} (snapshot {result.snapshot_id})")
    print(f"  drift             : {'none' if report.ok else report.urls}")
    print(f"  time taken        : {elapsed:.1f} s")
    if failures:
        print(f"FAILED: {len(failures)} check(s) failed: {failures}", file=sys.stderr)
        return 1
    print("All checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
