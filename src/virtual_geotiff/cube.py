"""``open_virtual_cube``: many GeoTIFFs on one grid as one virtual datacube (stitched and/or stacked).

The publisher's workflow: hundreds to millions of COGs in object storage become one ``xarray.Dataset`` of
VirtualiZarr ``ManifestArray`` variables that Icechunk or kerchunk can publish. Steps, each with one job:

1. **Scan** (``scan_source``, run for every URL on one event loop by ``headers.read_headers``): read the
   header, pick the IFD (full resolution or ``overview_level``), and plan it with the parser's own
   helpers (``plan_ifd``: chunk layout + codec chain; ``ifd_georeference``: CRS + transform). The result
   is a small picklable ``SourceEntry``; no per-file ``ManifestArray`` or Zarr metadata is made, which is
   what makes a build cost little more than its header reads. With ``executor=`` the scan runs in
   batches on other processes or machines (``concurrent.futures`` executors, dask ``Client``) and only
   the entries travel back.
2. **Grid**: every file must lie on one north-up grid: same CRS, same resolution, origins an integral
   number of pixels apart. The cube's transform is the top-left file's; each file's pixel offset follows.
   Files that do not fit are listed with what differs (``IncompatibleSourcesError``). Nothing is ever
   resampled or mosaicked: overlapping files are an error, not a blend.
3. **Curate**: ``bands`` (1-based, separate-plane files only: a chunky chunk holds every band),
   ``bbox`` (in CRS units, widened outward to whole chunks), ``overview_level`` (rasterio numbering).
4. **Assemble**: per stack position, the files are placed by ``stitch.place_blocks`` (numpy block
   assignment of paths/offsets/lengths into one preallocated manifest; chunk-aligned offsets, equal
   dtype/codecs/chunks/fill value, checked per file). Stacking adds a leading dimension (``time`` from a
   filename pattern, a callable or a list; ``band`` from file names). Coordinates (``x``/``y``,
   ``spatial_ref``, the stack coordinate) are computed once for the whole cube as numpy arrays, so they
   are written as real arrays when published.

Bad files: ``on_error="raise"`` (default) reads every header, then raises ``FailedSourcesError`` listing
each failed file and why; ``on_error="skip"`` builds from the good ones and reports the rest in
``VirtualCube.failed``. Holes in a stitched grid (no file covers a chunk) read as the fill value (the
files' nodata, else 0).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, Literal

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray

from .codecs.mapping import CodecPlan
from .errors import FailedSourcesError, IncompatibleSourcesError, InvalidArgumentError, where
from .geo import IfdGeoref
from .geo.attrs import spatial_ref_attributes
from .geo.coords import coordinate_attrs, pixel_centers
from .geo.transform import GeoTransform
from .headers import DEFAULT_CONCURRENCY, FailedSource, Progress, check_concurrency, read_headers
from .layout import ChunkLayout
from .limits import Limits
from .manifest import array_metadata, normalize_url, pad_leading
from .parser import ifd_attributes, ifd_georeference, plan_ifd, read_header, store_attributes
from .sources import SourceStamp
from .stitch import Block, place_blocks
from .tiff.reader import IfdInfo, TiffHeader

__all__ = ["SourceEntry", "VirtualCube", "open_virtual_cube", "scan_source"]

OnError = Literal["raise", "skip"]
StackValues = Sequence[Any] | Callable[[str], Any] | str | None

#: Origins closer than this fraction of a pixel to the grid count as on it (float noise in tie points).
PIXEL_TOLERANCE = 1e-4
#: Resolutions equal to this relative precision are the same.
RESOLUTION_TOLERANCE = 1e-9
_EMPTY = np.zeros(0, dtype=np.uint64)


# ---------------------------------------------------------------------------------------------- results


@dataclass
class VirtualCube:
    """A built cube: the virtual dataset, the identity of every source it references, and failed files."""

    dataset: Any  # xarray.Dataset of ManifestArray variables and numpy coordinates
    sources: dict[str, SourceStamp]
    failed: dict[str, str] = field(default_factory=dict)
    #: The exceptions behind ``failed`` (same keys), for callers that want the type.
    errors: dict[str, BaseException] = field(default_factory=dict)

    def to_kerchunk(self, filepath: str | os.PathLike[str] | None = None, *,
                    format: Literal["dict", "json", "parquet"] = "dict", **kwargs: Any) -> Any:
        """Kerchunk references of the cube (``format`` "dict", "json" or "parquet"); ``KerchunkExportError``
        names each variable whose codecs Zarr v2 metadata cannot express (see ``virtual_geotiff.kerchunk``)."""
        from .kerchunk import to_kerchunk

        return to_kerchunk(self.dataset, filepath, format=format, **kwargs)


@dataclass(frozen=True, eq=False)
class SourceEntry:
    """One scanned file: the chosen IFD planned by the parser's helpers, ready to place on the cube grid."""

    url: str
    stamp: SourceStamp | None
    ifd: IfdInfo  # for attributes (shipped from executors without its offsets: they live in ``layout``)
    layout: ChunkLayout
    plan: CodecPlan
    transform: GeoTransform | None
    #: The CRS as WKT ("" for none) plus the raster-space convention: files must share it to share a grid.
    grid_key: str
    #: dtype, chunk shape, dims, leading shape and codec chain (as text): what must match to share an array.
    codec_key: tuple[Any, ...]
    #: The file's georeferencing (its CRS is shared through ``scan_batch``'s representatives when shipped).
    georef: IfdGeoref | None = None


def scan_source(header: TiffHeader, limits: Limits, overview_level: int | None = None,
                crs_keys: dict[int, str] | None = None, sidecar: TiffHeader | None = None) -> SourceEntry:
    """Plan the IFD a cube takes from one file: full resolution, or rasterio's ``overview_level`` (internal
    overviews, else the ``.ovr`` ``sidecar``'s; the entry then references the sidecar)."""
    header, ifd, georef = _select_ifd(header, overview_level, sidecar)
    layout, plan = plan_ifd(ifd, header, limits)
    crs = georef.crs
    crs_keys = {} if crs_keys is None else crs_keys
    if crs is None:
        wkt = ""
    else:
        wkt = crs_keys.get(id(crs))
        if wkt is None:
            wkt = crs_keys[id(crs)] = crs.to_wkt(version="WKT2_2019")
    grid_key = f"{wkt}|point={georef.pixel_is_point}"
    codec_key = (str(plan.dtype), layout.chunks, layout.dims, layout.shape[:-2], repr(plan.codecs))
    return SourceEntry(url=header.url, stamp=header.stamp, ifd=ifd, layout=layout, plan=plan,
                       transform=georef.transform if georef.has_xy else None, grid_key=grid_key,
                       codec_key=codec_key, georef=georef)


def _select_ifd(header: TiffHeader, overview_level: int | None, sidecar: TiffHeader | None,
                ) -> tuple[TiffHeader, IfdInfo, IfdGeoref]:
    main = header.ifds[0]
    if overview_level is None:
        return header, main, ifd_georeference(main, header)
    from .multiscale import pyramid_levels, select_overview, with_dataset_metadata

    level = select_overview(pyramid_levels(header, sidecar), overview_level, header.url)
    return level.header, with_dataset_metadata(level.ifd, main), level.georef


async def _scan_one(url: str, registry: ObjectStoreRegistry, limits: Limits, *, overview_level: int | None,
                    crs_keys: dict[int, str]) -> SourceEntry:
    if overview_level is None:
        return scan_source(await read_header(url, registry, limits), limits, None, crs_keys)
    from .parser import VirtualTIFF

    # the parser's own rule for which headers a level needs (the .ovr only without internal overviews)
    header, sidecar = await VirtualTIFF(overview_level=overview_level, limits=limits).read_headers(url, registry)
    return scan_source(header, limits, overview_level, crs_keys, sidecar)


def scan_batch(urls: Sequence[str], registry: ObjectStoreRegistry, limits: Limits, overview_level: int | None,
               concurrency: int) -> list[SourceEntry | FailedSource]:
    """Scan ``urls`` on one event loop (what each executor task runs). Entries keep their georeferencing
    only for the first file of each grid, so a batch pickles one CRS per grid rather than one per file, and
    their IFD without its offsets and byte counts (the layout holds them)."""
    from ._sync import run_sync

    crs_keys: dict[int, str] = {}
    scan = partial(_scan_one, overview_level=overview_level, crs_keys=crs_keys)
    results = run_sync(read_headers(urls, registry, limits, concurrency=concurrency, read=scan))
    seen: set[str] = set()
    for i, entry in enumerate(results):
        if isinstance(entry, SourceEntry):
            light = dataclasses.replace(entry.ifd, offsets=_EMPTY, byte_counts=_EMPTY)
            georef = None if entry.grid_key in seen else entry.georef
            results[i] = dataclasses.replace(entry, ifd=light, georef=georef)
            seen.add(entry.grid_key)
    return results


# ---------------------------------------------------------------------------------------------- arguments


def _basename(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def resolve_stack_values(urls: Sequence[str], stack_values: StackValues, stack_format: str | None) -> list[Any]:
    """One stack coordinate value per URL: from a list, a callable of the URL, or a regex searched in the
    file name (group ``value``, else group 1, else the whole match), parsed with ``stack_format``
    (``datetime.strptime``) when given."""
    if callable(stack_values):
        values = [stack_values(u) for u in urls]
    elif isinstance(stack_values, str):
        pattern = re.compile(stack_values)
        values, missing = [], []
        for url in urls:
            m = pattern.search(_basename(url))
            if m is None:
                missing.append(url)
                continue
            values.append(m.group("value") if "value" in pattern.groupindex else m.group(1) if m.groups()
                          else m.group(0))
        if missing:
            raise InvalidArgumentError(
                f"stack_values pattern {stack_values!r} matches no part of the file name of {len(missing)} "
                f"URL(s): {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
            )
    else:
        values = list(stack_values)  # type: ignore[arg-type]
        if len(values) != len(urls):
            raise InvalidArgumentError(f"stack_values has {len(values)} values for {len(urls)} URLs")
    if stack_format is not None:
        try:
            values = [datetime.strptime(str(v), stack_format) for v in values]
        except ValueError as exc:
            raise InvalidArgumentError(f"stack_format {stack_format!r}: {exc}") from None
    return values


def _as_coordinate(values: list[Any]) -> np.ndarray:
    if values and all(isinstance(v, datetime | date | np.datetime64) for v in values):
        return np.array(values, dtype="datetime64[ns]")
    return np.asarray(values)


def _normalize_urls(urls: Iterable[str | os.PathLike[str]]) -> list[str]:
    if isinstance(urls, str | os.PathLike):
        raise InvalidArgumentError("urls must be a sequence of URLs or paths, not one string")
    out = [normalize_url(os.fspath(u)) for u in urls]
    if not out:
        raise InvalidArgumentError("urls is empty: a cube needs at least one file")
    dupes = sorted({u for u in out if out.count(u) > 1}) if len(set(out)) != len(out) else []
    if dupes:
        raise InvalidArgumentError(f"urls lists these files more than once: {', '.join(dupes[:5])}")
    return out


# ---------------------------------------------------------------------------------------------- the builder


def open_virtual_cube(
    urls: Iterable[str | os.PathLike[str]],
    registry: ObjectStoreRegistry,
    *,
    stack_dim: str | None = None,
    stack_values: StackValues = None,
    stack_format: str | None = None,
    stitch: bool = True,
    bands: Sequence[Any] | None = None,
    overview_level: int | None = None,
    bbox: Sequence[float] | None = None,
    name: str = "data",
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    on_error: OnError = "raise",
    executor: Executor | Any | None = None,
    batch_size: int = 256,
    limits: Limits | None = None,
) -> VirtualCube:
    """Build one virtual datacube from many GeoTIFFs lying on one grid.

    Parameters
    ----------
    urls
        Local paths or URLs (``file://``, ``s3://``, ``https://``) the ``registry`` resolves.
    stack_dim, stack_values, stack_format
        Stack along a new leading dimension ``stack_dim`` (default ``"time"`` when ``stack_values`` is
        given). ``stack_values``: one value per URL (a list), a callable of the URL, or a regex searched in
        the file name (group ``value`` / group 1 / whole match); ``stack_format`` parses the strings with
        ``datetime.strptime`` (e.g. ``"%Y%m%d"``). Files with the same value are stitched together.
    stitch
        Place files side by side on their common grid. ``False``: every stack position holds exactly one
        file and all files cover the same footprint.
    bands
        1-based band numbers to keep from multi-band files (files must store bands as separate planes), or,
        with ``stack_dim="band"``, the stack values to keep.
    overview_level
        ``None``: full resolution; ``k``: rasterio's ``overview_level=k`` (0 is the first overview).
    bbox
        ``(minx, miny, maxx, maxy)`` in the files' CRS units; widened outward to whole chunks.
    name
        Name of the data variable.
    concurrency, progress
        Header reads in flight; ``progress(done, total, url)`` after each file (per batch with an executor).
    on_error
        ``"raise"``: list every unreadable file in one ``FailedSourcesError``; ``"skip"``: build from the
        others and report them in ``VirtualCube.failed``.
    executor, batch_size
        Scan in batches of ``batch_size`` URLs on a ``concurrent.futures.Executor`` or a dask
        ``distributed.Client``; the cube is assembled locally from the returned entries.
    """
    if on_error not in ("raise", "skip"):
        raise InvalidArgumentError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    check_concurrency(concurrency)
    if overview_level is not None and (not isinstance(overview_level, int) or overview_level < 0):
        raise InvalidArgumentError(f"overview_level must be None or a non-negative int, got {overview_level!r}")
    if bbox is not None:
        bbox = tuple(float(v) for v in bbox)
        if len(bbox) != 4 or not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            raise InvalidArgumentError(f"bbox must be (minx, miny, maxx, maxy) with min < max, got {bbox!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be a positive int, got {batch_size!r}")
    limits = limits or Limits()
    url_list = _normalize_urls(urls)
    if stack_values is not None and stack_dim is None:
        stack_dim = "time"
    if stack_dim is not None and stack_values is None:
        raise InvalidArgumentError(f"stack_dim={stack_dim!r} needs stack_values (a list, callable or pattern)")
    values = resolve_stack_values(url_list, stack_values, stack_format) if stack_dim is not None else None

    if values is not None and stack_dim == "band" and bands is not None:
        keep = set(bands)
        selected = [i for i, v in enumerate(values) if v in keep]
        url_list = [url_list[i] for i in selected]
        values = [values[i] for i in selected]
        bands = None
        if not url_list:
            raise InvalidArgumentError("bands= keeps none of the files' band names")

    results = _scan(url_list, registry, limits, overview_level, concurrency, progress, executor, batch_size)
    failed = {r.url: r for r in results if isinstance(r, FailedSource)}
    if failed and on_error == "raise":
        raise FailedSourcesError.from_failures(failed)
    keep = [i for i, r in enumerate(results) if not isinstance(r, FailedSource)]
    if not keep:
        raise FailedSourcesError.from_failures(failed)
    entries: list[SourceEntry] = [results[i] for i in keep]  # type: ignore[misc]
    kept_values = None if values is None else [values[i] for i in keep]
    dataset, used = _assemble(entries, kept_values, stack_dim, stitch=stitch, bands=bands, bbox=bbox, name=name)
    sources = {e.url: e.stamp or SourceStamp(e.url) for e in used}
    return VirtualCube(dataset=dataset, sources=sources, failed={u: f.reason for u, f in failed.items()},
                       errors={u: f.error for u, f in failed.items()})


def _scan(urls: list[str], registry: ObjectStoreRegistry, limits: Limits, overview_level: int | None,
          concurrency: int, progress: Progress | None, executor: Any, batch_size: int,
          ) -> list[SourceEntry | FailedSource]:
    if executor is None:
        from ._sync import run_sync

        scan = partial(_scan_one, overview_level=overview_level, crs_keys={})
        return run_sync(read_headers(urls, registry, limits, concurrency=concurrency, progress=progress,
                                     read=scan))
    if hasattr(executor, "get_executor") and not isinstance(executor, Executor):  # a dask distributed Client
        executor = executor.get_executor()
    if not hasattr(executor, "submit"):
        raise InvalidArgumentError(f"executor must be a concurrent.futures.Executor or a dask Client, got "
                                   f"{type(executor).__name__}")
    from concurrent.futures import as_completed

    batches = [urls[i:i + batch_size] for i in range(0, len(urls), batch_size)]
    futures = {executor.submit(scan_batch, batch, registry, limits, overview_level, concurrency): k
               for k, batch in enumerate(batches)}
    out: list[list[Any]] = [[] for _ in batches]
    done = 0
    for future in as_completed(futures):
        k = futures[future]
        try:
            out[k] = future.result()
        except Exception as exc:  # the task itself failed (worker died, unpicklable store...): each file failed
            out[k] = [FailedSource(u, exc) for u in batches[k]]
        done += len(batches[k])
        if progress is not None:
            progress(done, len(urls), batches[k][-1])
    return [r for batch in out for r in batch]


# ---------------------------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class _Grid:
    """The cube's pixel grid: its transform (pixel corners, GDAL order) and size."""

    transform: GeoTransform | None
    height: int
    width: int


def _problem(problems: dict[str, list[str]], url: str, text: str) -> None:
    problems.setdefault(url, []).append(text)


def _check_compatible(entries: list[SourceEntry]) -> None:
    """Same dtype/codecs/chunks/dims and same CRS/raster convention for every file, or a listed error."""
    first = entries[0]
    problems: dict[str, list[str]] = {}
    names = ("dtype", "chunk shape", "dimensions", "leading shape (bands)", "codecs")
    for e in entries[1:]:
        if e.codec_key != first.codec_key:
            for label, a, b in zip(names, e.codec_key, first.codec_key):
                if a != b:
                    _problem(problems, e.url, f"{label} {_short(a)} (expected {_short(b)} as in {first.url})")
        if e.grid_key != first.grid_key:
            crs, point = e.grid_key.rsplit("|", 1)
            crs0, point0 = first.grid_key.rsplit("|", 1)
            if crs != crs0:
                _problem(problems, e.url, f"CRS {_crs_name(crs)} (expected {_crs_name(crs0)} as in {first.url})")
            if point != point0:
                _problem(problems, e.url, f"raster type {'PixelIsPoint' if 'True' in point else 'PixelIsArea'} "
                                          f"differs from {first.url}")
        if (e.transform is None) != (first.transform is None):
            _problem(problems, e.url, "is not georeferenced" if e.transform is None else
                     f"is georeferenced while {first.url} is not")
    if problems:
        raise IncompatibleSourcesError.from_problems(
            "cannot combine these files into one cube", problems,
            "every file must share dtype, codec chain, chunk shape and CRS; rewrite the odd ones out "
            "(gdal_translate / gdalwarp) or leave them out")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:200] + "..."


def _crs_name(wkt: str) -> str:
    if not wkt:
        return "none"
    m = re.match(r'\w+\["([^"]*)"', wkt)
    return repr(m.group(1)) if m else wkt[:60]


def _positions(entries: list[SourceEntry], grid: _Grid | None = None) -> tuple[_Grid, list[tuple[int, int]]]:
    """The common grid and each file's pixel (row, col) on it; lists files off the grid.

    ``grid``: place the files on this grid (computed from a larger set of files, e.g. every band of a
    resolution group, so that the group's variables share x/y) instead of the files' own bounding grid."""
    first = entries[0]
    if first.transform is None:
        return _Grid(None, max(e.layout.shape[-2] for e in entries), max(e.layout.shape[-1] for e in entries)), \
            [(0, 0)] * len(entries)
    _, a0, _, _, _, e0 = first.transform if grid is None or grid.transform is None else grid.transform
    problems: dict[str, list[str]] = {}
    for e in entries:
        _, a, b, _, d, ee = e.transform  # type: ignore[misc]
        if b != 0.0 or d != 0.0:
            _problem(problems, e.url, f"rotated/sheared grid (GeoTransform {e.transform})")
        if abs(a - a0) > RESOLUTION_TOLERANCE * abs(a0) or abs(ee - e0) > RESOLUTION_TOLERANCE * abs(e0):
            _problem(problems, e.url, f"resolution ({a}, {ee}) (expected ({a0}, {e0}) as in {first.url})")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot place these files on one grid", problems)
    cs = np.array([e.transform[0] for e in entries])  # type: ignore[index]
    fs = np.array([e.transform[3] for e in entries])  # type: ignore[index]
    x0 = cs.min() if a0 > 0 else cs.max()
    y0 = fs.max() if e0 < 0 else fs.min()
    if grid is not None and grid.transform is not None:
        x0, y0 = grid.transform[0], grid.transform[3]
    cols = (cs - x0) / a0
    rows = (fs - y0) / e0
    icols, irows = np.rint(cols).astype(np.int64), np.rint(rows).astype(np.int64)
    off = np.maximum(np.abs(cols - icols), np.abs(rows - irows))
    for i in np.nonzero(off > PIXEL_TOLERANCE)[0]:
        _problem(problems, entries[i].url, f"origin is {off[i]:.4g} pixel off the grid of {first.url} "
                                            "(same resolution, but not an integral number of pixels apart)")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot place these files on one grid", problems,
                                                     "virtual-geotiff stitches, it never resamples")
    height = int(max(r + e.layout.shape[-2] for r, e in zip(irows, entries)))
    width = int(max(c + e.layout.shape[-1] for c, e in zip(icols, entries)))
    if grid is not None and grid.transform is not None:
        if irows.min() < 0 or icols.min() < 0 or height > grid.height or width > grid.width:
            raise InvalidArgumentError(f"internal: files reach outside the given grid {grid}")
        return grid, list(zip(irows.tolist(), icols.tolist()))
    transform = (float(x0), a0, 0.0, float(y0), 0.0, e0)
    return _Grid(transform, height, width), list(zip(irows.tolist(), icols.tolist()))


def _window(grid: _Grid, bbox: tuple[float, ...] | None, chunks: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel window ``(row0, row1, col0, col1)`` of ``bbox``, widened to whole chunks (whole grid if None)."""
    if bbox is None:
        return 0, grid.height, 0, grid.width
    if grid.transform is None:
        raise InvalidArgumentError("bbox= needs georeferenced files; these have no transform")
    c, a, _, f, _, e = grid.transform
    minx, miny, maxx, maxy = bbox
    xs = sorted(((minx - c) / a, (maxx - c) / a))
    ys = sorted(((miny - f) / e, (maxy - f) / e))
    eps = 1e-9
    col0, col1 = math.floor(xs[0] + eps), math.ceil(xs[1] - eps)
    row0, row1 = math.floor(ys[0] + eps), math.ceil(ys[1] - eps)
    ch, cw = chunks
    row0, col0 = max(row0, 0) // ch * ch, max(col0, 0) // cw * cw
    row1 = min(-(-min(row1, grid.height) // ch) * ch, grid.height)
    col1 = min(-(-min(col1, grid.width) // cw) * cw, grid.width)
    if row1 <= row0 or col1 <= col0:
        x_min, x_max = sorted((c, c + a * grid.width))
        y_min, y_max = sorted((f, f + e * grid.height))
        raise InvalidArgumentError(f"bbox {bbox} does not intersect the files' extent "
                                   f"({x_min}, {y_min}, {x_max}, {y_max})")
    return row0, row1, col0, col1


def _block(entry: SourceEntry, band_index: np.ndarray | None) -> Block:
    layout = entry.layout
    offsets, lengths, shape = layout.offsets, layout.lengths, layout.shape
    if band_index is not None:
        offsets, lengths = offsets[band_index], lengths[band_index]
        shape = (len(band_index), *shape[1:])
    return Block(entry.url, tuple(shape), entry.url, offsets, lengths)


def _crop(block: Block, row: int, col: int, window: tuple[int, int, int, int], chunks: tuple[int, int],
          ) -> tuple[Block, int, int] | None:
    """``block`` cut to the pixel window (cut lines fall on chunk boundaries), or None when outside."""
    r0, r1, c0, c1 = window
    h, w = block.shape[-2:]
    top, bottom, left, right = max(row, r0), min(row + h, r1), max(col, c0), min(col + w, c1)
    if bottom <= top or right <= left:
        return None
    if (top, bottom, left, right) == (row, row + h, col, col + w):
        return block, row - r0, col - c0
    ch, cw = chunks
    gy0, gx0 = (top - row) // ch, (left - col) // cw
    gy1, gx1 = -(-(bottom - row) // ch), -(-(right - col) // cw)
    sel = (..., slice(gy0, gy1), slice(gx0, gx1))
    cropped = Block(block.label, (*block.shape[:-2], bottom - top, right - left), block.paths,
                    block.offsets[sel], block.lengths[sel])
    return cropped, top - r0, left - c0


def _band_selection(entries: list[SourceEntry], bands: Sequence[Any] | None) -> np.ndarray | None:
    if bands is None:
        return None
    layout = entries[0].layout
    if "band" not in layout.dims:
        raise InvalidArgumentError("bands= selects bands of multi-band files, but these files have one band; "
                                   "to choose single-band files by name use stack_dim='band'")
    count = layout.shape[0]
    try:
        index = np.array([int(b) for b in bands], dtype=np.int64) - 1
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"bands must be 1-based band numbers, got {bands!r}") from None
    if index.size == 0 or index.min() < 0 or index.max() >= count:
        raise InvalidArgumentError(f"bands {list(bands)} out of range: the files have bands 1..{count}")
    if layout.chunks[0] != 1:
        if index.tolist() == list(range(count)):
            return None  # every band in file order: nothing to select
        raise InvalidArgumentError(
            f"bands= cannot pick bands of {entries[0].url}: it stores bands pixel-interleaved "
            "(PlanarConfiguration=1), so every chunk holds all of them; rewrite with "
            "gdal_translate -co INTERLEAVE=BAND, or select bands after opening")
    return index


def _assemble(entries: list[SourceEntry], values: list[Any] | None, stack_dim: str | None, *, stitch: bool,
              bands: Sequence[Any] | None, bbox: tuple[float, ...] | None, name: str,
              grid: _Grid | None = None, stack: np.ndarray | None = None,
              ) -> tuple[Any, list[SourceEntry]]:
    """One variable (and its coordinates) from ``entries``. ``grid`` and ``stack`` (sorted coordinate
    values, a superset of ``values``) impose a shared grid and stack axis on variables built separately."""
    import xarray as xr

    _check_compatible(entries)
    first = entries[0]
    layout0 = first.layout
    if stack_dim is not None and stack_dim in layout0.dims:
        raise InvalidArgumentError(f"stack_dim={stack_dim!r} collides with the files' own dimension "
                                   f"{stack_dim!r} (dims {layout0.dims})")
    grid, positions = _positions(entries, grid)
    chunks2 = (layout0.chunks[-2], layout0.chunks[-1])

    # stack positions: sorted unique values; files sharing a value are stitched together
    if values is not None and stack is not None:
        uniq = stack
        stack_index = np.searchsorted(stack, _as_coordinate(values)).tolist()
    elif values is not None:
        coord = _as_coordinate(values)
        uniq, index = np.unique(coord, return_inverse=True)
        stack_index = index.reshape(-1).tolist()
    else:
        uniq, stack_index = None, [0] * len(entries)
    if not stitch or grid.transform is None:
        _check_one_per_position(entries, positions, stack_index, grid, stitching_possible=grid.transform is not None)

    window = _window(grid, bbox, chunks2)
    band_index = _band_selection(entries, bands)
    placed = []
    used: list[SourceEntry] = []
    for entry, (row, col), s in zip(entries, positions, stack_index):
        cut = _crop(_block(entry, band_index), row, col, window, chunks2)
        if cut is None:
            continue
        block, r, c = cut
        placed.append((block, (s,) if uniq is not None else (), r, c))
        used.append(entry)
    if not placed:
        raise InvalidArgumentError(f"bbox {bbox} covers no file")
    height, width = window[1] - window[0], window[3] - window[2]
    out_shape, manifest = place_blocks(placed, layout0.chunks, shape=(height, width), what="cannot stitch")
    if uniq is not None and out_shape[0] != len(uniq):
        out_shape, manifest = (len(uniq), *out_shape[1:]), pad_leading(manifest, len(uniq))

    transform = None
    if grid.transform is not None:
        c, a, _, f, _, e = grid.transform
        transform = (c + window[2] * a, a, 0.0, f + window[0] * e, 0.0, e)
    georef = _cube_georef(entries, transform)
    fill_value, attrs = _cube_attributes(used, (height, width), georef, band_index)

    dims = ((stack_dim,) if stack_dim is not None else ()) + tuple(layout0.dims)
    cube_chunks = ((1,) if stack_dim is not None else ()) + tuple(layout0.chunks)
    cube_layout = dataclasses.replace(layout0, shape=out_shape, chunks=cube_chunks, dims=dims)
    metadata = array_metadata(cube_layout, first.plan, fill_value=fill_value, attributes=attrs)
    variable = ManifestArray(metadata=metadata, chunkmanifest=manifest).to_virtual_variable()

    coords: dict[str, Any] = {}
    if uniq is not None:
        coords[stack_dim] = (stack_dim, uniq)  # type: ignore[index]
    if band_index is not None:
        coords["band"] = ("band", band_index + 1)
    if georef.has_spatial_ref:
        coords["spatial_ref"] = ((), np.int64(0), spatial_ref_attributes(georef.crs, georef.transform))
        if georef.has_xy:
            x, y = pixel_centers(georef.transform, width, height)
            x_attrs, y_attrs = coordinate_attrs(georef.crs)
            coords["x"] = ("x", x, x_attrs)
            coords["y"] = ("y", y, y_attrs)
    ds = xr.Dataset({name: variable}, coords=coords, attrs=store_attributes([first.plan]))
    return ds, used


def _check_one_per_position(entries: list[SourceEntry], positions: list[tuple[int, int]], stack_index: list[int],
                            grid: _Grid, *, stitching_possible: bool) -> None:
    """Without stitching: one file per stack position, all with the same footprint."""
    problems: dict[str, list[str]] = {}
    seen: dict[int, str] = {}
    first = entries[0]
    for e, pos, s in zip(entries, positions, stack_index):
        if s in seen:
            why = "stitch=False" if stitching_possible else "the files are not georeferenced (nothing to place by)"
            _problem(problems, e.url, f"shares its stack position with {seen[s]}, but {why}")
        seen.setdefault(s, e.url)
        if pos != (0, 0) or e.layout.shape != first.layout.shape:
            _problem(problems, e.url, f"footprint differs from {first.url} (shape {e.layout.shape} at pixel "
                                      f"{pos} vs {first.layout.shape} at (0, 0)); stitching is off")
    if problems:
        raise IncompatibleSourcesError.from_problems("cannot stack these files", problems)


def _cube_georef(entries: list[SourceEntry], transform: GeoTransform | None) -> IfdGeoref:
    """The first file's georeferencing with the cube's transform."""
    georef = next(e.georef for e in entries if e.georef is not None)
    if transform is None:
        return dataclasses.replace(georef, transform=None, point_transform=None) if georef.crs is not None \
            else georef
    point = None
    if georef.pixel_is_point:
        c, a, b, f, d, e = transform
        point = (c + a * 0.5 + b * 0.5, a, b, f + d * 0.5 + e * 0.5, d, e)
    return dataclasses.replace(georef, transform=transform, point_transform=point, note=None)


#: Attributes that change decoded values: files that disagree on them cannot share one array.
_DECODING_ATTRS = ("scale_factor", "add_offset", "scales", "offsets", "_FillValue")


def _cube_attributes(entries: list[SourceEntry], shape: tuple[int, int], georef: IfdGeoref,
                     band_index: np.ndarray | None) -> tuple[Any, dict[str, Any]]:
    """Fill value and attributes from the parser's ``ifd_attributes``, once per distinct nodata/metadata.

    Items that change decoded values (nodata, scale/offset) must agree; other items are kept when all
    files agree on them (per-file statistics are dropped)."""
    groups: dict[tuple[str | None, str | None], SourceEntry] = {}
    for e in entries:
        groups.setdefault((e.ifd.geo.gdal_nodata, e.ifd.geo.gdal_metadata), e)
    first = entries[0]
    results = []
    for e in groups.values():
        full_shape = (*e.layout.shape[:-2], *shape)
        fill, attrs = ifd_attributes(e.ifd, e.plan.dtype, full_shape, georef, where(e.url, e.ifd.index),
                                     grid_mapping=georef.has_spatial_ref)
        results.append((e, fill, attrs))
    e0, fill0, attrs0 = results[0]
    problems: dict[str, list[str]] = {}
    for e, _, attrs in results[1:]:
        for key in _DECODING_ATTRS:
            if attrs.get(key) != attrs0.get(key):
                _problem(problems, e.url, f"{key} {attrs.get(key)!r} (expected {attrs0.get(key)!r} as in {e0.url})")
    if problems:
        raise IncompatibleSourcesError.from_problems(
            "these files decode differently (nodata or scale/offset)", problems,
            "files of one cube must share nodata and scale/offset; build separate cubes")
    attrs = dict(attrs0)
    for _, _, other in results[1:]:
        for key in list(attrs):
            if key not in other or other[key] != attrs[key]:
                del attrs[key]
    if band_index is not None:
        count = first.layout.shape[0]
        for key, value in list(attrs.items()):
            if isinstance(value, list) and len(value) == count:
                attrs[key] = [value[i] for i in band_index]
    return fill0, attrs
