"""Publish virtual references to a local Icechunk repository, then read them back through Icechunk.

    python scripts/examples/publish_icechunk.py            # 3 sample COGs + repo in ./examples-output
    python scripts/examples/publish_icechunk.py a.tif b.tif  # your own same-grid TIFFs, stacked along time

The repository stores byte ranges into the TIFFs, not pixels. Its virtual chunk container authorises
reads under the TIFFs' directory only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import shutil
import warnings
from pathlib import Path

import icechunk
import obstore
import virtualizarr
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_geotiff import VirtualTIFF

warnings.filterwarnings("ignore", message="Numcodecs codecs are not in the Zarr version 3 specification")
icechunk.set_logs_filter("error")  # hide "LocalFileSystem is not safe for concurrent commits"


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

    # One virtual dataset per file (headers only), stacked along a new "time" dimension.
    vdss = [virtualizarr.open_virtual_dataset(u, registry=registry, parser=VirtualTIFF(ifd=0)) for u in urls]
    cube = xr.concat(vdss, dim="time", coords="minimal", compat="override")

    # A virtual chunk container for the directory holding the TIFFs: Icechunk reads nothing outside it.
    root = Path(os.path.commonpath([p.parent for p in paths]))
    prefix = root.as_uri().rstrip("/") + "/"
    config = icechunk.RepositoryConfig.default()
    container = icechunk.VirtualChunkContainer(prefix, icechunk.local_filesystem_store(str(root)))
    config.set_virtual_chunk_container(container)
    credentials = icechunk.containers_credentials({prefix: None})
    repo_dir = out / "repo"
    shutil.rmtree(repo_dir, ignore_errors=True)
    storage = icechunk.local_filesystem_storage(str(repo_dir))
    repo = icechunk.Repository.create(storage, config, authorize_virtual_chunk_access=credentials)

    session = repo.writable_session("main")
    # Icechunk refuses chunks whose file changed after last_updated_at (whole seconds): stamp the newest mtime.
    newest = math.ceil(max(p.stat().st_mtime for p in paths))
    cube.vz.to_icechunk(session.store, last_updated_at=dt.datetime.fromtimestamp(newest, dt.UTC))
    snapshot = session.commit(f"virtual references to {len(paths)} TIFFs")
    print(f"committed snapshot {snapshot} to {repo_dir}")

    # Any process with virtual-geotiff installed (for its codecs) can now read the cube.
    repo = icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)
    ds = xr.open_zarr(repo.readonly_session(branch="main").store, zarr_format=3, consolidated=False)
    print(ds)
    last = ds["0"].isel(time=-1, y=slice(0, 256), x=slice(0, 256)).values
    print(f"time=-1 first tile: {last.shape} sum={float(last.sum(dtype='float64'))!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
