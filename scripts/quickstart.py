"""Quick start: virtualise a small archive of Cloud-Optimized GeoTIFFs and commit it to Icechunk.

What it does (in under 30 seconds, all local, no network):

1. writes 4 small COGs (512 x 512 uint16, DEFLATE + predictor 2, 256-px tiles, EPSG:32633, one
   overview) with rasterio into the output directory;
2. builds the virtual Zarr store of one of them with ``VirtualTIFF`` and reads a window back through
   xarray, checking it against rasterio's read of the same window;
3. opens each file with ``virtualizarr.open_virtual_dataset(..., parser=VirtualTIFF(ifd=0))``,
   stacks them along a new ``time`` dimension and commits the references to an on-disk Icechunk
   repository (no pixel is copied: the repository holds byte ranges into the TIFFs);
4. reopens the repository read-only and checks a window against rasterio again.

Usage::

    python scripts/quickstart.py [--out DIR]

Needs rasterio (``pip install -e ".[quickstart]"``, or the ``test`` extra). Re-running overwrites the TIFFs
and the repository in the output directory. Exits with status 1 if any read-back differs from rasterio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

import icechunk
import numpy as np
import obstore
import rasterio
import virtualizarr
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from rasterio.transform import from_origin
from rasterio.windows import Window

from virtual_geotiff import VirtualTIFF

# zarr warns that numcodecs.* codec names are not in the Zarr v3 spec; they are still read by
# zarr-python, zarrs and zarrita.js (see README), so keep the quickstart output readable.
warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")
if "ICECHUNK_LOG" not in os.environ:  # hide the "LocalFileSystem is not safe for concurrent commits" warning
    icechunk.set_logs_filter("error")

N_FILES = 4
SIZE = 512
TILE = 256
# A window that crosses tile boundaries in both directions: (row_off, col_off, height, width).
WINDOW = Window(col_off=200, row_off=100, width=256, height=300)
DATES = np.array(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"], dtype="datetime64[ns]")


def write_sample_cogs(out: Path) -> list[Path]:
    """Four COGs of a smooth synthetic field that changes from month to month."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    rng = np.random.default_rng(42)
    profile = {
        "driver": "COG",
        "width": SIZE,
        "height": SIZE,
        "count": 1,
        "dtype": "uint16",
        "crs": "EPSG:32633",
        "transform": from_origin(500_000.0, 5_000_000.0, 10.0, 10.0),  # UTM 33N, 10 m pixels
        "nodata": 0,
        "compress": "DEFLATE",
        "predictor": 2,
        "blocksize": TILE,
        "overviews": "AUTO",  # one 256 x 256 overview for a 512 x 512 image
        "overview_resampling": "average",
    }
    paths = []
    for i in range(N_FILES):
        field = 1000 + 800 * np.sin((xx + 40 * i) / 60.0) * np.cos(yy / 45.0) + 20 * i
        data = (field + rng.normal(0, 5, field.shape)).clip(1, 65535).astype(np.uint16)
        path = out / f"scene_{i:02d}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data, 1)
        paths.append(path)
    return paths


def rasterio_window(path: Path, window: Window = WINDOW, overview_level: int | None = None) -> np.ndarray:
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
    ok = got.shape == want.shape and got.dtype == want.dtype and np.array_equal(
        got, want, equal_nan=got.dtype.kind == "f")
    print(f"  [{'ok' if ok else 'MISMATCH'}] {label}: {got.shape} {got.dtype}")
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
    print(f"1. Writing {N_FILES} sample COGs to {out}")
    paths = write_sample_cogs(out)
    urls = [p.as_uri() for p in paths]  # file:///abs/path/scene_00.tif

    # One registry maps URL prefixes to obstore stores; for S3 you would register
    # {"s3://bucket": obstore.store.S3Store("bucket", region=...)} instead.
    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})

    print("2. Virtual store of one file, read through xarray")
    # ifd=0: only the full-resolution image. With every IFD in one flat group, the overview's (y, x)
    # would clash with the full image's sizes in xarray; use ifd_layout="nested" to get them all.
    store = VirtualTIFF(ifd=0)(url=urls[0], registry=registry)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    check(
        "window of scene_00 via xr.open_zarr vs rasterio",
        ds["0"].isel(as_slices(WINDOW)).values,
        rasterio_window(paths[0]),
        failures,
    )
    nested = VirtualTIFF(ifd_layout="nested")(url=urls[0], registry=registry)
    overview = xr.open_zarr(nested, group="1", zarr_format=3, consolidated=False)["1"]
    check(
        "overview (IFD 1) of scene_00 vs rasterio overview_level=0",
        overview.values,
        rasterio_window(paths[0], Window(0, 0, SIZE // 2, SIZE // 2), 0),
        failures,
    )
    codecs = ds.attrs["virtual_geotiff"]["custom_codecs"]
    print(f"  custom codecs needed to decode: {codecs or 'none (portable)'}")

    print("3. Virtual datasets of all files, stacked along time, committed to Icechunk")
    vdss = [virtualizarr.open_virtual_dataset(url, registry=registry, parser=VirtualTIFF(ifd=0)) for url in urls]
    combined = xr.concat(vdss, dim="time", coords="minimal", compat="override")
    combined = combined.rename({"0": "data"}).assign_coords(time=("time", DATES))
    manifest = combined["data"].data.manifest
    n_chunks = int(sum(1 for _ in manifest.iter_nonempty_paths()))

    repo_path = out / "icechunk-repo"
    if repo_path.exists():
        shutil.rmtree(repo_path)
    storage = icechunk.local_filesystem_storage(str(repo_path))
    prefix = out.as_uri() + "/"  # every virtual reference starts with this
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(
        icechunk.VirtualChunkContainer(prefix, icechunk.local_filesystem_store(str(out)))
    )
    credentials = icechunk.containers_credentials({prefix: None})  # local files need no credentials
    repo = icechunk.Repository.create(storage, config, authorize_virtual_chunk_access=credentials)
    session = repo.writable_session("main")
    # Icechunk refuses chunks whose file changed after `last_updated_at` (stored in whole seconds):
    # stamp the newest file's modification time, rounded up.
    newest = math.ceil(max(p.stat().st_mtime for p in paths))
    combined.vz.to_icechunk(session.store, last_updated_at=dt.datetime.fromtimestamp(newest, dt.UTC))
    snapshot = session.commit(f"Virtual references to {N_FILES} sample COGs")

    print("4. Reopen the repository read-only and read through Icechunk")
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)
    readonly = repo.readonly_session(branch="main")
    ds_ic = xr.open_zarr(readonly.store, zarr_format=3, consolidated=False)
    last = N_FILES - 1
    check(
        f"window of time={last} via Icechunk vs rasterio",
        ds_ic["data"].isel(time=last, **as_slices(WINDOW)).values,
        rasterio_window(paths[last]),
        failures,
    )
    check("time coordinate round-trips", ds_ic["time"].values, DATES, failures)

    elapsed = time.perf_counter() - started
    print()
    print("Summary")
    print(f"  files virtualised : {N_FILES} ({', '.join(p.name for p in paths)})")
    print(
        f"  dataset           : data{tuple(ds_ic['data'].shape)} {ds_ic['data'].dtype}, "
        f"dims {ds_ic['data'].dims}, chunk grid {manifest.shape_chunk_grid} of {combined['data'].data.chunks}"
    )
    print(f"  chunks referenced : {n_chunks} (byte ranges into the TIFFs; no pixels copied)")
    print(f"  Icechunk repo     : {repo_path}")
    print(f"  snapshot id       : {snapshot}")
    print(f"  time taken        : {elapsed:.1f} s")
    if failures:
        print(f"FAILED: {len(failures)} check(s) differ from rasterio: {failures}", file=sys.stderr)
        return 1
    print("All checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
