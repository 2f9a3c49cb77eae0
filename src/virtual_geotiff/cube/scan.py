"""The per-file step of a cube: read one header, pick its IFD, plan it into a small picklable ``PlannedIfd``.

A cube build is mostly header reads, so this is the only part that runs per file and the only part that
may run elsewhere: ``scan_sources`` reads every URL on one event loop (``tiff.headers.read_headers``), or hands
batches to ``concurrent.futures`` executors or a dask ``Client`` (``scan_batch`` is what each task runs) and
gets only the entries back. No per-file ``ManifestArray`` or Zarr metadata is made: the entry carries just
what placing the file on the cube grid needs.

A file that cannot be read or planned becomes a ``FailedSource`` in the result list, in the place of its
URL (``tiff.headers.split_failed`` and ``raise_failed`` turn such a list into the good entries and the error).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from concurrent.futures import Executor, as_completed
from functools import partial
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry

from .._sync import run_sync
from ..arrays.levels import pyramid_levels, read_header_with_sidecar, select_overview, with_dataset_metadata
from ..arrays.planned import PlannedIfd, ifd_georeference, plan_ifd
from ..errors import InvalidArgumentError
from ..geo import IfdGeoref
from ..limits import Limits
from ..tiff.headers import FailedSource, Progress, read_header, read_headers
from ..tiff.reader import IfdInfo, TiffHeader

__all__ = ["restore_crs", "scan_batch", "scan_source", "scan_sources"]


def scan_source(header: TiffHeader, limits: Limits, overview_level: int | None = None,
                crs_keys: dict[int, str] | None = None, sidecar: TiffHeader | None = None) -> PlannedIfd:
    """Plan the IFD a cube takes from one file: full resolution, or rasterio's ``overview_level`` (internal
    overviews, else the ``.ovr`` ``sidecar``'s; the entry then references the sidecar)."""
    header, ifd, georef = _select_ifd(header, overview_level, sidecar)
    planned = plan_ifd(ifd, header, limits)
    crs = georef.crs
    crs_keys = {} if crs_keys is None else crs_keys
    if crs is None:
        wkt = ""
    else:
        wkt = crs_keys.get(id(crs))
        if wkt is None:
            wkt = crs_keys[id(crs)] = crs.to_wkt(version="WKT2_2019")
    return dataclasses.replace(planned, georef=georef, grid_key=f"{wkt}|point={georef.pixel_is_point}")


def _select_ifd(header: TiffHeader, overview_level: int | None, sidecar: TiffHeader | None,
                ) -> tuple[TiffHeader, IfdInfo, IfdGeoref]:
    main = header.ifds[0]
    if overview_level is None:
        return header, main, ifd_georeference(main, header)
    level = select_overview(pyramid_levels(header, sidecar), overview_level, header.url)
    return level.header, with_dataset_metadata(level.ifd, main), level.georef


async def _scan_one(url: str, registry: ObjectStoreRegistry, limits: Limits, *, overview_level: int | None,
                    crs_keys: dict[int, str]) -> PlannedIfd:
    if overview_level is None:
        return scan_source(await read_header(url, registry, limits), limits, None, crs_keys)
    # the parser's rule for which headers a level needs: the .ovr only when there is no internal overview
    header, sidecar = await read_header_with_sidecar(url, registry, limits, sidecar=True)
    return scan_source(header, limits, overview_level, crs_keys, sidecar)


def scan_batch(urls: Sequence[str], registry: ObjectStoreRegistry, limits: Limits, overview_level: int | None,
               concurrency: int) -> list[PlannedIfd | FailedSource]:
    """Scan ``urls`` on one event loop (what each executor task runs), ready to travel back: entries keep
    their CRS only for the first file of each grid, so a batch pickles one CRS per grid rather than one per
    file (``restore_crs`` puts it back), and their IFD without offsets and byte counts (the layout holds them)."""
    crs_keys: dict[int, str] = {}
    scan = partial(_scan_one, overview_level=overview_level, crs_keys=crs_keys)
    results = run_sync(read_headers(urls, registry, limits, concurrency=concurrency, read=scan))
    seen: set[str] = set()
    for i, entry in enumerate(results):
        if isinstance(entry, PlannedIfd):
            results[i] = entry.for_shipping(keep_crs=entry.grid_key not in seen)
            seen.add(entry.grid_key)
    return results


def restore_crs(batch: list[PlannedIfd | FailedSource]) -> list[PlannedIfd | FailedSource]:
    """A shipped batch (``scan_batch``) with every entry's CRS back, from the first entry of its grid."""
    first: dict[str, PlannedIfd] = {}
    out: list[PlannedIfd | FailedSource] = []
    for entry in batch:
        if isinstance(entry, PlannedIfd):
            rep = first.setdefault(entry.grid_key, entry)
            entry = entry if rep is entry else entry.with_crs_of(rep)
        out.append(entry)
    return out


def scan_sources(urls: list[str], registry: ObjectStoreRegistry, limits: Limits, overview_level: int | None,
                 concurrency: int, progress: Progress | None, executor: Any, batch_size: int,
                 ) -> list[PlannedIfd | FailedSource]:
    """One ``PlannedIfd`` or ``FailedSource`` per URL, in order: here on one event loop, or in batches of
    ``batch_size`` on ``executor`` (a failed task fails each file of its batch, never the whole scan)."""
    if executor is None:
        scan = partial(_scan_one, overview_level=overview_level, crs_keys={})
        return run_sync(read_headers(urls, registry, limits, concurrency=concurrency, progress=progress,
                                     read=scan))
    if hasattr(executor, "get_executor") and not isinstance(executor, Executor):  # a dask distributed Client
        executor = executor.get_executor()
    if not hasattr(executor, "submit"):
        raise InvalidArgumentError(f"executor must be a concurrent.futures.Executor or a dask Client, got "
                                   f"{type(executor).__name__}")
    batches = [urls[i:i + batch_size] for i in range(0, len(urls), batch_size)]
    futures = {executor.submit(scan_batch, batch, registry, limits, overview_level, concurrency): k
               for k, batch in enumerate(batches)}
    out: list[list[Any]] = [[] for _ in batches]
    done = 0
    for future in as_completed(futures):
        k = futures[future]
        try:
            out[k] = restore_crs(future.result())
        except Exception as exc:  # the task itself failed (worker died, unpicklable store...): each file failed
            out[k] = [FailedSource(u, exc) for u in batches[k]]
        done += len(batches[k])
        if progress is not None:
            progress(done, len(urls), batches[k][-1])
    return [r for batch in out for r in batch]

