"""Per-file checksums: what Icechunk stores with each reference, and the ``_sources`` table ``verify`` reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import zarr

from ..sources import SourceStamp

#: Name of the group (inside the published group) holding the per-file table used by ``verify``/``append``.
SOURCES_GROUP = "_sources"


#: Schemes whose Icechunk reads verify an ETag checksum (``If-Match`` as object stores compare it). Icechunk
#: strips the quotes of a stored ETag: a local file never matches it, nor does an HTTP server that compares
#: entity tags strictly (quoted, RFC 9110), so those sources are protected by their last-modified time.
_ETAG_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "azure://")


def checksum(stamp: SourceStamp) -> str | datetime | None:
    """The checksum Icechunk stores with each reference into ``stamp.url``, the one its reads can verify.

    Object stores (S3, GCS, Azure): the ETag when known, so even a rewrite within the same second fails the
    read. Local files and HTTP(S): last-modified rounded up to whole seconds (Icechunk's resolution; it sends
    ``If-Unmodified-Since``), so a rewrite within the same second as the build is caught by ``verify``, which
    compares the full ETag and size, not by the read. Without the preferred value, the other one; else None.
    """
    moment = round_up(stamp.last_modified) if stamp.last_modified is not None else None
    etag = stamp.etag.strip('"') if stamp.etag else None
    if stamp.url.startswith(_ETAG_SCHEMES):
        return etag or moment
    return moment or etag


def etag_for(url: str, etag: str) -> str:
    """The ETag as stored and compared: unquoted for local files, whose ETags Icechunk stores without quotes."""
    return etag.strip('"') if url.startswith("file://") else etag


def round_up(moment: datetime) -> datetime:
    """``moment`` rounded up to whole seconds (naive taken as UTC): Icechunk compares last-modified times in
    whole seconds (``If-Unmodified-Since``), and rounding down would make the unchanged file look modified
    after its own checksum."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    whole = moment.replace(microsecond=0)
    return whole + timedelta(seconds=1) if moment.microsecond else whole


def _sources_path(group: str | None) -> str:
    return f"{group.strip('/')}/{SOURCES_GROUP}" if group and group.strip("/") else SOURCES_GROUP


def write_sources(store: Any, group: str | None, stamps: Sequence[SourceStamp], *, append: bool) -> None:
    """Append (or create) the per-file table: url, checksum kind and value, size (-1 unknown)."""
    if not stamps:
        return
    urls = np.array([s.url for s in stamps], dtype=object)
    etags = np.array([etag_for(s.url, s.etag) if s.etag else "" for s in stamps], dtype=object)
    seconds = np.array([int(round_up(s.last_modified).timestamp()) if s.last_modified else -1 for s in stamps],
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


def has_sources(session_or_store: Any, group: str | None = None) -> bool:
    """Whether ``group`` holds a published cube's per-file table."""
    store = getattr(session_or_store, "store", session_or_store)
    return _sources_path(group) in zarr.open_group(store, mode="r", zarr_format=3)


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
