"""One function per measured thing. Each returns seconds (or a dict of counts) for one repetition.

Contenders: ``ours`` (``open_virtual_cube`` / ``VirtualTIFF``), ``vt`` (virtual-tiff 0.5.0 over
VirtualiZarr 2.8, the reference), ``raw`` (``async_tiff.TIFF.open`` for every file under one
``asyncio.gather``: the floor of any async-tiff based reader), ``tifffile`` and ``rasterio``.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


# -- building many files ------------------------------------------------------------------------------


def ours_cube(urls: Sequence[str], registry: Any, *, per_stack: int | None = None, concurrency: int = 128) -> Any:
    """One stitched cube (``per_stack`` files per time step when stacking repeats of the grid)."""
    from virtual_geotiff.cube import open_virtual_cube

    values = None if per_stack is None or per_stack >= len(urls) else [i // per_stack for i in range(len(urls))]
    return open_virtual_cube(urls, registry, stack_values=values, concurrency=concurrency)


def vt_loop(urls: Sequence[str], registry: Any) -> None:
    from virtual_tiff import VirtualTIFF

    parser = VirtualTIFF()
    for url in urls:
        parser(url=url, registry=registry)


def vt_threads(urls: Sequence[str], registry: Any, threads: int = 32) -> None:
    from virtual_tiff import VirtualTIFF

    parser = VirtualTIFF()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda u: parser(url=u, registry=registry), urls))


def vt_open_virtual_dataset_loop(urls: Sequence[str], registry: Any) -> None:
    from virtual_tiff import VirtualTIFF
    from virtualizarr import open_virtual_dataset

    parser = VirtualTIFF(ifd=0)
    for url in urls:
        open_virtual_dataset(url, registry=registry, parser=parser)


def vt_mfdataset(grid: Sequence[Sequence[str]], registry: Any) -> Any:
    """virtual-tiff's best stitched mode: ``open_virtual_mfdataset`` with threads, nested 2-D combine."""
    from virtual_tiff import VirtualTIFF
    from virtualizarr import open_virtual_mfdataset

    return open_virtual_mfdataset([list(row) for row in grid], registry=registry, parser=VirtualTIFF(ifd=0),
                                  combine="nested", concat_dim=["y", "x"], parallel=ThreadPoolExecutor)


def raw_async_tiff(paths: Sequence[str], store: Any, concurrency: int = 200) -> None:
    from async_tiff import TIFF

    async def main() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(path: str) -> None:
            async with gate:
                await TIFF.open(path, store=store)

        await asyncio.gather(*(one(p) for p in paths))

    asyncio.run(main())


def tifffile_loop(paths: Sequence[str]) -> None:
    import tifffile

    for path in paths:
        with tifffile.TiffFile(path) as tif:
            for page in tif.pages:
                page.dataoffsets  # noqa: B018  (parse every IFD's offsets, as a virtual reader must)


# -- Icechunk -----------------------------------------------------------------------------------------


def ours_publish(cube: Any, root: str, registry: Any) -> int:
    import icechunk as ic

    from virtual_geotiff.icechunk import create_repository, publish

    repo = create_repository(ic.local_filesystem_storage(root), cube.sources, registry=registry)
    result = publish(cube.dataset, repo, sources=cube.sources, registry=registry)
    return result


def icechunk_alone(dataset: Any, sources: Any, root: str, registry: Any) -> tuple[float, float]:
    """Seconds Icechunk itself needs for ``dataset``'s references: ONE ``set_virtual_refs_arr`` per array for
    the whole chunk grid (locations, offsets and lengths prepared beforehand, untimed; no per-file checksums)
    and the commit. Returns (set seconds, commit seconds).

    No writer on Icechunk 2's API stores these references faster: this is the ceiling for ``publish`` (which
    adds one call per checksum group) and ``to_icechunk`` alike."""
    import icechunk as ic
    import zarr
    from virtualizarr.manifests import ManifestArray

    from virtual_geotiff.icechunk import create_repository
    from virtual_geotiff.manifest import references

    repo = create_repository(ic.local_filesystem_storage(root), sources, registry=registry)
    session = repo.writable_session("main")
    group = zarr.open_group(session.store, mode="w", zarr_format=3)
    work = []
    for name, var in dataset.variables.items():
        if not isinstance(var.data, ManifestArray):
            continue
        refs = references(var.data.manifest)
        if not refs.referenced.any():
            continue
        group.create_array(str(name), shape=var.shape, chunks=var.data.metadata.chunks, dtype=var.dtype)
        work.append((str(name), refs.paths.shape, refs.paths.ravel().tolist(),
                     np.ascontiguousarray(refs.offsets.ravel(), dtype=np.uint64),
                     np.ascontiguousarray(refs.lengths.ravel(), dtype=np.uint64)))
    start = time.perf_counter()
    for name, grid, locations, offsets, lengths in work:
        session.store.set_virtual_refs_arr(name, grid, locations, offsets, lengths, validate_containers=False)
    set_seconds = time.perf_counter() - start
    start = time.perf_counter()
    session.commit("Icechunk alone")
    return set_seconds, time.perf_counter() - start


def vz_to_icechunk(cube: Any, root: str, registry: Any) -> None:
    import icechunk as ic

    from virtual_geotiff.icechunk import create_repository

    repo = create_repository(ic.local_filesystem_storage(root), cube.sources, registry=registry)
    session = repo.writable_session("main")
    cube.dataset.vz.to_icechunk(session.store)
    session.commit("virtualizarr to_icechunk")


def chunk_count(dataset: Any) -> int:
    from virtualizarr.manifests import ManifestArray

    return sum(int(np.prod(v.data.manifest.shape_chunk_grid)) for v in dataset.variables.values()
               if isinstance(v.data, ManifestArray))


# -- decoded reads ------------------------------------------------------------------------------------


def windows(size: int, block: int, count: int = 4, width: int = 1024) -> list[tuple[slice, slice]]:
    """``count`` windows of ``width`` px, starting half a tile off the grid (each touches several tiles)."""
    out = []
    for i in range(count):
        start = min(block // 2 + i * 2 * width, size - width)
        out.append((slice(start, start + width), slice(start, start + width)))
    return out


def read_zarr(array: Any, window: tuple[slice, slice] | None) -> np.ndarray:
    return array[:] if window is None else array[window]


def read_rasterio(path: str, window: tuple[slice, slice] | None, threads: str) -> np.ndarray:
    import rasterio
    from rasterio.windows import Window

    with rasterio.Env(GDAL_NUM_THREADS=threads, GDAL_CACHEMAX=256), rasterio.open(path) as src:
        if window is None:
            return src.read(1)
        rows, cols = window
        return src.read(1, window=Window(cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start))
