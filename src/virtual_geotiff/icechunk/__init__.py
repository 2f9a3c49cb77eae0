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
code (which releases the GIL). Icechunk's own tracing subscriber (installed at import unless
``ICECHUNK_NO_LOGS`` is set) formats span arguments, including the array's ``zarr.json``, once per reference;
that costs far more than everything else together. The publisher detects it (``tracing``): with it,
references are set under placeholder metadata (shape, dtype and chunk grid only; codecs, dimension names and
attributes follow in a final metadata write); without it, under the real metadata (no final rewrite, which
would make Icechunk regroup every pending reference). Setting ``ICECHUNK_NO_LOGS=1`` before ``icechunk`` is
first imported removes the per-reference formatting altogether, at the price of Icechunk's log output and
error span traces; the library does not set it for you (the command line does). With it, Icechunk's own
work (``set_virtual_refs`` 2-4 us and ``commit`` 1-3 us per reference, measured alone on a 2-core machine)
is 65-80% of a large publish, and building the one ``VirtualChunkSpec`` per reference its API requires
(~0.9 us) most of the rest. ``scripts/bench/icechunk_refs.py`` measures both against ``vds.vz.to_icechunk``.

Known Icechunk 1.1 limits: virtual chunk URLs lose their port, so http(s) sources must be served on the
default port (others are refused up front, see ``icechunk_url``); ``append`` never re-sets existing
references, but Icechunk rewrites the array's manifest on commit unless the repository config splits
manifests along ``time`` (``create_repository(..., config=...)`` with ``ManifestSplittingConfig``).

Modules: ``containers`` (prefixes, repository config), ``stamps`` (checksums, the ``_sources`` table),
``refs`` (manifest arrays to references), ``tracing`` (is Icechunk's span tracing on?), ``publishing``
(``publish``/``append``), ``drift`` (``verify``).
"""

from __future__ import annotations

from ..errors import PublishError
from .containers import (
    container_prefixes,
    create_repository,
    icechunk_url,
    open_repository,
    read_settings,
    virtual_chunk_containers,
)
from .drift import DEFAULT_CONCURRENCY, Drift, DriftReport, verify
from .publishing import SLOW_LOGS_WARNING_REFS, PublishResult, SlowIcechunkLogsWarning, append, publish
from .stamps import SOURCES_GROUP, checksum, read_sources

__all__ = [
    "DEFAULT_CONCURRENCY",
    "SLOW_LOGS_WARNING_REFS",
    "SOURCES_GROUP",
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
    "read_settings",
    "read_sources",
    "verify",
    "virtual_chunk_containers",
]
