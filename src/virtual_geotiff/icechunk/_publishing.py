"""``publish`` and ``append``: one session, every step, one commit (or nothing)."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import icechunk as ic
import numpy as np
import xarray as xr
import zarr
from virtualizarr.manifests import ManifestArray
from xarray.backends.zarr import encode_zarr_attr_value
from zarr.core.buffer import default_buffer_prototype
from zarr.core.metadata.v3 import ArrayV3Metadata
from zarr.core.sync import sync

from .._sync import run_sync
from .._version import __version__
from ..errors import InvalidArgumentError, PublishError
from ..manifest import referenced_count
from ..sources import SourceStamp
from ._containers import check_containers, container_prefixes
from ._drift import DEFAULT_CONCURRENCY, head_all
from ._refs import Refs, array_path, manifest_refs, write_refs
from ._stamps import checksum, read_sources, write_sources
from ._tracing import span_tracing_active

#: Variable attributes xarray keeps in ``encoding`` that must reach the Zarr attributes (as VirtualiZarr does).
_ENCODING_KEYS = ("_FillValue", "missing_value", "scale_factor", "add_offset")


#: Above this many references, ``publish``/``append`` warn (once) when Icechunk's log subscriber is active.
SLOW_LOGS_WARNING_REFS = 100_000


class SlowIcechunkLogsWarning(UserWarning):
    """Icechunk's tracing subscriber is active: every reference costs several times more to write."""


@dataclass(frozen=True)
class PublishResult:
    """What one ``publish``/``append`` wrote."""

    snapshot_id: str | None  #: the new snapshot (None when the caller's session was written, not committed)
    message: str  #: the commit message (also the suggested one when the caller commits)
    metadata: dict[str, Any]  #: the commit metadata
    references: dict[str, int]  #: virtual references written per array path
    files: int  #: source files referenced by this write
    seconds: float  #: wall time of the write (without the commit)
    commit_seconds: float = 0.0

    @property
    def total_references(self) -> int:
        return sum(self.references.values())


@dataclass
class _Target:
    session: Any
    repo: Any | None
    own_session: bool
    was_clean: bool


def _open_target(target: Any, branch: str) -> _Target:
    if isinstance(target, ic.Repository):
        return _Target(target.writable_session(branch), target, True, True)
    if isinstance(target, ic.Session):
        if target.read_only:
            raise InvalidArgumentError("the Icechunk session is read-only; pass repo.writable_session(branch)")
        return _Target(target, None, False, not target.has_uncommitted_changes)
    raise InvalidArgumentError(f"expected an icechunk.Repository or a writable icechunk.Session, "
                               f"got {type(target).__name__}")


def _split_variables(dataset: xr.Dataset) -> tuple[dict[str, xr.Variable], dict[str, xr.Variable],
                                                    dict[str, xr.Variable]]:
    """(virtual arrays with references, chunkless virtual arrays, in-memory variables)."""
    virtual, empty, loadable = {}, {}, {}
    for name, var in dataset.variables.items():
        if isinstance(var.data, ManifestArray):
            has_refs = referenced_count(var.data.manifest) > 0
            (virtual if has_refs else empty)[str(name)] = var
        else:
            loadable[str(name)] = var
    return virtual, empty, loadable


def _stamps_for(urls: Sequence[str], sources: Mapping[str, SourceStamp] | None, registry: Any,
                concurrency: int) -> dict[str, SourceStamp]:
    """A usable stamp per URL: from ``sources``; HEADed through ``registry`` when absent or without identity."""
    stamps = {u: sources[u] for u in urls if u in sources} if sources is not None else {}
    lacking = [u for u in urls if u not in stamps or checksum(stamps[u]) is None]
    if lacking and registry is None:
        reasons = {u: "no stamp" if u not in stamps else "no ETag and no last-modified" for u in lacking}
        raise InvalidArgumentError(_list_files(
            "source file(s) have no checksum to protect their references; pass their SourceStamps (the build "
            "collects them) or registry= to HEAD them", reasons))
    if lacking:
        heads = run_sync(head_all(lacking, registry, concurrency))
        failed = {u: repr(h) for u, h in heads.items() if isinstance(h, BaseException)}
        if failed:
            raise PublishError(_list_files("source file(s) could not be HEADed; nothing was committed", failed))
        unusable = {u: "the store gives no ETag and no last-modified" for u, h in heads.items()
                    if checksum(h) is None}
        if unusable:
            raise PublishError(_list_files("source file(s) have no identity to check", unusable))
        stamps.update(heads)
    return stamps


def _list_files(what: str, reasons: Mapping[str, str], limit: int = 10) -> str:
    lines = [f"  {u}: {r}" for u, r in list(reasons.items())[:limit]]
    more = f"\n  ... and {len(reasons) - limit} more" if len(reasons) > limit else ""
    return f"{len(reasons)} {what}:\n" + "\n".join(lines) + more


def _metadata(var: xr.Variable, *, attributes: bool, shape: tuple[int, ...] | None = None) -> ArrayV3Metadata:
    """The Zarr metadata of a virtual variable: its ManifestArray's codecs and chunks, xarray's dims and
    (optionally) attributes with the encoding keys xarray keeps apart."""
    meta = var.data.metadata.to_dict()
    meta["dimension_names"] = list(var.dims)
    if shape is not None:
        meta["shape"] = list(shape)
    attrs: dict[str, Any] = {}
    if attributes:
        attrs = {k: encode_zarr_attr_value(v) for k, v in var.attrs.items()}
        attrs.update({k: encode_zarr_attr_value(var.encoding[k]) for k in _ENCODING_KEYS if k in var.encoding})
    meta["attributes"] = attrs
    return ArrayV3Metadata.from_dict(meta)


def _metadata_for_refs(metadata: ArrayV3Metadata) -> ArrayV3Metadata:
    """The metadata to set references under: ``metadata`` itself when Icechunk's span tracing is off (no
    later rewrite, which would make Icechunk regroup every pending reference), else the smallest metadata
    Icechunk accepts (shape, dtype, chunk grid): the tracing formats the array's zarr.json once per
    reference, so the real metadata (codecs, dimension names, attributes) replaces it afterwards, in the
    same session. See ``_tracing``."""
    if not span_tracing_active():
        return metadata
    meta = metadata.to_dict()
    endian = {"endian": "little"} if np.dtype(metadata.dtype.to_native_dtype()).itemsize > 1 else {}
    meta.update(codecs=[{"name": "bytes", "configuration": endian}], attributes={}, dimension_names=None)
    return ArrayV3Metadata.from_dict(meta)


async def _set_metadata(store: Any, path: str, metadata: ArrayV3Metadata) -> None:
    buffers = metadata.to_buffer_dict(default_buffer_prototype())
    await store.set(f"{path}/zarr.json", buffers["zarr.json"])


def _time_range(dataset: xr.Dataset, dim: str) -> str | None:
    if dim not in dataset.coords or dataset[dim].size == 0:
        return None
    values = dataset[dim].values
    if values.dtype.kind in "USO":  # string labels (e.g. tile or scene ids from file names): numpy has no min/max
        ordered = sorted(str(v) for v in values.ravel().tolist())
        first, last = ordered[0], ordered[-1]
    else:
        first, last = values.min(), values.max()
    if np.issubdtype(values.dtype, np.datetime64):
        first, last = np.datetime_as_string(first, unit="auto"), np.datetime_as_string(last, unit="auto")
    return f"{first}..{last}" if first != last else f"{first}"


def _message(verb: str, files: int, refs: int, arrays: int, time_range: str | None, dim: str,
             skipped: Mapping[str, str]) -> str:
    text = f"virtual-geotiff: {verb} {files} file(s), {refs} virtual reference(s) in {arrays} array(s)"
    if time_range:
        text += f", {dim} {time_range}"
    if skipped:
        names = ", ".join(list(skipped)[:5]) + (" ..." if len(skipped) > 5 else "")
        text += f"; skipped {len(skipped)} file(s): {names}"
    return text


def _commit_metadata(verb: str, files: int, refs: Mapping[str, int], time_range: str | None, dim: str,
                     skipped: Mapping[str, str], extra: Mapping[str, Any] | None) -> dict[str, Any]:

    meta: dict[str, Any] = {"virtual_geotiff": {
        "action": verb, "version": __version__, "files": files, "references": dict(refs),
        "skipped": [{"url": u, "reason": r} for u, r in skipped.items()],
    }}
    if time_range:
        meta["virtual_geotiff"][f"{dim}_range"] = time_range
    if extra:
        meta.update(extra)
    return meta


def publish(dataset: xr.Dataset, target: Any, *, sources: Mapping[str, SourceStamp] | None = None,
            registry: Any = None, branch: str = "main", group: str | None = None, message: str | None = None,
            skipped: Mapping[str, str] | None = None, allow_skipped: bool = False,
            metadata: Mapping[str, Any] | None = None, time_dim: str = "time",
            concurrency: int = DEFAULT_CONCURRENCY) -> PublishResult:
    """Write ``dataset`` (virtual variables + in-memory coordinates) to Icechunk as one commit.

    Parameters
    ----------
    dataset
        An ``xarray.Dataset`` of VirtualiZarr ``ManifestArray`` variables plus loaded coordinates, or the
        cube builder's ``VirtualCube`` (its ``sources`` and ``failed`` are the defaults of ``sources`` and
        ``skipped``).
    target
        An ``icechunk.Repository`` (a session on ``branch`` is opened and committed) or a writable
        ``icechunk.Session`` (written, not committed: the caller commits, e.g. with ``result.message``).
    sources
        ``{url: SourceStamp}`` for every file the references point at (the builder collects them). Files
        missing from it, or whose stamp has neither ETag nor last-modified, are HEADed through ``registry``
        (an error without one).
    group
        Group path inside the repository (default: root). Must not hold the dataset's arrays already.
    skipped
        ``{url: reason}`` of files the build left out; by default any skipped file aborts the publish
        (nothing is committed); with ``allow_skipped=True`` they are recorded in the commit message and
        metadata.

    Raises
    ------
    InvalidArgumentError
        Before writing anything, when a source has no stamp or lies outside every virtual chunk container.
        Any later failure discards the session's changes (when the session is ours or was clean) and
        raises, so nothing is committed.
    """
    return _write(dataset, target, verb="publish", sources=sources, registry=registry, branch=branch, group=group,
                  message=message, skipped=skipped, allow_skipped=allow_skipped, metadata=metadata, dim=time_dim,
                  concurrency=concurrency)


def append(dataset: xr.Dataset, target: Any, *, dim: str = "time", sources: Mapping[str, SourceStamp] | None = None,
           registry: Any = None, branch: str = "main", group: str | None = None, message: str | None = None,
           skipped: Mapping[str, str] | None = None, allow_skipped: bool = False,
           metadata: Mapping[str, Any] | None = None,
           concurrency: int = DEFAULT_CONCURRENCY) -> PublishResult:
    """Add ``dataset``'s steps along ``dim`` to a published cube in one commit.

    Existing references are never rewritten: virtual arrays are resized and only the new chunks get
    references (at chunk offset = old length / chunk size, so the old length must be a whole number of
    chunks along ``dim``); in-memory variables along ``dim`` (the ``time`` coordinate) are appended by
    xarray; everything else must match what is stored. Files already in the cube are refused. Earlier
    snapshots are untouched.
    """
    return _write(dataset, target, verb="append", sources=sources, registry=registry, branch=branch, group=group,
                  message=message, skipped=skipped, allow_skipped=allow_skipped, metadata=metadata, dim=dim,
                  concurrency=concurrency)


def _write(dataset: xr.Dataset, target: Any, *, verb: str, sources: Mapping[str, SourceStamp] | None,
           registry: Any, branch: str, group: str | None, message: str | None, skipped: Mapping[str, str] | None,
           allow_skipped: bool, metadata: Mapping[str, Any] | None, dim: str,
           concurrency: int) -> PublishResult:
    dataset, sources, skipped = _unpack(dataset, sources, skipped)
    skipped = dict(skipped or {})
    if skipped and not allow_skipped:
        raise PublishError(_list_files("file(s) were skipped by the build; nothing was committed (pass "
                                       "allow_skipped=True to publish the good files and record these)", skipped))
    started = time.perf_counter()
    virtual, empty, loadable = _split_variables(dataset)
    refs = {name: manifest_refs(var.data.manifest) for name, var in virtual.items()}
    urls = list(dict.fromkeys(u for r in refs.values() for u in r.urls))
    container_prefixes(urls)  # refuses memory:// and other non-referenceable URLs, naming them
    stamps = _stamps_for(urls, sources, registry, concurrency)
    _warn_if_logs_slow(sum(len(r) for r in refs.values()))
    state = _open_target(target, branch)
    session = state.session
    check_containers(session.config if hasattr(session, "config") else _repo_config(state), urls)
    try:
        if verb == "append":
            written = _append_arrays(session.store, group, dataset, virtual, empty, loadable, refs, stamps, dim)
        else:
            written = _publish_arrays(session.store, group, dataset, virtual, empty, loadable, refs, stamps)
        write_sources(session.store, group, [stamps[u] for u in urls], append=verb == "append")
        elapsed = time.perf_counter() - started
        time_range = _time_range(dataset, dim)
        text = message or _message(verb, len(urls), sum(written.values()), len(written), time_range, dim, skipped)
        meta = _commit_metadata(verb, len(urls), written, time_range, dim, skipped, metadata)
        snapshot, commit_seconds = None, 0.0
        if state.own_session:
            t0 = time.perf_counter()
            snapshot = session.commit(text, metadata=meta)
            commit_seconds = time.perf_counter() - t0
    except BaseException:
        if state.own_session or state.was_clean:
            session.discard_changes()
        raise
    return PublishResult(snapshot, text, meta, written, len(urls), elapsed, commit_seconds)


_warned_logs = False


def _warn_if_logs_slow(references: int) -> None:
    global _warned_logs
    if references < SLOW_LOGS_WARNING_REFS or _warned_logs or not span_tracing_active():
        return
    _warned_logs = True
    warnings.warn(
        f"writing {references} virtual references with Icechunk's log subscriber active: it formats every "
        "reference and makes the write several times slower; set ICECHUNK_NO_LOGS=1 before icechunk is "
        "first imported (e.g. in the environment) for the fast path", SlowIcechunkLogsWarning, stacklevel=4)


def _unpack(dataset: Any, sources: Mapping[str, SourceStamp] | None, skipped: Mapping[str, str] | None,
            ) -> tuple[xr.Dataset, Mapping[str, SourceStamp] | None, Mapping[str, str] | None]:
    """Accept the cube builder's ``VirtualCube`` (dataset, sources, failed) as well as a bare Dataset."""
    if isinstance(dataset, xr.Dataset):
        return dataset, sources, skipped
    inner = getattr(dataset, "dataset", None)
    if isinstance(inner, xr.Dataset) and hasattr(dataset, "sources"):
        return (inner, dataset.sources if sources is None else sources,
                getattr(dataset, "failed", None) if skipped is None else skipped)
    raise InvalidArgumentError(f"expected an xarray.Dataset or a VirtualCube, got {type(dataset).__name__}")


def _repo_config(state: _Target) -> ic.RepositoryConfig:
    return state.repo.config


def _publish_arrays(store: Any, group: str | None, dataset: xr.Dataset, virtual: Mapping[str, xr.Variable],
                    empty: Mapping[str, xr.Variable], loadable: Mapping[str, xr.Variable],
                    refs: Mapping[str, Refs], stamps: Mapping[str, SourceStamp]) -> dict[str, int]:
    root = zarr.open_group(store, mode="a", zarr_format=3)
    g = (group or "").strip("/")
    existing = [n for n in (*virtual, *empty, *loadable) if array_path(g, n) in root]
    if existing:
        raise InvalidArgumentError(f"group {g or '/'} already holds {existing}; use append(...) to add time steps "
                                   f"or publish to a new group/branch")
    loaded = xr.Dataset({n: v for n, v in loadable.items()}, attrs={})
    loaded.to_zarr(store, group=g or None, zarr_format=3, consolidated=False, mode="a")
    final = {name: _metadata(var, attributes=True) for name, var in {**virtual, **empty}.items()}
    under = {name: _metadata_for_refs(final[name]) for name in virtual}
    for name, meta in under.items():
        sync(_set_metadata(store, array_path(g, name), meta))
    written = write_refs(store, g, virtual, refs, stamps, {})
    for name, meta in final.items():
        if under.get(name) is not meta:
            sync(_set_metadata(store, array_path(g, name), meta))
    _set_group_attrs(store, g, dataset)
    return written


def _set_group_attrs(store: Any, group: str, dataset: xr.Dataset) -> None:
    node = zarr.open_group(store, path=group or None, mode="a", zarr_format=3)
    attrs = {k: encode_zarr_attr_value(v) for k, v in dataset.attrs.items()}
    coords = [str(c) for c in dataset.coords if c not in dataset.dims]
    if coords:
        attrs["coordinates"] = " ".join(coords)
    node.update_attributes(attrs)


def _append_arrays(store: Any, group: str | None, dataset: xr.Dataset, virtual: Mapping[str, xr.Variable],
                   empty: Mapping[str, xr.Variable], loadable: Mapping[str, xr.Variable],
                   refs: Mapping[str, Refs], stamps: Mapping[str, SourceStamp], dim: str) -> dict[str, int]:
    g = (group or "").strip("/")
    root = zarr.open_group(store, mode="r+", zarr_format=3)
    if dim not in dataset.dims:
        raise InvalidArgumentError(f"append needs the dimension {dim!r} in the dataset (dims: {list(dataset.dims)})")
    already = set(read_sources(store, g)) & set(stamps)
    if already:
        raise InvalidArgumentError(_list_files(f"file(s) are already in the cube at {g or '/'}",
                                               dict.fromkeys(sorted(already), "published earlier")))
    missing = [n for n in (*virtual, *loadable) if array_path(g, n) not in root and dim in dataset[n].dims]
    if missing:
        raise InvalidArgumentError(f"append: {missing} do not exist in group {g or '/'}; publish first")
    offsets: dict[str, tuple[int, ...]] = {}
    new_meta: dict[str, ArrayV3Metadata] = {}
    under: dict[str, ArrayV3Metadata] = {}
    for name, var in virtual.items():
        existing = root[array_path(g, name)]
        if dim not in var.dims:
            raise InvalidArgumentError(f"append: virtual array {name!r} has no {dim!r} dimension; "
                                       "only arrays along the append dimension can take new references")
        axis = var.dims.index(dim)
        _check_appendable(name, existing, var, axis)
        chunk = existing.chunks[axis]
        if existing.shape[axis] % chunk:
            raise InvalidArgumentError(f"append: {name!r} has {existing.shape[axis]} steps along {dim!r}, not a "
                                       f"multiple of its chunk size {chunk}; new references cannot start mid-chunk")
        shape = list(existing.shape)
        shape[axis] += var.shape[axis]
        offsets[name] = tuple(existing.shape[axis] // chunk if i == axis else 0 for i in range(var.ndim))
        new_meta[name] = _metadata(var, attributes=False, shape=tuple(shape)).update_attributes(dict(existing.attrs))
        under[name] = _metadata_for_refs(new_meta[name])
        sync(_set_metadata(store, array_path(g, name), under[name]))
    along = {n: v for n, v in loadable.items() if dim in v.dims}
    for name, var in loadable.items():
        if name not in along and array_path(g, name) in root:
            stored = np.asarray(root[array_path(g, name)][...])
            if stored.shape != var.shape or not np.array_equal(stored, np.asarray(var.values), equal_nan=True):
                raise InvalidArgumentError(f"append: {name!r} differs from the published one; appended steps "
                                           "must share the grid (x/y and other coordinates)")
    if along:
        # xarray's append rewrites the group's attributes with the (empty) ones of the dataset it is given:
        # keep the published ones (CF ``coordinates``, the store's ``virtual_geotiff`` description).
        group_attrs = dict(zarr.open_group(store, path=g or None, mode="r", zarr_format=3).attrs)
        xr.Dataset(along).to_zarr(store, group=g or None, zarr_format=3, consolidated=False, append_dim=dim)
        zarr.open_group(store, path=g or None, mode="a", zarr_format=3).attrs.put(group_attrs)
    written = write_refs(store, g, virtual, refs, stamps, offsets)
    for name, meta in new_meta.items():
        if under[name] is not meta:
            sync(_set_metadata(store, array_path(g, name), meta))
    return written


def _check_appendable(name: str, existing: Any, var: xr.Variable, axis: int) -> None:
    ma: ManifestArray = var.data
    problems = []
    if np.dtype(ma.dtype) != existing.dtype:
        problems.append(f"dtype {ma.dtype} vs {existing.dtype}")
    if tuple(ma.metadata.chunks) != tuple(existing.chunks):
        problems.append(f"chunks {tuple(ma.metadata.chunks)} vs {tuple(existing.chunks)}")
    if tuple(var.dims) != tuple(existing.metadata.dimension_names or ()):
        problems.append(f"dims {tuple(var.dims)} vs {existing.metadata.dimension_names}")
    other = [s for i, s in enumerate(ma.shape) if i != axis]
    if other != [s for i, s in enumerate(existing.shape) if i != axis]:
        problems.append(f"shape {ma.shape} vs {existing.shape} outside the append axis")
    new_codecs = [c.to_dict() for c in ma.metadata.codecs]
    old_codecs = [c.to_dict() for c in existing.metadata.codecs]
    if json.dumps(new_codecs, sort_keys=True, default=str) != json.dumps(old_codecs, sort_keys=True, default=str):
        problems.append(f"codecs {new_codecs} vs {old_codecs}")
    if problems:
        raise InvalidArgumentError(f"append: {name!r} does not match the published array: " + "; ".join(problems))
