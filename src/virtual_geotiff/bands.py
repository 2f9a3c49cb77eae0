"""``open_virtual_bands``: one COG per band (Sentinel-2, Landsat) as a cube of band variables per grid.

Real archives store one file per band, tile and date, at several resolutions and often in several map
projections (UTM zones). This builder turns such files into groups of variables named after the bands:

- every file is scanned once, with the cube builder's own scan (``cube.scan.scan_sources``: same header
  reads, same executors, same per-file failures);
- files are grouped by CRS, then by resolution: ``EPSG_32631/10m``, ``EPSG_32631/20m``, ``EPSG_32632/10m``.
  Nothing is resampled or reprojected; a band whose files fall into two groups is an error naming them;
- inside a group every band is placed on the group's one grid (the bounding grid of all its files) and the
  group's one ``time`` axis (the union of its files' times), with the cube builder's ``assemble_variable``;
  so the bands of a group share ``x``/``y``/``time`` and a band missing a date reads as its fill value there;
- per-item properties that agree within each time step (cloud cover, platform) become coordinates along
  ``time``.

What is checked per *item* (a group of files that belong together: one STAC item, or one file when no item
is given), each reported with its reason and, with ``on_error="skip"``, left out whole: unreadable files,
headers that disagree with what the caller declared about them (``Declared``: the STAC ``proj:`` fields),
two items claiming the same tile position and time. ``single_crs=True`` makes more than one CRS an error
listing every item and its CRS.

Publishing a band cube is ``virtual_geotiff.icechunk.publish_bands``: it lives in the Icechunk layer, above
this module, so building a cube never imports Icechunk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry

from .arrays.planned import PlannedIfd
from .cube import OnError, VirtualCube
from .cube.arguments import check_on_error
from .cube.assemble import assemble_variable
from .cube.grid import place_on_grid
from .cube.scan import scan_sources
from .cube.stack import as_coordinate
from .errors import FailedSourcesError, IncompatibleSourcesError, InvalidArgumentError
from .limits import Limits
from .manifest import references
from .sources import SourceStamp
from .tiff.headers import DEFAULT_CONCURRENCY, Progress, check_concurrency, split_failed
from .urls import normalize_url

__all__ = ["BandCube", "BandFile", "Declared", "open_virtual_bands"]

#: Relative tolerance when a declared transform is compared with the header's.
TRANSFORM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Declared:
    """What a catalog says about a file, to be checked against its header (never trusted instead of it)."""

    epsg: int | None = None
    shape: tuple[int, int] | None = None
    #: affine order ``(a, b, c, d, e, f)`` as STAC ``proj:transform`` and rasterio write it
    transform: tuple[float, ...] | None = None


@dataclass(frozen=True)
class BandFile:
    """One file of one band at one time. ``item`` names the unit that succeeds or fails together (a STAC
    item id; default: the URL itself); ``properties`` are the item's values offered as coordinates."""

    band: str
    url: str
    time: Any
    item: str = ""
    declared: Declared | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class BandCube:
    """A built multi-band cube: one ``xarray.Dataset`` per grid group (``"EPSG_32631/10m"``), the identity of
    every source file, and what was left out (per item, with the reason)."""

    groups: dict[str, Any]
    sources: dict[str, SourceStamp]
    failed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)

    def to_datatree(self) -> Any:
        """The groups as one ``xarray.DataTree`` (paths as group names)."""
        import xarray as xr

        return xr.DataTree.from_dict({f"/{path}": ds for path, ds in self.groups.items()})

    def group_cubes(self) -> dict[str, VirtualCube]:
        """Each group as a ``VirtualCube`` holding only the sources it references."""
        out = {}
        for path, ds in self.groups.items():
            urls = _referenced_urls(ds)
            out[path] = VirtualCube(dataset=ds, sources={u: self.sources[u] for u in urls if u in self.sources})
        return out


# ---------------------------------------------------------------------------------------------- the builder


def open_virtual_bands(
    files: Iterable[BandFile],
    registry: ObjectStoreRegistry,
    *,
    single_crs: bool = False,
    on_error: OnError = "raise",
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    executor: Executor | Any | None = None,
    batch_size: int = 256,
    limits: Limits | None = None,
    failed: Mapping[str, str] | None = None,
) -> BandCube:
    """Build one cube of band variables per (CRS, resolution) group from single-band files.

    Parameters
    ----------
    files
        ``BandFile(band, url, time, item=..., declared=..., properties=...)`` per file.
    single_crs
        Require every item to share one CRS; otherwise raise ``IncompatibleSourcesError`` listing every
        item and its CRS (default: one group per CRS).
    on_error
        ``"raise"``: every bad item is listed in one ``FailedSourcesError`` and nothing is built;
        ``"skip"``: bad items are left out whole and listed in ``BandCube.failed``.
    failed
        ``{item: reason}`` found before the scan (e.g. STAC items whose asset is missing), merged into the
        report (and raised with the others when ``on_error="raise"``).
    concurrency, progress, executor, batch_size, limits
        As for ``open_virtual_cube``.
    """
    check_on_error(on_error)
    check_concurrency(concurrency)
    limits = limits or Limits()
    files = [_normalized(f) for f in files]
    report = _Report(dict(failed or {}))
    if not files and not report.reasons:
        raise InvalidArgumentError("no band files: a cube needs at least one")
    _check_unique(files, report)

    urls = list(dict.fromkeys(f.url for f in files))
    results = scan_sources(urls, registry, limits, None, concurrency, progress, executor, batch_size) if urls else []
    _, failures = split_failed(results)
    by_url: dict[str, PlannedIfd] = {u: r for u, r in zip(urls, results) if u not in failures}
    for f in files:
        if f.url in failures:
            report.fail(f.item, f"{f.band}: {failures[f.url].reason}", failures[f.url].error)
    for f in files:
        entry = by_url.get(f.url)
        if entry is not None and f.declared is not None:
            problems = _disagreements(entry, f.declared)
            if problems:
                report.fail(f.item, f"{f.band} ({f.url}): the header disagrees with the catalog: "
                                    + "; ".join(problems))
    kept = [f for f in files if f.item not in report.reasons and f.url in by_url]
    if single_crs:
        _require_single_crs(kept, by_url)
    grouped = _group(kept, by_url)
    for gfiles in grouped.values():
        _find_duplicates(gfiles, by_url, report)
    if report.reasons and on_error == "raise":
        raise report.error()
    kept = [f for f in kept if f.item not in report.reasons]
    if not kept:
        raise report.error()
    groups = {path: _build_group(gfiles, by_url)
              for path, gfiles in sorted(_group(kept, by_url).items())}
    sources = {u: by_url[u].stamp or SourceStamp(u) for u in dict.fromkeys(f.url for f in kept)}
    return BandCube(groups=groups, sources=sources, failed=dict(report.reasons), errors=dict(report.errors))


def _normalized(f: BandFile) -> BandFile:
    if not isinstance(f, BandFile):
        raise InvalidArgumentError(f"expected BandFile entries, got {type(f).__name__}")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", str(f.band)) or str(f.band).startswith("_"):
        raise InvalidArgumentError(f"band name {f.band!r} cannot be a variable name: use letters, digits, '_', "
                                   "'-' or '.', not starting with '_'")
    url = normalize_url(f.url)
    return BandFile(str(f.band), url, f.time, f.item or url, f.declared, dict(f.properties))


def _check_unique(files: list[BandFile], report: _Report) -> None:
    """A file named twice for one band: the later item claims the tile and time of the earlier one."""
    seen: dict[tuple[str, str], BandFile] = {}
    for f in files:
        other = seen.setdefault((f.band, f.url), f)
        if other is not f:
            if other.item == f.item:
                raise InvalidArgumentError(f"{f.url} is given twice for band {f.band}")
            report.fail(f.item, f"claims the same tile and time as item {other.item} (its {f.band} is the same "
                                f"file, {f.url}): keep one of them")


class _Report:
    """Bad items and why (several reasons per item are joined)."""

    def __init__(self, reasons: dict[str, str]) -> None:
        self.reasons = reasons
        self.errors: dict[str, BaseException] = {}

    def fail(self, item: str, reason: str, error: BaseException | None = None) -> None:
        self.reasons[item] = f"{self.reasons[item]}; {reason}" if item in self.reasons else reason
        if error is not None:
            self.errors.setdefault(item, error)

    def error(self) -> FailedSourcesError:
        lines = [f"{len(self.reasons)} item(s) cannot be used:"]
        lines.extend(f"  {item}: {reason}" for item, reason in self.reasons.items())
        lines.append('nothing was built; fix or remove these items, or pass on_error="skip" to build without them')
        return FailedSourcesError("\n".join(lines), dict(self.reasons), dict(self.errors))


# ---------------------------------------------------------------------------------------------- checks


#: EPSG code per grid key (CRS WKT + raster type): one pyproj lookup per distinct CRS in the process.
_EPSG: dict[str, int | None] = {}


def _epsg(entry: PlannedIfd) -> int | None:
    key = entry.grid_key
    if key not in _EPSG:
        wkt = key.rsplit("|", 1)[0]
        if not wkt:
            _EPSG[key] = None
        else:
            from pyproj import CRS

            _EPSG[key] = CRS.from_wkt(wkt).to_epsg()
    return _EPSG[key]


def _disagreements(entry: PlannedIfd, declared: Declared) -> list[str]:
    """What the header says differently from the catalog (EPSG code, shape, transform)."""
    problems = []
    if declared.epsg is not None:
        epsg = _epsg(entry)
        if epsg != declared.epsg:
            problems.append(f"CRS EPSG:{epsg} in the header, EPSG:{declared.epsg} declared")
    if declared.shape is not None:
        shape = tuple(entry.layout.shape[-2:])
        if shape != tuple(declared.shape):
            problems.append(f"shape {list(shape)} in the header, {list(declared.shape)} declared")
    if declared.transform is not None:
        if entry.transform is None:
            problems.append("no geotransform in the header, proj:transform declared")
        else:
            header = entry.transform.to_affine()
            scale = max(*entry.transform.resolution, 1e-12)
            if header != declared.transform[:6] and any(
                    not math.isclose(h, x, rel_tol=TRANSFORM_TOLERANCE, abs_tol=TRANSFORM_TOLERANCE * scale)
                    for h, x in zip(header, declared.transform[:6])):
                problems.append(f"transform {list(header)} in the header, {list(declared.transform[:6])} declared")
    return problems


def _crs_label(entry: PlannedIfd) -> str:
    epsg = _epsg(entry)
    if epsg is not None:
        return f"EPSG_{epsg}"
    wkt = entry.grid_key.rsplit("|", 1)[0]
    if not wkt:
        return "no_crs"
    import hashlib

    return "CRS_" + hashlib.sha1(wkt.encode()).hexdigest()[:8]


def _require_single_crs(files: list[BandFile], by_url: Mapping[str, PlannedIfd]) -> None:
    crs_of: dict[str, str] = {}
    for f in files:
        crs_of.setdefault(f.item, _crs_label(by_url[f.url]).replace("_", ":", 1))
    if len(set(crs_of.values())) > 1:
        problems = {item: [f"CRS {crs}"] for item, crs in crs_of.items()}
        raise IncompatibleSourcesError.from_problems(
            f"single_crs=True but the items lie in {len(set(crs_of.values()))} CRSs "
            f"({', '.join(sorted(set(crs_of.values())))})", problems,
            "select the items of one CRS, or drop single_crs to get one group per CRS (nothing is reprojected)")


#: Unit label of each grid key's CRS ("m", "deg", ...).
_UNITS: dict[str, str] = {}


def _learn_unit(entry: PlannedIfd) -> None:
    """Note the axis unit of the entry's CRS (the first entry of each grid answers for it)."""
    if entry.grid_key in _UNITS or entry.georef is None or entry.georef.crs is None:
        return
    crs = entry.georef.crs
    name = (crs.axis_info[0].unit_name if crs.axis_info else "") or ""
    _UNITS[entry.grid_key] = "m" if name in ("metre", "meter", "") else "deg" if "degree" in name \
        else name.replace(" ", "_")


def _resolution_label(entry: PlannedIfd) -> str:
    if entry.transform is None:
        return "pixels"
    unit = _UNITS.get(entry.grid_key, "m")
    rx, ry = (f"{v:g}" for v in entry.transform.resolution)
    return f"{rx}{unit}" if rx == ry else f"{rx}x{ry}{unit}"


def _group(files: list[BandFile], by_url: Mapping[str, PlannedIfd]) -> dict[str, list[BandFile]]:
    """``{"EPSG_32631/10m": files}``; a band whose files have several resolutions in one CRS is an error."""
    groups: dict[str, list[BandFile]] = {}
    res_of_band: dict[tuple[str, str], dict[str, str]] = {}
    for f in files:
        _learn_unit(by_url[f.url])
    for f in files:
        entry = by_url[f.url]
        crs = _crs_label(entry)
        res = _resolution_label(entry)
        res_of_band.setdefault((crs, f.band), {}).setdefault(res, f.url)
        groups.setdefault(f"{crs}/{res}", []).append(f)
    problems = {}
    for (crs, band), found in res_of_band.items():
        if len(found) > 1:
            problems[f"{band} in {crs}"] = [f"resolution {res} (e.g. {url})" for res, url in found.items()]
    if problems:
        raise IncompatibleSourcesError.from_problems(
            "bands whose files have different resolutions", problems,
            "every file of one band (in one CRS) must have the same resolution; nothing is resampled")
    return groups


def _find_duplicates(files: list[BandFile], by_url: Mapping[str, PlannedIfd], report: _Report) -> None:
    """Two items putting a file of the same band at the same grid position and time: the later is reported."""
    entries = [by_url[f.url] for f in files]
    try:
        _, positions = place_on_grid(entries)
    except IncompatibleSourcesError:
        return  # off-grid files are reported when the group is assembled
    seen: dict[tuple[Any, ...], BandFile] = {}
    times = as_coordinate([f.time for f in files])
    for f, pos, t in zip(files, positions, times):
        other = seen.setdefault((f.band, t, pos, by_url[f.url].layout.shape[-2:]), f)
        if other is not f and other.item != f.item:
            when = np.datetime_as_string(t, unit="s") if isinstance(t, np.datetime64) else t
            report.fail(f.item, f"claims the same tile and time as item {other.item} ({f.band} at {when}, "
                                f"pixel {pos}): keep one of them")


# ---------------------------------------------------------------------------------------------- assembly


def _build_group(files: list[BandFile], by_url: Mapping[str, PlannedIfd]) -> Any:
    """The bands of one (CRS, resolution) group on one grid and one time axis."""
    import xarray as xr

    entries = [by_url[f.url] for f in files]
    grid, _ = place_on_grid(entries)
    stack = np.unique(as_coordinate([f.time for f in files]))
    parts = []
    for band in dict.fromkeys(f.band for f in files):
        mine = [f for f in files if f.band == band]
        ds, _ = assemble_variable([by_url[f.url] for f in mine], [f.time for f in mine], "time", stitch=True,
                                  bands=None, bbox=None, name=band, grid=grid, stack=stack)
        parts.append(ds)
    merged = xr.merge(parts, compat="override", join="exact", combine_attrs="drop_conflicts")
    for name, values in _time_properties(files, stack).items():
        merged = merged.assign_coords({name: ("time", values)})
    return merged


def _time_properties(files: list[BandFile], stack: np.ndarray) -> dict[str, np.ndarray]:
    """Item properties whose items agree within every time step, as arrays along ``time``."""
    items = {f.item: f for f in files if f.properties}  # one file per item: its properties are the item's
    if not items:
        return {}
    firsts = list(items.values())
    index = np.searchsorted(stack, as_coordinate([f.time for f in firsts])).tolist()
    names = dict.fromkeys(k for f in firsts for k in f.properties)
    out = {}
    for name in names:
        per_step: dict[int, set[Any]] = {}
        for f, i in zip(firsts, index):
            value = f.properties.get(name)
            per_step.setdefault(i, set()).add(_hashable(value))
        if any(len(v) != 1 for v in per_step.values()) or any(None in v for v in per_step.values()):
            continue  # items of one time step disagree (several tiles) or lack it: no single value per step
        values = [next(iter(per_step[i])) if i in per_step else None for i in range(len(stack))]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values if v is not None):
            out[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        elif all(isinstance(v, str) for v in values if v is not None):
            out[name] = np.array(["" if v is None else v for v in values], dtype=object).astype(str)
    return out


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _referenced_urls(ds: Any) -> list[str]:
    from virtualizarr.manifests import ManifestArray

    urls: dict[str, None] = {}
    for var in ds.variables.values():
        if isinstance(var.data, ManifestArray):
            paths = references(var.data.manifest).paths
            urls.update(dict.fromkeys(str(p) for p in np.unique(paths[paths != ""])))
    return list(urls)


def as_time(value: Any) -> np.datetime64:
    """A timestamp as naive UTC ``datetime64[ns]`` (aware datetimes converted, naive ones taken as UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        from datetime import UTC

        value = value.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(value, "ns")
