"""Publish a virtual cube to Icechunk: one atomic commit, per-file checksums, drift checks, appends.

``publish(dataset, repo, sources=...)`` writes an ``xarray.Dataset`` whose data variables are VirtualiZarr
``ManifestArray``s (as ``open_virtual_dataset`` or the cube builder return them) into an Icechunk
repository:

- coordinates and other small in-memory variables (``x``, ``y``, ``time``, ...) become native chunks,
  written by xarray; chunkless virtual arrays (``spatial_ref``) become metadata only;
- every virtual chunk becomes a virtual reference carrying its source file's checksum, the one Icechunk can
  verify when it reads: the ETag for object stores (S3, GCS, Azure), so even a rewrite within the same
  second fails the read; the last-modified time rounded up to whole seconds for local files and HTTP(S)
  (Icechunk sends a stored ETag without its quotes, which neither a local file nor a strictly comparing
  HTTP server matches). A later read of a changed source fails inside Icechunk with
  ``IcechunkError: the checksum of the object owning the virtual chunk has changed (<url>)``, which names
  the file; ``verify`` lists every drifted file up front and compares the full ETag and the size, so it also
  catches a local or HTTP rewrite within the checksum's second;
- a small ``_sources`` group stores each file's URL, checksum and size (native arrays), so ``verify`` and
  ``append`` need nothing but the repository;
- nothing is committed unless every step succeeded: the writes happen in one session that is committed
  last, with a message (and commit metadata) saying what was added and which files were skipped.

References go to Icechunk's ``set_virtual_refs_arr`` as numpy arrays: one call per group of files that
share a checksum, each covering the smallest block of the chunk grid that holds the group (``_refs``). No
Python object is made per reference. Icechunk's span tracing (installed at import unless
``ICECHUNK_NO_LOGS`` is set) formats the array's ``zarr.json`` per call, so the publisher sets references
under placeholder metadata while it is on (``_tracing``).

Repositories made by ``create_repository`` are in Icechunk's current format unless ``spec_version=1`` asks
for the previous one, which readers that have not upgraded Icechunk can open; both open, publish and append
alike. Their config fetches each
virtual chunk with one range request (``read_settings``); HTTP sources may use any port. ``append`` never
re-sets existing references, but Icechunk rewrites the array's manifest on commit unless the repository
config splits manifests along ``time`` (``create_repository(..., config=...)`` with
``ManifestSplittingConfig``).

This module is the public face; the work is done in private modules: ``_containers`` (prefixes, repository
config), ``_stamps`` (checksums, the ``_sources`` table), ``_refs`` (manifest arrays to references),
``_tracing`` (is Icechunk's span tracing on?), ``_publishing`` (``publish``/``append``), ``_drift``
(``verify``), ``_bands`` (``publish_bands``: every group of a band cube in one commit).
"""

from __future__ import annotations

from ..errors import PublishError
from ._bands import BandsPublished, publish_bands
from ._containers import (
    container_prefixes,
    create_repository,
    icechunk_url,
    open_repository,
    read_settings,
    virtual_chunk_containers,
)
from ._drift import DEFAULT_CONCURRENCY, Drift, DriftReport, verify
from ._publishing import SLOW_LOGS_WARNING_REFS, PublishResult, SlowIcechunkLogsWarning, append, publish
from ._stamps import SOURCES_GROUP, checksum, read_sources

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SLOW_LOGS_WARNING_REFS",
    "SOURCES_GROUP",
    "BandsPublished",
    "Drift",
    "DriftReport",
    "PublishError",
    "PublishResult",
    "SlowIcechunkLogsWarning",
    "append",
    "checksum",
    "container_prefixes",
    "create_repository",
    "icechunk_url",
    "open_repository",
    "publish",
    "publish_bands",
    "read_settings",
    "read_sources",
    "verify",
    "virtual_chunk_containers",
]
