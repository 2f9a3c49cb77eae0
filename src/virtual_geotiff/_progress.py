"""Terminal output of the ``virtual-geotiff build`` command: a progress bar and a closing summary table.

Why a module of its own: the CLI wraps the builder and the publisher, which report progress through plain
callbacks (``progress(done, total, url)``); turning those into something a person can watch (files, bytes,
rate, ETA) and a log file can keep (plain lines, not carriage returns) is presentation only, kept apart so
``cli.py`` stays a thin argument-to-API mapping. Bytes come from a counting wrapper around the registry's
stores (``CountingStore``): the builder's callback gives file counts only.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO


def human_bytes(n: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def human_seconds(s: float) -> str:
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    s = max(0, round(s))
    hours, rest = divmod(s, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ByteCounter:
    """Bytes fetched so far, shared by every ``CountingStore`` of one build (updated from one event loop)."""

    def __init__(self) -> None:
        self.bytes = 0
        self.requests = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.bytes += n
            self.requests += 1


class _CountingResult:
    def __init__(self, result: Any, counter: ByteCounter) -> None:
        self._result = result
        self._counter = counter

    @property
    def meta(self) -> Any:
        return self._result.meta

    async def buffer_async(self) -> Any:
        data = await self._result.buffer_async()
        self._counter.add(len(memoryview(data)))
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._result, name)


class CountingStore:
    """An obstore store that counts the bytes of every range read (the header reads of a build)."""

    def __init__(self, store: Any, counter: ByteCounter) -> None:
        self._store = store
        self._counter = counter

    async def get_async(self, path: str, *, options: Any = None) -> Any:
        return _CountingResult(await self._store.get_async(path, options=options), self._counter)

    async def get_range_async(self, path: str, *, start: int, end: int | None = None,
                              length: int | None = None) -> Any:
        kwargs = {"end": end} if end is not None else {"length": length}
        data = await self._store.get_range_async(path, start=start, **kwargs)
        self._counter.add(len(memoryview(data)))
        return data

    async def get_ranges_async(self, path: str, *, starts: Sequence[int], ends: Sequence[int] | None = None,
                               lengths: Sequence[int] | None = None) -> Any:
        kwargs = {"ends": ends} if ends is not None else {"lengths": lengths}
        parts = await self._store.get_ranges_async(path, starts=starts, **kwargs)
        for part in parts:
            self._counter.add(len(memoryview(part)))
        return parts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class ProgressBar:
    """``progress(done, total, url)`` callback drawing files, bytes, rate and ETA on ``stream`` (stderr).

    On a terminal one line is redrawn in place (at most 10 times a second); otherwise (CI logs, pipes) a
    plain line is printed every ``every`` seconds and at the end, so logs stay readable.
    """

    def __init__(self, total: int, counter: ByteCounter | None = None, *, stream: TextIO | None = None,
                 label: str = "headers", every: float = 5.0, width: int = 24) -> None:
        self.total = total
        self.counter = counter
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.every = every if not self.tty else 0.1
        self.width = width
        self.started = time.perf_counter()
        self._last = -1e9
        self.done = 0

    def __call__(self, done: int, total: int, url: str = "") -> None:
        self.done, self.total = done, total
        now = time.perf_counter()
        if done < total and now - self._last < self.every:
            return
        self._last = now
        self._draw(now)

    def line(self, now: float | None = None) -> str:
        elapsed = max((now or time.perf_counter()) - self.started, 1e-9)
        rate = self.done / elapsed
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        parts = [f"{self.label} {self.done}/{self.total} files"]
        if self.counter is not None:
            parts.append(f"{human_bytes(self.counter.bytes)} read ({human_bytes(self.counter.bytes / elapsed)}/s)")
        parts.append(f"{rate:.1f} files/s")
        parts.append(f"ETA {human_seconds(eta)}" if self.done < self.total and rate > 0 else
                     f"in {human_seconds(elapsed)}")
        text = ", ".join(parts)
        if self.tty:
            filled = int(self.width * self.done / self.total) if self.total else self.width
            text = f"[{'#' * filled}{'.' * (self.width - filled)}] {text}"
        return text

    def _draw(self, now: float) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + self.line(now))
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()


def table(rows: Sequence[tuple[str, str]], title: str = "") -> str:
    """Two aligned columns, e.g. the build summary."""
    width = max((len(k) for k, _ in rows), default=0)
    lines = [title, "-" * max(len(title), 20)] if title else []
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)
