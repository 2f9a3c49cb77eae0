"""Publish a virtual cube to Icechunk: one atomic commit, per-file checksums, drift checks, appends.

``publish(dataset, repo, sources=...)`` writes an ``xarray.Dataset`` whose data variables are VirtualiZarr
``ManifestArray``s (as ``open_virtual_dataset`` or the cube builder return them) into an Icechunk
repository:

- coordinates and other small in-memory variables (``x``, ``y``, ``time``, ...) become native chunks,
  written by xarray; chunkless virtual arrays (``spatial_ref``) become metadata only;
- every virtual chunk becomes a virtual reference carrying its source file's checksum: the ETag when the
  store gave one (quotes stripped for ``file://``, where Icechunk compares the bare value), else the
  last-modified time rounded up to whole seconds (Icechunk stores seconds and refuses a chunk whose object
  changed after it). A later read of a changed source fails inside Icechunk with
  ``IcechunkError: the checksum of the object owning the virtual chunk has changed (<url>)``, which names
  the file; ``verify`` lists every drifted file up front;
- a small ``_sources`` group stores each file's URL, checksum and size (native arrays), so ``verify`` and
  ``append`` need nothing but the repository;
- nothing is committed unless every step succeeded: the writes happen in one session that is committed
  last, with a message (and commit metadata) saying what was added and which files were skipped.

Speed. Icechunk 1.1 takes references only as a list of ``VirtualChunkSpec`` objects per array
(``store.set_virtual_refs``); there is no array-based variant. So the manifest's numpy arrays are turned
into the spec arguments with whole-array operations (chunk indices from ``np.nonzero``, per-file
checksums broadcast through run-length codes, no per-chunk dicts or path validation) and the specs are
built by one ``map`` call per batch, while a worker thread hands the previous batch to Icechunk's Rust
code (which releases the GIL). Icechunk's own tracing subscriber formats every span argument, including
the array's whole ``zarr.json``, once per reference; that costs far more than everything else together.
Two mitigations: references are set while the array has placeholder metadata (shape, dtype and chunk
grid only; codecs, dimension names and attributes follow in a final metadata write), and setting
``ICECHUNK_NO_LOGS=1`` before ``icechunk`` is first imported (an Icechunk setting) removes the
per-reference formatting altogether, at the price of Icechunk's log output and error span traces.
``scripts/bench/icechunk_refs.py`` measures both against ``vds.vz.to_icechunk``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import posixpath
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import icechunk as ic
import numpy as np
import xarray as xr
import zarr
from virtualizarr.manifests import ChunkManifest, ManifestArray
from xarray.backends.zarr import encode_zarr_attr_value
from zarr.core.buffer import default_buffer_prototype
from zarr.core.metadata.v3 import ArrayV3Metadata
from zarr.core.sync import sync

from ._sync import run_sync
from .errors import InvalidArgumentError, VirtualGeoTiffError
from .sources import SourceStamp

__all__ = [
    "SOURCES_GROUP",
    "Drift",
    "DriftReport",
    "PublishError",
    "PublishResult",
    "SlowIcechunkLogsWarning",
    "append",
    "container_prefixes",
    "create_repository",
    "icechunk_url",
    "open_repository",
    "publish",
    "read_sources",
    "verify",
    "virtual_chunk_containers",
]

#: Name of the group (inside the published group) holding the per-file table used by ``verify``/``append``.
SOURCES_GROUP = "_sources"
#: References handed to Icechunk per ``set_virtual_refs`` call (bounded memory, overlaps Python and Rust).
DEFAULT_BATCH = 65_536
#: Concurrent HEAD requests in ``verify`` (and when stamps are fetched for ``publish``).
DEFAULT_CONCURRENCY = 64
#: Variable attributes xarray keeps in ``encoding`` that must reach the Zarr attributes (as VirtualiZarr does).
_ENCODING_KEYS = ("_FillValue", "missing_value", "scale_factor", "add_offset")


#: Above this many references, ``publish``/``append`` warn (once) when Icechunk's log subscriber is active.
SLOW_LOGS_WARNING_REFS = 100_000


class SlowIcechunkLogsWarning(UserWarning):
    """Icechunk's tracing subscriber is active: every reference costs several times more to write."""


class PublishError(VirtualGeoTiffError, RuntimeError):
    """Publishing stopped; nothing was committed. The message says which step, array or file failed."""


# -- checksums ---------------------------------------------------------------------------------------------


def checksum(stamp: SourceStamp) -> str | datetime | None:
    """The checksum Icechunk stores with each reference into ``stamp.url``.

    The ETag when known (without quotes for ``file://``: Icechunk's local store compares bare values; S3 and
    HTTP compare the quoted form they serve), else last-modified rounded up to whole seconds, else None.
    """
    if stamp.etag:
        return _etag_for(stamp.url, stamp.etag)
    if stamp.last_modified is not None:
        return _round_up(stamp.last_modified)
    return None


def _etag_for(url: str, etag: str) -> str:
    return etag.strip('"') if url.startswith("file://") else etag


def _round_up(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if moment.microsecond else whole


# -- containers --------------------------------------------------------------------------------------------


_DEFAULT_PORTS = {"http": 80, "https": 443}


def icechunk_url(url: str) -> str:
    """``url`` as Icechunk 1.1 stores a virtual chunk location: it drops the port of http(s) URLs, so only the
    default port works (a non-default one is refused here, before anything is written)."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or parts.port is None:
        return url
    default = _DEFAULT_PORTS[parts.scheme]
    if parts.port != default:
        raise InvalidArgumentError(
            f"{url}: Icechunk 1.1 drops the port of virtual chunk URLs and would read "
            f"{parts.scheme}://{parts.hostname}{parts.path} instead; serve the files on port {default} "
            "or publish them from object storage (s3://)"
        )
    return urlunsplit(parts._replace(netloc=parts.hostname or ""))


def _container_groups(urls: Iterable[str]) -> dict[str, str]:
    """``{prefix: one of its URLs}`` (the URL resolves the prefix's store in a registry)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    examples: dict[tuple[str, str, str], str] = {}
    for url in urls:
        parts = urlsplit(icechunk_url(url) if urlsplit(url).scheme in _DEFAULT_PORTS else url)
        if not parts.scheme or parts.scheme == "memory":
            raise InvalidArgumentError(
                f"{url} is not an object-store URL Icechunk can reference; in-memory arrays (computed x/y "
                "coordinates) must be loaded: open with VirtualiZarr's default loadable_variables"
            )
        directory = posixpath.dirname(parts.path) or "/"
        top = directory.strip("/").split("/", 1)[0] if parts.scheme == "file" else ""
        key = (parts.scheme, parts.netloc, top)
        groups.setdefault(key, []).append(directory)
        examples.setdefault(key, url)
    prefixes = {}
    for key, dirs in sorted(groups.items()):
        scheme, netloc, _ = key
        common = posixpath.commonpath(dirs).rstrip("/")
        if scheme == "file" and not common:
            raise InvalidArgumentError(f"cannot make a file:// container for files at the filesystem root: {dirs[0]}")
        prefixes[f"{scheme}://{netloc}{common}/"] = examples[key]
    return prefixes


def container_prefixes(urls: Iterable[str]) -> list[str]:
    """The narrowest virtual chunk container prefixes covering ``urls``: one per bucket/host (per top-level
    directory for ``file://``, where Icechunk refuses a bare ``file:///``), at the deepest common directory."""
    return list(_container_groups(urls))


def virtual_chunk_containers(urls: Iterable[str], registry: Any = None) -> list[ic.VirtualChunkContainer]:
    """One ``VirtualChunkContainer`` per prefix of ``container_prefixes(urls)``.

    S3 options (endpoint, region, path style, plain HTTP) and HTTP client options are taken from the obstore
    store ``registry`` resolves for the prefix's URLs, so a moto or MinIO endpoint configured for the build
    is configured for reads too.
    """
    return [ic.VirtualChunkContainer(prefix, _store_config(prefix, registry, example))
            for prefix, example in _container_groups(urls).items()]


def _resolved_store(url: str, registry: Any) -> Any:
    if registry is None:
        return None
    try:
        store, _ = registry.resolve(url)
    except Exception:  # no store registered: defaults from the environment
        return None
    return store


def _store_config(prefix: str, registry: Any, example: str | None = None) -> Any:
    scheme = urlsplit(prefix).scheme
    if scheme == "file":
        return ic.local_filesystem_store(urlsplit(prefix).path.rstrip("/") or "/")
    store = _resolved_store(example or prefix + "x", registry)
    if scheme == "s3":
        config = dict(getattr(store, "config", None) or {})
        options = dict(getattr(store, "client_options", None) or {})
        endpoint = config.get("endpoint")
        return ic.s3_store(
            region=config.get("region"),
            endpoint_url=endpoint,
            allow_http=str(options.get("allow_http", "false")).lower() == "true",
            anonymous=str(config.get("skip_signature", "false")).lower() == "true",
            s3_compatible=endpoint is not None,
            force_path_style=str(config.get("virtual_hosted_style_request", "false")).lower() != "true"
            and endpoint is not None,
        )
    if scheme in ("http", "https"):
        options = {k: str(v) for k, v in (getattr(store, "client_options", None) or {}).items()}
        return ic.http_store(options or None)
    raise InvalidArgumentError(f"no Icechunk virtual chunk container type for {scheme}:// URLs ({prefix})")


def _credentials(prefix: str, registry: Any, given: Mapping[str, Any] | None) -> Any:
    if given and prefix in given:
        return given[prefix]
    if urlsplit(prefix).scheme != "s3":
        return None
    config = dict(getattr(_resolved_store(prefix + "x", registry), "config", None) or {})
    if str(config.get("skip_signature", "false")).lower() == "true":
        return ic.s3_credentials(anonymous=True)
    if config.get("access_key_id") and config.get("secret_access_key"):
        return ic.s3_credentials(access_key_id=config["access_key_id"],
                                 secret_access_key=config["secret_access_key"],
                                 session_token=config.get("token") or config.get("session_token"))
    return None


def create_repository(storage: ic.Storage, sources: Iterable[str] | Mapping[str, Any], *, registry: Any = None,
                      credentials: Mapping[str, Any] | None = None,
                      config: ic.RepositoryConfig | None = None) -> ic.Repository:
    """A new repository whose config has virtual chunk containers for exactly the sources' prefixes.

    ``sources``: the URLs (or the ``{url: SourceStamp}`` mapping) the cube references; ``registry``: the
    obstore registry used for the build (store options for S3/HTTP containers and S3 read credentials);
    ``credentials``: explicit ``{prefix: icechunk credentials}`` overriding those.
    """
    config = config or ic.RepositoryConfig.default()
    containers = virtual_chunk_containers(list(sources), registry)
    for container in containers:
        config.set_virtual_chunk_container(container)
    authorize = ic.containers_credentials(
        {c.url_prefix: _credentials(c.url_prefix, registry, credentials) for c in containers})
    return ic.Repository.create(storage, config, authorize_virtual_chunk_access=authorize)


def open_repository(storage: ic.Storage, *, registry: Any = None,
                    credentials: Mapping[str, Any] | None = None) -> ic.Repository:
    """Open a repository with read access authorised for every virtual chunk container in its config."""
    config = ic.Repository.fetch_config(storage)
    prefixes = list((config.virtual_chunk_containers or {}).keys()) if config is not None else []
    authorize = ic.containers_credentials({p: _credentials(p, registry, credentials) for p in prefixes})
    return ic.Repository.open(storage, authorize_virtual_chunk_access=authorize)


def _check_containers(config: ic.RepositoryConfig, urls: Sequence[str]) -> None:
    prefixes = list((config.virtual_chunk_containers or {}).keys())
    uncovered = [u for u in urls if not any(icechunk_url(u).startswith(p) for p in prefixes)]
    if uncovered:
        shown = ", ".join(uncovered[:5]) + (f" and {len(uncovered) - 5} more" if len(uncovered) > 5 else "")
        raise InvalidArgumentError(
            f"{len(uncovered)} source file(s) lie outside every virtual chunk container of the repository "
            f"(containers: {prefixes or 'none'}): {shown}. Create the repository with "
            f"virtual_geotiff.icechunk.create_repository(storage, sources) or add containers for "
            f"{container_prefixes(uncovered)}"
        )


# -- manifests as arrays -----------------------------------------------------------------------------------


@dataclass
class _Refs:
    """One array's references as flat arrays (no per-chunk Python objects until the specs are built)."""

    index: np.ndarray  # (n, ndim) int64 chunk indices
    codes: np.ndarray  # (n,) index into ``urls``
    urls: list[str]
    offsets: np.ndarray  # (n,) uint64
    lengths: np.ndarray  # (n,) uint64

    def __len__(self) -> int:
        return len(self.codes)


def _manifest_refs(manifest: ChunkManifest) -> _Refs:
    """Non-empty entries of a manifest. ``_paths``/``_offsets``/``_lengths`` are ChunkManifest's numpy
    arrays (its only array-level accessors); paths repeat in long runs (one file's chunks), so distinct
    URLs come from run boundaries instead of sorting every path."""
    paths, offsets, lengths = manifest._paths, manifest._offsets, manifest._lengths
    if paths.ndim == 0:
        paths, offsets, lengths = paths.reshape(1), offsets.reshape(1), lengths.reshape(1)
    present = paths != ""
    if present.all():
        index = np.indices(paths.shape).reshape(paths.ndim, -1).T
        flat, offs, lens = paths.ravel(), offsets.ravel(), lengths.ravel()
    else:
        index = np.stack(np.nonzero(present), axis=1) if paths.ndim else np.zeros((0, 0), np.int64)
        flat, offs, lens = paths[present], offsets[present], lengths[present]
    if manifest._paths.ndim == 0:
        index = np.zeros((len(flat), 0), dtype=np.int64)
    if not len(flat):
        return _Refs(index, np.zeros(0, np.intp), [], offs, lens)
    starts = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
    run_urls = flat[starts].tolist()
    table: dict[str, int] = {}
    run_codes = np.fromiter((table.setdefault(u, len(table)) for u in run_urls), dtype=np.intp, count=len(run_urls))
    codes = np.repeat(run_codes, np.diff(np.append(starts, len(flat))))
    return _Refs(index, codes, list(table), offs, lens)


def _specs(refs: _Refs, start: int, stop: int, chunk_offset: np.ndarray, etags: np.ndarray,
           stamps: np.ndarray) -> list[ic.VirtualChunkSpec]:
    """``VirtualChunkSpec``s for refs[start:stop]: every argument list comes from a whole-array operation."""
    index = refs.index[start:stop]
    if chunk_offset.any():
        index = index + chunk_offset
    codes = refs.codes[start:stop]
    urls = np.asarray(refs.urls, dtype=object)
    return list(map(ic.VirtualChunkSpec, index.tolist(), urls[codes].tolist(),
                    refs.offsets[start:stop].tolist(), refs.lengths[start:stop].tolist(),
                    etags[codes].tolist(), stamps[codes].tolist()))


# -- the sources table -------------------------------------------------------------------------------------


def _sources_path(group: str | None) -> str:
    return f"{group.strip('/')}/{SOURCES_GROUP}" if group and group.strip("/") else SOURCES_GROUP


def _write_sources(store: Any, group: str | None, stamps: Sequence[SourceStamp], *, append: bool) -> None:
    """Append (or create) the per-file table: url, checksum kind and value, size (-1 unknown)."""
    if not stamps:
        return
    urls = np.array([s.url for s in stamps], dtype=object)
    etags = np.array([_etag_for(s.url, s.etag) if s.etag else "" for s in stamps], dtype=object)
    seconds = np.array([int(_round_up(s.last_modified).timestamp()) if s.last_modified else -1 for s in stamps],
                       dtype=np.int64)
    sizes = np.array([-1 if s.size is None else int(s.size) for s in stamps], dtype=np.int64)
    columns = {"url": urls, "etag": etags, "last_modified": seconds, "size": sizes}
    path = _sources_path(group)
    root = zarr.open_group(store, mode="a", zarr_format=3)
    if append and path in root:
        table = root[path]
        n0 = table["url"].shape[0]
        for name, values in columns.items():
            arr = table[name]
            arr.resize((n0 + len(values),))
            arr[n0:] = values
        return
    table = root.require_group(path)
    table.attrs.update({"description": "virtual-geotiff source files: url, ETag (as checked), last-modified "
                                       "(epoch seconds, rounded up; -1 unknown), size (bytes; -1 unknown)"})
    for name, values in columns.items():
        dtype = str if values.dtype == object else values.dtype
        arr = table.create_array(name, shape=(len(values),), chunks=(65_536,), dtype=dtype,
                                 dimension_names=("source",), overwrite=True)
        arr[:] = values


def read_sources(session_or_store: Any, group: str | None = None) -> dict[str, SourceStamp]:
    """The per-file table a publish/append stored: ``{url: SourceStamp}`` (checksums as stored)."""
    store = getattr(session_or_store, "store", session_or_store)
    root = zarr.open_group(store, mode="r", zarr_format=3)
    path = _sources_path(group)
    if path not in root:
        return {}
    table = root[path]
    urls, etags, seconds, sizes = (table[n][:] for n in ("url", "etag", "last_modified", "size"))
    out = {}
    for url, etag, sec, size in zip(urls.tolist(), etags.tolist(), seconds.tolist(), sizes.tolist(), strict=True):
        out[url] = SourceStamp(url=url, etag=etag or None,
                               last_modified=datetime.fromtimestamp(sec, UTC) if sec >= 0 else None,
                               size=None if size < 0 else size)
    return out


# -- publishing --------------------------------------------------------------------------------------------


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
            has_refs = bool((var.data.manifest._paths != "").any())
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
        heads = run_sync(_head_all(lacking, registry, concurrency))
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


def _checksum_columns(urls: Sequence[str], stamps: Mapping[str, SourceStamp]) -> tuple[np.ndarray, np.ndarray]:
    etags = np.empty(len(urls), dtype=object)
    moments = np.empty(len(urls), dtype=object)
    for i, url in enumerate(urls):
        value = checksum(stamps[url])
        etags[i], moments[i] = (value, None) if isinstance(value, str) else (None, value)
    return etags, moments


def _array_path(group: str | None, name: str) -> str:
    g = (group or "").strip("/")
    return f"{g}/{name}" if g else name


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


def _placeholder(metadata: ArrayV3Metadata) -> ArrayV3Metadata:
    """The smallest metadata Icechunk accepts for setting references (shape, dtype, chunk grid): Icechunk's
    tracing formats the array's zarr.json once per reference, so references are set under this and the
    real metadata (codecs, dimension names, attributes) replaces it afterwards, in the same session."""
    meta = metadata.to_dict()
    endian = {"endian": "little"} if np.dtype(metadata.dtype.to_native_dtype()).itemsize > 1 else {}
    meta.update(codecs=[{"name": "bytes", "configuration": endian}], attributes={}, dimension_names=None)
    return ArrayV3Metadata.from_dict(meta)


async def _set_metadata(store: Any, path: str, metadata: ArrayV3Metadata) -> None:
    buffers = metadata.to_buffer_dict(default_buffer_prototype())
    await store.set(f"{path}/zarr.json", buffers["zarr.json"])


class _RefWriter:
    """Hands batches of specs to Icechunk on one worker thread while the caller builds the next batch."""

    def __init__(self, store: Any, batch: int) -> None:
        self.store, self.batch = store, batch
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="virtual-geotiff-icechunk")
        self.pending: list[Future] = []

    def write(self, path: str, refs: _Refs, stamps: Mapping[str, SourceStamp], chunk_offset: Sequence[int]) -> int:
        etags, moments = _checksum_columns(refs.urls, stamps)
        offset = np.asarray(chunk_offset, dtype=np.int64)
        for start in range(0, len(refs), self.batch):
            specs = _specs(refs, start, min(len(refs), start + self.batch), offset, etags, moments)
            self._drain(keep=1)
            self.pending.append(self.pool.submit(self._set, path, specs))
        return len(refs)

    def _set(self, path: str, specs: list[ic.VirtualChunkSpec]) -> None:
        failed = self.store.set_virtual_refs(path, specs, validate_containers=False)
        if failed:
            raise PublishError(f"Icechunk refused {len(failed)} reference(s) of {path}, e.g. chunk {failed[0]}")

    def _drain(self, keep: int = 0) -> None:
        while len(self.pending) > keep:
            self.pending.pop(0).result()

    def close(self) -> None:
        try:
            self._drain()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)


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
    from . import __version__

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
            metadata: Mapping[str, Any] | None = None, time_dim: str = "time", batch_size: int = DEFAULT_BATCH,
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
                  batch_size=batch_size, concurrency=concurrency)


def append(dataset: xr.Dataset, target: Any, *, dim: str = "time", sources: Mapping[str, SourceStamp] | None = None,
           registry: Any = None, branch: str = "main", group: str | None = None, message: str | None = None,
           skipped: Mapping[str, str] | None = None, allow_skipped: bool = False,
           metadata: Mapping[str, Any] | None = None, batch_size: int = DEFAULT_BATCH,
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
                  batch_size=batch_size, concurrency=concurrency)


def _write(dataset: xr.Dataset, target: Any, *, verb: str, sources: Mapping[str, SourceStamp] | None,
           registry: Any, branch: str, group: str | None, message: str | None, skipped: Mapping[str, str] | None,
           allow_skipped: bool, metadata: Mapping[str, Any] | None, dim: str, batch_size: int,
           concurrency: int) -> PublishResult:
    dataset, sources, skipped = _unpack(dataset, sources, skipped)
    if batch_size < 1:
        raise InvalidArgumentError(f"batch_size must be >= 1, got {batch_size}")
    skipped = dict(skipped or {})
    if skipped and not allow_skipped:
        raise PublishError(_list_files("file(s) were skipped by the build; nothing was committed (pass "
                                       "allow_skipped=True to publish the good files and record these)", skipped))
    started = time.perf_counter()
    virtual, empty, loadable = _split_variables(dataset)
    refs = {name: _manifest_refs(var.data.manifest) for name, var in virtual.items()}
    urls = list(dict.fromkeys(u for r in refs.values() for u in r.urls))
    container_prefixes(urls)  # refuses memory:// and other non-referenceable URLs, naming them
    stamps = _stamps_for(urls, sources, registry, concurrency)
    _warn_if_logs_slow(sum(len(r) for r in refs.values()))
    state = _open_target(target, branch)
    session = state.session
    _check_containers(session.config if hasattr(session, "config") else _repo_config(state), urls)
    try:
        if verb == "append":
            written = _append_arrays(session.store, group, dataset, virtual, empty, loadable, refs, stamps, dim,
                                     batch_size)
        else:
            written = _publish_arrays(session.store, group, dataset, virtual, empty, loadable, refs, stamps,
                                      batch_size)
        _write_sources(session.store, group, [stamps[u] for u in urls], append=verb == "append")
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
    if references < SLOW_LOGS_WARNING_REFS or _warned_logs or "ICECHUNK_NO_LOGS" in os.environ:
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
                    refs: Mapping[str, _Refs], stamps: Mapping[str, SourceStamp],
                    batch_size: int) -> dict[str, int]:
    root = zarr.open_group(store, mode="a", zarr_format=3)
    g = (group or "").strip("/")
    existing = [n for n in (*virtual, *empty, *loadable) if _array_path(g, n) in root]
    if existing:
        raise InvalidArgumentError(f"group {g or '/'} already holds {existing}; use append(...) to add time steps "
                                   f"or publish to a new group/branch")
    loaded = xr.Dataset({n: v for n, v in loadable.items()}, attrs={})
    loaded.to_zarr(store, group=g or None, zarr_format=3, consolidated=False, mode="a")
    # Set references under placeholder metadata: Icechunk formats the array metadata once per reference.
    for name, var in virtual.items():
        sync(_set_metadata(store, _array_path(g, name), _placeholder(_metadata(var, attributes=False))))
    written = _write_refs(store, g, virtual, refs, stamps, {}, batch_size)
    for name, var in {**virtual, **empty}.items():
        sync(_set_metadata(store, _array_path(g, name), _metadata(var, attributes=True)))
    _set_group_attrs(store, g, dataset)
    return written


def _write_refs(store: Any, group: str, virtual: Mapping[str, xr.Variable], refs: Mapping[str, _Refs],
                stamps: Mapping[str, SourceStamp], offsets: Mapping[str, Sequence[int]],
                batch_size: int) -> dict[str, int]:
    writer = _RefWriter(store, batch_size)
    written: dict[str, int] = {}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived spec objects: collection passes would dominate
    try:
        for name, var in virtual.items():
            path = _array_path(group, name)
            written[path] = writer.write(path, refs[name], stamps, offsets.get(name, (0,) * var.ndim))
    finally:
        try:
            writer.close()
        finally:
            if gc_was_enabled:
                gc.enable()
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
                   refs: Mapping[str, _Refs], stamps: Mapping[str, SourceStamp], dim: str,
                   batch_size: int) -> dict[str, int]:
    g = (group or "").strip("/")
    root = zarr.open_group(store, mode="r+", zarr_format=3)
    if dim not in dataset.dims:
        raise InvalidArgumentError(f"append needs the dimension {dim!r} in the dataset (dims: {list(dataset.dims)})")
    already = set(read_sources(store, g)) & set(stamps)
    if already:
        raise InvalidArgumentError(_list_files(f"file(s) are already in the cube at {g or '/'}",
                                               dict.fromkeys(sorted(already), "published earlier")))
    missing = [n for n in (*virtual, *loadable) if _array_path(g, n) not in root and dim in dataset[n].dims]
    if missing:
        raise InvalidArgumentError(f"append: {missing} do not exist in group {g or '/'}; publish first")
    offsets: dict[str, tuple[int, ...]] = {}
    new_meta: dict[str, ArrayV3Metadata] = {}
    for name, var in virtual.items():
        existing = root[_array_path(g, name)]
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
        meta = _metadata(var, attributes=False, shape=tuple(shape))
        new_meta[name] = meta.update_attributes(dict(existing.attrs))
        sync(_set_metadata(store, _array_path(g, name), _placeholder(meta)))
    along = {n: v for n, v in loadable.items() if dim in v.dims}
    for name, var in loadable.items():
        if name not in along and _array_path(g, name) in root:
            stored = np.asarray(root[_array_path(g, name)][...])
            if stored.shape != var.shape or not np.array_equal(stored, np.asarray(var.values), equal_nan=True):
                raise InvalidArgumentError(f"append: {name!r} differs from the published one; appended steps "
                                           "must share the grid (x/y and other coordinates)")
    if along:
        xr.Dataset(along).to_zarr(store, group=g or None, zarr_format=3, consolidated=False, append_dim=dim)
    written = _write_refs(store, g, virtual, refs, stamps, offsets, batch_size)
    for name, meta in new_meta.items():
        sync(_set_metadata(store, _array_path(g, name), meta))
    return written


def _check_appendable(name: str, existing: Any, var: xr.Variable, axis: int) -> None:
    ma: ManifestArray = var.data
    problems = []
    if np.dtype(ma.dtype) != existing.dtype:
        problems.append(f"dtype {ma.dtype} vs {existing.dtype}")
    if tuple(ma.chunks) != tuple(existing.chunks):
        problems.append(f"chunks {tuple(ma.chunks)} vs {tuple(existing.chunks)}")
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


# -- drift ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Drift:
    """One source that no longer matches its published checksum."""

    url: str
    reason: str  #: "etag changed", "modified after publishing", "size changed", "missing", "unreadable: ..."
    published: SourceStamp
    current: SourceStamp | None


@dataclass(frozen=True)
class DriftReport:
    """``verify``'s answer: every source checked, the drifted ones listed."""

    checked: int
    drifted: list[Drift] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.drifted

    @property
    def urls(self) -> list[str]:
        return [d.url for d in self.drifted]

    def __str__(self) -> str:
        if self.ok:
            return f"all {self.checked} source file(s) match their published checksums"
        lines = [f"{len(self.drifted)} of {self.checked} source file(s) drifted:"]
        lines += [f"  {d.url}: {d.reason}" for d in self.drifted]
        return "\n".join(lines)


def verify(target: Any, *, registry: Any, branch: str = "main", snapshot_id: str | None = None,
           group: str | None = None, concurrency: int = DEFAULT_CONCURRENCY) -> DriftReport:
    """HEAD every published source (bounded concurrency, one event loop) and report the drifted ones.

    ``target``: an ``icechunk.Repository`` (its ``branch`` or ``snapshot_id``), a session, or a store.
    ``registry``: the obstore registry that resolves the source URLs (as for the build).
    """
    if concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be >= 1, got {concurrency}")
    started = time.perf_counter()
    if isinstance(target, ic.Repository):
        session = (target.readonly_session(snapshot_id=snapshot_id) if snapshot_id
                   else target.readonly_session(branch=branch))
    else:
        session = target
    published = read_sources(session, group)
    heads = run_sync(_head_all(list(published), registry, concurrency))
    drifted = []
    for url, stamp in published.items():
        reason = _drift_reason(stamp, heads[url])
        if reason:
            current = heads[url] if isinstance(heads[url], SourceStamp) else None
            drifted.append(Drift(url, reason, stamp, current))
    return DriftReport(len(published), drifted, time.perf_counter() - started)


def _drift_reason(published: SourceStamp, current: SourceStamp | BaseException) -> str | None:
    if isinstance(current, FileNotFoundError):
        return "missing"
    if isinstance(current, BaseException):
        return f"unreadable: {current!r}"
    if published.etag and current.etag:
        if _etag_for(published.url, current.etag) != published.etag:
            return "etag changed"
    elif (published.last_modified is not None and current.last_modified is not None
          and _round_up(current.last_modified) > published.last_modified):
        return "modified after publishing"
    if published.size is not None and current.size is not None and published.size != current.size:
        return "size changed"
    return None


async def _head_all(urls: Sequence[str], registry: Any, concurrency: int) -> dict[str, SourceStamp | BaseException]:
    import obstore

    from .parser import resolve

    limit = asyncio.Semaphore(concurrency)

    async def head(url: str) -> SourceStamp | BaseException:
        async with limit:
            try:
                store, path = resolve(url, registry)
                meta = await obstore.head_async(store, path)
            except Exception as exc:
                return exc
        size = meta.get("size")
        return SourceStamp(url=url, etag=meta.get("e_tag"), last_modified=meta.get("last_modified"),
                           size=None if size is None else int(size))

    results = await asyncio.gather(*(head(u) for u in urls))
    return dict(zip(urls, results, strict=True))
