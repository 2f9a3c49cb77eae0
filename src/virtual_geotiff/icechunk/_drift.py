"""``verify``: HEAD every published source on one event loop and list the ones that changed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import icechunk as ic

from .._sync import run_sync
from ..errors import InvalidArgumentError
from ..sources import SourceStamp
from ..tiff.headers import check_concurrency, resolve
from ._stamps import SOURCES_GROUP, etag_for, has_sources, read_sources, round_up

#: Concurrent HEAD requests in ``verify`` (and when stamps are fetched for ``publish``).
DEFAULT_CONCURRENCY = 64


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
    check_concurrency(concurrency)
    started = time.perf_counter()
    if isinstance(target, ic.Repository):
        session = (target.readonly_session(snapshot_id=snapshot_id) if snapshot_id
                   else target.readonly_session(branch=branch))
    else:
        session = target
    if not has_sources(session, group):
        raise InvalidArgumentError(
            f"no cube published by virtual-geotiff in group {group or '/'} (no {SOURCES_GROUP} table): nothing to "
            "verify; pass group= for a cube published into a subgroup")
    published = read_sources(session, group)
    heads = run_sync(head_all(list(published), registry, concurrency))
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
        if etag_for(published.url, current.etag) != published.etag:
            return "etag changed"
    elif (published.last_modified is not None and current.last_modified is not None
          and round_up(current.last_modified) > published.last_modified):
        return "modified after publishing"
    if published.size is not None and current.size is not None and published.size != current.size:
        return "size changed"
    return None


async def head_all(urls: Sequence[str], registry: Any, concurrency: int) -> dict[str, SourceStamp | BaseException]:
    """``{url: SourceStamp or the exception}``: one HEAD per URL, at most ``concurrency`` at a time, so one
    unreachable file is reported with the others instead of stopping the check."""
    import obstore

    limit = asyncio.Semaphore(concurrency)

    async def head(url: str) -> SourceStamp | BaseException:
        async with limit:
            try:
                store, path = resolve(url, registry)
                meta = await obstore.head_async(store, path)
            except Exception as exc:
                return exc
        return SourceStamp.from_meta(url, meta)

    results = await asyncio.gather(*(head(u) for u in urls))
    return dict(zip(urls, results, strict=True))
