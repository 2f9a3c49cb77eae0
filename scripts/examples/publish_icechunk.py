"""Publish a virtual cube to a local Icechunk repository, then read it back through Icechunk.

    python scripts/examples/publish_icechunk.py            # 3 sample COGs + repo in ./examples-output
    python scripts/examples/publish_icechunk.py a.tif b.tif  # your own same-grid TIFFs, stacked along time

The repository stores byte ranges into the TIFFs, not pixels, each with its file's checksum (ETag or
modification time), so a read after a source changed fails instead of returning other pixels; its virtual
chunk container authorises reads under the TIFFs' directory only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import warnings
from pathlib import Path

os.environ.setdefault("ICECHUNK_NO_LOGS", "1")  # before icechunk is imported: its per-reference logging is slow

import icechunk
import obstore
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import icechunk as vic
from virtual_geotiff.cube import open_virtual_cube

warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="TIFFs on one grid (default: 3 sample COGs)")
    parser.add_argument("--out", type=Path, default=Path("examples-output"), help="sample files and the repo")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    paths = [p.resolve() for p in args.paths]
    if not paths:
        from _sample import write_sample_cog

        paths = [write_sample_cog(out / "stack" / f"scene_{i}.tif", seed=i) for i in range(3)]
    urls = [p.as_uri() for p in paths]
    registry = ObjectStoreRegistry({"file://": obstore.store.LocalStore()})

    # Headers only, read concurrently: one virtual cube stacked along a new "time" dimension (0, 1, 2, ...).
    cube = open_virtual_cube(urls, registry, stack_dim="time", stack_values=list(range(len(urls))))

    # A repository whose virtual chunk container covers exactly the TIFFs' directory, then one commit.
    repo_dir = out / "repo"
    shutil.rmtree(repo_dir, ignore_errors=True)
    storage = icechunk.local_filesystem_storage(str(repo_dir))
    repo = vic.create_repository(storage, cube.sources, registry=registry)
    result = vic.publish(cube, repo)
    print(f"committed snapshot {result.snapshot_id} to {repo_dir}: {result.message}")

    # Any process with virtual-geotiff installed (for its codecs) can now read the cube.
    repo = vic.open_repository(storage, registry=registry)
    ds = xr.open_zarr(repo.readonly_session(branch="main").store, zarr_format=3, consolidated=False)
    print(ds)
    name = next(iter(ds.data_vars))
    last = ds[name].isel(time=-1, y=slice(0, 256), x=slice(0, 256)).values
    print(f"time=-1 first tile: {last.shape} sum={float(last.sum(dtype='float64'))!r}")
    print(vic.verify(repo, registry=registry))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
