"""Open TIFF headers by URL: one file (``read_header``) or many concurrently on one event loop
(``read_headers``), with each failure kept per file (``FailedSource``) and raised together (``raise_failed``).

Why one module: every entry point (parser, multiscale, cube, VRT reader and writer, CLI, drift checks) opens
headers the same way, through the obstore registry, with the same error when a URL has no store. Why many at
once: a build over thousands of objects is dominated by per-request latency. Reading headers one after
the other (or one event loop per file) pays that latency per file; here a fixed pool of ``concurrency``
worker coroutines pulls URLs from one queue, so at most ``concurrency`` requests are in flight, memory
stays bounded however many URLs there are, and one failed file never cancels the others.

``read_headers`` is a coroutine; ``read_headers_sync`` runs it from synchronous code, also where an
event loop already runs (Jupyter, dask workers), through ``_sync.run_sync``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry

from .._sync import run_sync
from ..errors import FailedSourcesError, InvalidArgumentError
from ..limits import Limits
from ..urls import normalize_url
from .reader import TiffHeader, read_tiff_header

#: Default number of header reads in flight: enough to hide an object store's per-request latency behind
#: other reads, few enough for object stores' per-prefix request rates (docs/performance.md measures it).
DEFAULT_CONCURRENCY = 128

#: ``progress(done, total, url)`` is called after each file (read or failed).
Progress = Callable[[int, int, str], Any]

_FATAL = (KeyboardInterrupt, SystemExit, MemoryError)


def resolve(url: str, registry: ObjectStoreRegistry) -> tuple[Any, str]:
    """The store and in-store path for ``url``, with an error that says how to register a store."""
    try:
        store, path = registry.resolve(url)
    except ValueError as exc:
        raise InvalidArgumentError(
            f"no object store is registered for {url}; register one first, e.g. "
            f"ObjectStoreRegistry({{'file://': LocalStore()}}) or {{'s3://bucket': S3Store('bucket')}}"
        ) from exc
    return store, str(path)


async def read_header(url: str, registry: ObjectStoreRegistry, limits: Limits) -> TiffHeader:
    """Read one file's IFDs through the store the registry resolves for ``url``; the header names the file by
    its canonical URL (``urls.normalize_url``), the string every manifest references."""
    store, path = resolve(url, registry)
    return await read_tiff_header(store, path, normalize_url(url), limits)


@dataclass(frozen=True)
class FailedSource:
    """A file whose header could not be read or planned, with the exception that said why."""

    url: str
    error: BaseException

    @property
    def reason(self) -> str:
        return f"{type(self.error).__name__}: {self.error}"

    def __reduce__(self) -> tuple[Any, ...]:
        # exceptions from Rust extensions do not always pickle: keep type and message across processes
        try:
            import pickle

            pickle.dumps(self.error)
            error = self.error
        except Exception:
            error = RuntimeError(self.reason)
        return (FailedSource, (self.url, error))


def check_concurrency(concurrency: int) -> int:
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise InvalidArgumentError(f"concurrency must be a positive int, got {concurrency!r}")
    return concurrency


async def read_headers(urls: Sequence[str], registry: ObjectStoreRegistry, limits: Limits | None = None, *,
                       concurrency: int = DEFAULT_CONCURRENCY, progress: Progress | None = None,
                       read: Callable[..., Any] | None = None) -> list[TiffHeader | FailedSource]:
    """The header of every URL, in input order; a file that fails gives a ``FailedSource`` in its place.

    ``read`` replaces the per-file coroutine (default ``read_header(url, registry, limits)``), for
    callers that do more per file on the same loop (the cube builder plans each file as it arrives).
    """
    check_concurrency(concurrency)
    limits = limits or Limits()
    read = read or read_header
    total = len(urls)
    results: list[Any] = [None] * total
    queue = iter(range(total))
    done = 0

    async def worker() -> None:
        nonlocal done
        for i in queue:  # a shared iterator: each index goes to exactly one worker
            url = urls[i]
            try:
                results[i] = await read(url, registry, limits)
            except _FATAL:
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                results[i] = FailedSource(url, exc)
            done += 1
            if progress is not None:
                progress(done, total, url)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return results


def read_headers_sync(urls: Sequence[str], registry: ObjectStoreRegistry, limits: Limits | None = None,
                      **kwargs: Any) -> list[TiffHeader | FailedSource]:
    """``read_headers`` from synchronous code (scripts, notebooks with a running loop, dask workers)."""
    return run_sync(read_headers(urls, registry, limits, **kwargs))


def split_failed(results: Sequence[Any]) -> tuple[list[Any], dict[str, FailedSource]]:
    """``read_headers``-style results as (the good ones in input order, the failures by URL)."""
    failed = {r.url: r for r in results if isinstance(r, FailedSource)}
    good = [r for r in results if not isinstance(r, FailedSource)] if failed else list(results)
    return good, failed


def raise_failed(failed: dict[str, FailedSource], *, alone_as_is: bool = False) -> None:
    """Raise ``FailedSourcesError`` listing every failed file (nothing when there is none). With
    ``alone_as_is``, a single failure re-raises that file's own error (a one-source build reads better so)."""
    if not failed:
        return
    if alone_as_is and len(failed) == 1:
        raise next(iter(failed.values())).error
    raise FailedSourcesError.from_failures(failed)
