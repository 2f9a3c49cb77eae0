"""Where a many-small-tiles read spends its time: fetching chunk bytes per store path vs rasterio's whole read.

    python scripts/bench/read_components.py            # the small-tiles COG of the full archive

Fetches every chunk of ``small_tiles.tif`` (no decoding) four ways -- VirtualiZarr's ``ManifestStore.get``
per chunk, the grouped ``get_ranges`` path of ``GroupedReadPipeline``, Icechunk's ``get`` per chunk and
its ``get_partial_values`` per group -- and times rasterio's full decoded read alongside (interleaved, best
of ``--repeat``; wall and process CPU seconds). See docs/performance.md ("Not met").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ICECHUNK_NO_LOGS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases

GROUP = 8  # chunks per batched call (what GroupedReadPipeline uses for 128 KiB chunks)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=str(Path.home() / ".cache/virtual-geotiff-bench/full"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import icechunk as ic
    import numpy as np
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore
    from zarr.core.buffer import default_buffer_prototype

    from virtual_geotiff import VirtualTIFF
    from virtual_geotiff._upstream import manifest_group
    from virtual_geotiff.fastread.pipeline import _manifest_get_many
    from virtual_geotiff.icechunk import create_repository, open_repository, publish

    path = Path(args.root) / "small_tiles.tif"
    url = path.as_uri()
    reg = ObjectStoreRegistry({"file://": LocalStore()})
    proto = default_buffer_prototype()
    manifest_store = VirtualTIFF(ifd=0)(url, reg)
    grid = manifest_group(manifest_store).arrays["0"].manifest.shape_chunk_grid
    index = [f"{i}/{j}" for i in range(grid[0]) for j in range(grid[1])]
    mkeys = [f"0/c/{k}" for k in index]
    ikeys = [f"data/c/{k}" for k in index]

    async def per_key(store: Any, keys: list[str], limit: int = 10) -> list[Any]:
        gate = asyncio.Semaphore(limit)

        async def one(key: str) -> Any:
            async with gate:
                return await store.get(key, proto)

        return await asyncio.gather(*map(one, keys))

    async def grouped(fetch: Any, keys: list[str]) -> list[Any]:
        return await asyncio.gather(*(fetch(keys[i:i + GROUP]) for i in range(0, len(keys), GROUP)))

    with tempfile.TemporaryDirectory() as tmp:
        cube = cases.ours_cube([url], reg)
        storage = ic.local_filesystem_storage(tmp)
        publish(cube.dataset, create_repository(storage, cube.sources, registry=reg), sources=cube.sources,
                registry=reg)
        ic_store = open_repository(storage, registry=reg).readonly_session("main").store
        contenders = {
            "ManifestStore.get per chunk (10 in flight)": lambda: asyncio.run(per_key(manifest_store, mkeys)),
            f"ManifestStore keys, get_ranges per {GROUP}-chunk group": lambda: asyncio.run(grouped(
                lambda ks: _manifest_get_many(manifest_store, ks, proto), mkeys)),
            "Icechunk get per chunk (10 in flight)": lambda: asyncio.run(per_key(ic_store, ikeys)),
            f"Icechunk get_partial_values per {GROUP}-chunk group": lambda: asyncio.run(grouped(
                lambda ks: ic_store.get_partial_values(proto, [(k, None) for k in ks]), ikeys)),
            "rasterio ALL_CPUS, whole decoded read": lambda: cases.read_rasterio(str(path), None, "ALL_CPUS"),
        }
        best = {name: (np.inf, np.inf) for name in contenders}
        for _ in range(args.repeat):
            for name, fn in contenders.items():
                cpu, start = _cpu(), time.perf_counter()
                fn()
                wall, cpu = time.perf_counter() - start, _cpu() - cpu
                if wall < best[name][0]:
                    best[name] = (wall, cpu)
    print(f"{len(mkeys)} chunks of {path.name}; wall and CPU seconds, best of {args.repeat}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:55s} wall {wall:6.3f}  CPU {cpu:6.3f}")
    sys.stdout.flush()
    os._exit(0)  # icechunk/async-tiff runtime threads can abort a normal interpreter exit


if __name__ == "__main__":
    main()
