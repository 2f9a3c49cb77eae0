"""A caching, counting byte-range reader for one object's header bytes.

Why it exists: the chain walk reads a file's IFDs piece by piece; this reader answers those reads from
one prefetch (one GET per COG header), caps the header bytes read from a hostile file, retries transient
errors, and counts requests and bytes for benchmarks. IFDs placed after the image data (GDAL internal
masks, tifffile pyramids, OME) are read by ``fetch_regions``: just the IFD tables and out-of-line tag
values (coalesced, concurrently), never the pixel bytes in between.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ..errors import LimitExceededError, SourceReadError, TiffFormatError
from ..sources import SourceStamp

#: Retry transient object-store errors this many times (with exponential backoff) before giving up.
DEFAULT_RETRIES = 3
#: Seconds before the first retry; doubled after each (0.2, 0.4, 0.8 s for the default 3 retries).
DEFAULT_BACKOFF = 0.2


class _PastEnd(Exception):
    """The requested range starts at or after the object's end."""


@dataclass
class ReadStats:
    """Requests and bytes spent reading one file's header."""

    requests: int = 0
    bytes: int = 0


@dataclass
class CachedRangeReader:
    """Serves byte ranges of one object from cached segments, fetching only what is missing.

    """

    store: Any
    path: str
    url: str
    max_bytes: int
    retries: int = DEFAULT_RETRIES
    stats: ReadStats = field(default_factory=ReadStats)
    _segments: list[tuple[int, bytes]] = field(default_factory=list)
    eof: int | None = None
    #: The object's identity from the first GET's metadata (no extra request); None when the store gives none.
    stamp: SourceStamp | None = None

    def __repr__(self) -> str:
        # the dataclass repr would print every cached byte
        return f"CachedRangeReader({self.url!r})"

    async def _fetch(self, start: int, end: int) -> bytes:
        if self.stats.bytes + (end - start) > self.max_bytes:
            raise LimitExceededError(
                f"reading the header of {self.url} would exceed max_header_bytes={self.max_bytes} "
                f"(asked for bytes {start}-{end}); raise VirtualTIFF(limits=Limits(max_header_bytes=...)) "
                "if this file is legitimate"
            )
        try:
            data = await self._with_retries(f"bytes {start}-{end}", lambda: self._get(start, end))
        except _PastEnd:  # the object ends before `start`
            data = b""
        data = bytes(data)
        self.stats.requests += 1
        self.stats.bytes += len(data)
        if 0 < len(data) < end - start or (not data and start == 0):
            self.eof = start + len(data)  # a short read proves where the object ends; an empty one past the
            # end proves only that it ends before `start` (taking `start` as the end put repaired IFDs 2 GiB out)
        self._segments.append((start, data))
        return data

    async def _with_retries(self, what: str, call: Any) -> Any:
        """``await call()``, retrying transient errors (timeouts, dropped connections, 5xx) with exponential
        backoff; after the last attempt a ``SourceReadError`` names the URL, the range and the attempts.

        Missing objects (``FileNotFoundError``) are raised as they are: callers treat them specially (a
        missing ``.ovr`` sidecar is not an error).
        """
        delay = DEFAULT_BACKOFF
        for attempt in range(1, self.retries + 2):
            try:
                return await call()
            except FileNotFoundError:
                raise
            except Exception as exc:
                if _is_range_past_end(exc):
                    raise _PastEnd() from exc
                transient = _is_transient(exc)
                if attempt > self.retries or not transient:
                    how = (f"after {attempt} attempts (transient errors, retried with exponential backoff)"
                           if transient else f"after {attempt} attempt(s) (not retried: the error is not transient)")
                    raise SourceReadError(
                        f"reading {what} of {self.url} failed {how}: {_first_line(exc)}; "
                        f"{_configuration_hint(exc, self.url)}"
                    ) from exc
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    async def _get(self, start: int, end: int) -> Any:
        """One range GET; the first goes through ``get_async`` (when the store has it) to keep its metadata."""
        if self.stamp is None and hasattr(self.store, "get_async"):
            result = await self.store.get_async(self.path, options={"range": (start, end)})
            self.stamp = SourceStamp.from_meta(self.url, result.meta)
            return await result.buffer_async()
        return await self.store.get_range_async(self.path, start=start, end=end)

    def _cached(self, start: int, end: int) -> bytes | None:
        for seg_start, seg in self._segments:
            seg_end = seg_start + len(seg)
            if seg_start <= start and (end <= seg_end or (self.eof is not None and seg_end == self.eof)):
                return seg[start - seg_start : end - seg_start]
        return None

    async def read(self, start: int, end: int, *, min_fetch: int = 0) -> bytes:
        """Bytes ``[start, end)``; shorter only when the object ends first. A miss fetches at least
        ``min_fetch`` bytes (the chain walk's readahead)."""
        if start < 0 or end < start:
            raise TiffFormatError(f"invalid byte range {start}-{end} in {self.url}")
        if self.eof is not None and start >= self.eof:
            return b""
        data = self._cached(start, end)
        if data is None:
            fetched = await self._fetch(start, max(end, start + min_fetch))
            data = fetched[: end - start]
        return data

    def cached(self, start: int, end: int) -> bytes:
        """Bytes ``[start, end)`` from what was already fetched (``fetch_regions``); shorter (possibly empty)
        when they were not fetched, i.e. lie past the object's end."""
        data = self._cached(start, end)
        if data is not None:
            return data
        # a range that spans several fetched segments (a large tag value starting inside the prefetch)
        out, pos = bytearray(), start
        for seg_start, seg in sorted(self._segments):
            seg_end = seg_start + len(seg)
            if seg_start <= pos < seg_end:
                take = seg[pos - seg_start : min(end, seg_end) - seg_start]
                out += take
                pos += len(take)
                if pos >= end:
                    break
        return bytes(out)

    def _missing(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of ``[start, end)`` no cached segment covers."""
        out, pos = [], start
        for seg_start, seg in sorted(self._segments):
            seg_end = seg_start + len(seg)
            if seg_end <= pos or seg_start >= end:
                continue
            if seg_start > pos:
                out.append((pos, seg_start))
            pos = max(pos, seg_end)
            if pos >= end:
                break
        if pos < end:
            out.append((pos, end))
        return out

    async def fetch_regions(self, regions: tuple[tuple[int, int], ...], merge_gap: int) -> None:
        """Fetch the uncached parts of ``regions`` (ranges closer than ``merge_gap`` in one request, all
        requests concurrently)."""
        if self._segments and regions:  # the usual COG: every region inside the first prefetch
            seg_start, seg = self._segments[0]
            if seg_start <= regions[0][0] and max(end for _, end in regions) <= seg_start + len(seg):
                return
        missing = [gap for start, end in regions if end > start for gap in self._missing(start, end)]
        if self.eof is not None:
            missing = [(start, end) for start, end in missing if start < self.eof]
        merged: list[list[int]] = []
        for start, end in sorted(missing):
            if merged and start - merged[-1][1] <= merge_gap:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        if merged:
            await asyncio.gather(*(self._fetch(start, end) for start, end in merged))

    async def size(self) -> int:
        """The object's size in bytes: known once a read reached its end, else asked with one HEAD."""
        if self.eof is None:
            meta = await self._with_retries("the size (HEAD)", lambda: self.store.head_async(self.path))
            self.stats.requests += 1
            self.eof = int(meta["size"])
        return self.eof


def _is_range_past_end(exc: Exception) -> bool:
    """Local stores say 'Requested range was invalid', memory stores 'Invalid range ... StartTooLarge',
    HTTP/S3 answer 416 for a range past the end."""
    text = str(exc).lower()
    # not a bare "416": URLs with port 41600-41699 contain it
    return any(word in text for word in ("range was invalid", "status code: 416", "range not satisfiable",
                                         "invalidrange", "starttoolarge"))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0][:300] if text else ''}"


#: obstore exception types that no retry can fix.
_PERMANENT_ERRORS = frozenset({"PermissionDeniedError", "UnauthenticatedError", "NotFoundError", "InvalidPathError",
                               "NotSupportedError", "PreconditionError", "NotModifiedError", "AlreadyExistsError"})


#: Words of errors raised before any request was sent: the store's configuration refuses the URL.
_CONFIGURATION_ERRORS = ("builder error", "badscheme", "url scheme is not allowed", "relativeurlwithoutbase")


def _is_configuration_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(word in text for word in _CONFIGURATION_ERRORS)


def _configuration_hint(exc: Exception, url: str) -> str:
    """What to configure (permanent configuration errors) or to check (everything else)."""
    if _is_configuration_error(exc):
        if url.startswith("http://"):
            return ("the store refused the URL before sending a request: plain http:// is not allowed by default; "
                    "register an obstore HTTPStore with client_options={'allow_http': True} in the "
                    "ObjectStoreRegistry (command line: --allow-http), or use https://")
        return ("the store refused the URL before sending a request (a configuration error, not retried); check the "
                "URL's scheme and the client_options of the store registered for it")
    return "check the URL, the registered store's credentials and endpoint, and that the server is reachable"


def _is_transient(exc: Exception) -> bool:
    """Errors worth retrying: timeouts, dropped connections and 5xx answers (never access or path errors,
    whose long messages may mention a connection or a number that looks like a status, nor configuration
    errors such as obstore's "builder error" for plain http, which no retry can fix)."""
    if type(exc).__name__ in _PERMANENT_ERRORS or isinstance(exc, PermissionError) or _is_configuration_error(exc):
        return False
    text = f"{type(exc).__name__} {exc}".lower()
    return any(word in text for word in ("timeout", "timed out", "connection", "reset", " 500", " 502",
                                         " 503", " 504", "internal server error", "service unavailable",
                                         "slow down", "broken pipe", "incomplete", "error sending request",
                                         "body error"))
