"""Local servers for tests and benchmarks: an HTTP range server with fault injection, and moto's S3.

Why real servers: the retry, timeout and drift behaviour of a build depends on what obstore sees on the
wire (status codes, Content-Range, ETag, a connection reset mid-body). A mock store would test our
assumptions about obstore instead of obstore.

``RangeHTTPServer`` is a small aiohttp server (its own event loop in a daemon thread) that serves the files
under one directory: ``GET``/``HEAD`` with single byte ranges (206 + Content-Range, 416 past the end),
strong ETags and Last-Modified from ``stat`` (so a test that rewrites a file sees them change), optional
per-request latency, and ``Fault`` rules that make chosen requests answer 500/503, answer slowly, drop the
connection or send a truncated body.

``S3Server`` runs ``moto.server.ThreadedMotoServer`` on 127.0.0.1 on a free port, makes buckets, uploads
files and builds obstore ``S3Store`` objects (and Icechunk ``s3_store`` keywords) that point at it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import logging
import os
import random
import socket
import stat
import threading
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FaultKind = Literal["status", "slow", "drop", "truncate"]
_FAULT_KINDS = ("status", "slow", "drop", "truncate")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (for servers that need the port before they start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Fault:
    """One fault-injection rule of a ``RangeHTTPServer``.

    ``kind``: ``"status"`` answers ``status`` (default 503) with a short body; ``"slow"`` waits ``delay``
    seconds before answering normally; ``"drop"`` closes the connection without an answer; ``"truncate"``
    announces the full Content-Length, sends half the body and closes the connection.

    Which requests: those whose method is in ``methods`` and whose path contains ``path`` (when given).
    Of these, the first ``first`` are faulted, then a ``fraction`` of the rest (seeded, reproducible).
    With neither ``first`` nor ``fraction`` every matching request is faulted. ``seen``/``injected`` count
    the matching and faulted requests.
    """

    kind: FaultKind = "status"
    status: int = 503
    first: int | None = None
    fraction: float | None = None
    delay: float = 1.0
    path: str | None = None
    methods: tuple[str, ...] = ("GET",)
    seed: int = 0
    seen: int = 0
    injected: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in _FAULT_KINDS:
            raise ValueError(f"Fault kind must be one of {_FAULT_KINDS}, got {self.kind!r}")
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"Fault fraction must be in [0, 1], got {self.fraction}")
        self._rng = random.Random(self.seed)

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and (self.path is None or self.path in path)

    def fires(self) -> bool:
        """Count one matching request and decide whether to fault it."""
        self.seen += 1
        always = self.first is None and self.fraction is None
        if always or (self.first is not None and self.seen <= self.first):
            hit = True
        else:
            hit = self.fraction is not None and self._rng.random() < self.fraction
        self.injected += hit
        return hit


@dataclass(frozen=True)
class RequestRecord:
    """One request the HTTP server answered (or faulted)."""

    method: str
    path: str
    range: str | None
    status: int  # 0 for a dropped connection
    fault: str | None = None


class _Dropped(Exception):
    """Raised inside the handler after the connection was cut on purpose."""


class RangeHTTPServer:
    """Serve ``root`` over HTTP with byte ranges, latency and fault injection, in a background thread.

    Use as a context manager (``with RangeHTTPServer(tmp_path) as server: server.url_for("a.tif")``) or
    call ``start()``/``stop()``. With ``upstream="http://127.0.0.1:PORT"`` instead of a directory it is a
    fault-injecting proxy: requests that no fault rule catches are forwarded as they are (e.g. to
    ``S3Server``, whose S3Store then takes ``endpoint=proxy.url``). ``faults`` may be changed while the
    server runs (``inject``/``clear``). ``records`` lists every request when ``record=True`` (the default),
    for tests that count requests.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0, faults: Iterable[Fault] = (), record: bool = True,
                 upstream: str | None = None) -> None:
        if (root is None) == (upstream is None):
            raise ValueError("RangeHTTPServer serves either a directory (root=) or a proxy to upstream=, not both")
        self.upstream = upstream.rstrip("/") if upstream else None
        self._session: Any = None
        self.root = Path(root if root is not None else os.devnull).resolve()
        self._root_str = str(self.root)
        self._resolved: dict[str, str] = {}
        self.host = host
        self.port = port
        self.latency = latency
        self.faults: list[Fault] = list(faults)
        self.record = record
        self.records: list[RequestRecord] = []
        self.status_counts: Counter[int] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> RangeHTTPServer:
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._serve, name=f"RangeHTTPServer:{self.root}", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise RuntimeError(f"RangeHTTPServer failed to start: {self._error}") from self._error
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._session is not None:
            asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
            self._session = None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> RangeHTTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        from aiohttp import web

        # aiohttp logs every deliberately dropped connection as an error; tests do not want that noise
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)

        async def setup() -> None:
            server = web.Server(self._handle, access_log=None)
            self._runner = web.ServerRunner(server, handle_signals=False, access_log=None, shutdown_timeout=0.25)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

        try:
            loop.run_until_complete(setup())
            self._loop = loop
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    # -- addresses ------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    def url_for(self, relpath: str | os.PathLike[str]) -> str:
        """URL of a file under ``root`` (a relative path, or an absolute one inside ``root``)."""
        path = Path(relpath)
        if path.is_absolute():
            path = path.resolve().relative_to(self.root)
        return f"{self.url}/{path.as_posix()}"

    def store(self, *, retries: int | None = None, timeout: str | None = None, **client_options: Any) -> Any:
        """An obstore ``HTTPStore`` for this server. ``retries`` sets obstore's own retry count (its default
        retries 5xx answers for minutes; tests of our own retry logic pass ``retries=0``)."""
        from datetime import timedelta

        from obstore.store import HTTPStore

        options: dict[str, Any] = {"allow_http": True, **client_options}
        if timeout is not None:
            options["timeout"] = timeout
        retry_config = None
        if retries is not None:
            retry_config = {"max_retries": retries, "backoff": {"init_backoff": timedelta(milliseconds=10),
                                                                   "max_backoff": timedelta(milliseconds=100),
                                                                   "base": 2}}
        return HTTPStore.from_url(self.url, client_options=options, retry_config=retry_config)

    def registry(self, **store_kwargs: Any) -> Any:
        """An ``ObjectStoreRegistry`` with this server's store registered for its base URL."""
        from obspec_utils.registry import ObjectStoreRegistry

        return ObjectStoreRegistry({self.url: self.store(**store_kwargs)})

    # -- faults and records -----------------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        """Add fault rules (applied in order; the first that fires wins)."""
        self.faults.extend(faults)

    def clear(self) -> None:
        """Remove every fault rule and forget recorded requests."""
        self.faults = []
        self.records = []
        self.status_counts = Counter()

    @property
    def request_count(self) -> int:
        return sum(self.status_counts.values())

    def _note(self, method: str, path: str, rng: str | None, status: int, fault: str | None = None) -> None:
        self.status_counts[status] += 1
        if self.record:
            self.records.append(RequestRecord(method, path, rng, status, fault))

    # -- request handling ---------------------------------------------------------------------------------
    async def _handle(self, request: Any) -> Any:
        method, path, rng = request.method, request.path, request.headers.get("Range")
        if self.latency:
            await asyncio.sleep(self.latency)
        slowed = None
        for fault in self.faults:
            if fault.matches(method, path) and fault.fires():
                if fault.kind == "slow":
                    await asyncio.sleep(fault.delay)
                    slowed = fault.kind
                    break
                return await self._inject(fault, request, method, path, rng)
        response = await self._respond(request, method, path, rng)
        self._note(method, path, rng, response.status, slowed)
        return response

    async def _respond(self, request: Any, method: str, path: str, rng: str | None) -> Any:
        return await self._forward(request) if self.upstream else self._answer(request, method, path, rng)

    async def _forward(self, request: Any) -> Any:
        """Relay ``request`` to ``upstream`` and its answer back (hop-by-hop headers dropped)."""
        import aiohttp
        from aiohttp import web

        if self._session is None:
            self._session = aiohttp.ClientSession(auto_decompress=False)
        skip = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "te", "upgrade",
                "proxy-connection"}
        headers = {k: v for k, v in request.headers.items() if k.lower() not in skip}
        headers["Host"] = request.headers.get("Host", "")
        body = await request.read()
        async with self._session.request(request.method, self.upstream + request.raw_path, headers=headers,
                                         data=body or None, allow_redirects=False) as upstream:
            data = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in skip}
            if request.method == "HEAD" and "Content-Length" in upstream.headers:
                out["Content-Length"] = upstream.headers["Content-Length"]
            return web.Response(status=upstream.status, body=data, headers=out)

    async def _inject(self, fault: Fault, request: Any, method: str, path: str, rng: str | None) -> Any:
        from aiohttp import web

        if fault.kind == "status":
            self._note(method, path, rng, fault.status, fault.kind)
            return web.Response(status=fault.status, text=f"injected fault: HTTP {fault.status}\n")
        if fault.kind == "drop":
            self._note(method, path, rng, 0, fault.kind)
            request.transport.close()
            raise _Dropped()
        # truncate: a correct status line and Content-Length, then half the body and a closed connection
        response = await self._respond(request, method, path, rng)
        self._note(method, path, rng, response.status, fault.kind)
        body = response.body or b""
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        await stream.prepare(request)
        await stream.write(bytes(body[: len(body) // 2]))
        request.transport.close()
        raise _Dropped()

    def _file(self, path: str) -> str | None:
        """The file under ``root`` that ``path`` names, or None (never a file outside ``root``).

        Resolutions are cached per path string (the hot path serves the same few files thousands of
        times a second); whether the file still exists is checked by the ``stat`` of every request.
        """
        cached = self._resolved.get(path)
        if cached is not None:
            return cached
        parts = [p for p in path.split("/") if p]
        if not parts or any(p in (".", "..") or "\\" in p or "\0" in p for p in parts):
            return None
        resolved = os.path.realpath(os.path.join(self._root_str, *parts))
        if not resolved.startswith(self._root_str + os.sep):
            return None
        if len(self._resolved) < 100_000:
            self._resolved[path] = resolved
        return resolved

    def _answer(self, request: Any, method: str, path: str, rng: str | None) -> Any:
        from aiohttp import web

        if method not in ("GET", "HEAD"):
            return web.Response(status=405, headers={"Allow": "GET, HEAD"})
        file = self._file(path)
        try:
            st = os.stat(file) if file is not None else None
        except OSError:
            st = None
        if st is None or not stat.S_ISREG(st.st_mode):
            return web.Response(status=404, text="not found\n")
        size = st.st_size
        etag = f'"{st.st_mtime_ns:x}-{size:x}"'
        headers = {
            "ETag": etag,
            "Last-Modified": _http_date(int(st.st_mtime)),
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if_match = request.headers.get("If-Match")
        if if_match is not None and if_match.strip() not in ("*", etag):
            return web.Response(status=412, headers=headers)
        if_unmodified = request.headers.get("If-Unmodified-Since")
        if if_match is None and if_unmodified is not None and _changed_since(if_unmodified, int(st.st_mtime)):
            return web.Response(status=412, headers=headers)
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match is not None and if_none_match.strip() in ("*", etag):
            return web.Response(status=304, headers=headers)
        status, start, end = 200, 0, size
        if rng is not None:
            parsed = _parse_range(rng, size)
            if parsed is None:
                headers["Content-Range"] = f"bytes */{size}"
                return web.Response(status=416, headers=headers)
            status, (start, end) = 206, parsed
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        if method == "HEAD":
            return web.Response(status=status, headers={**headers, "Content-Length": str(end - start)})
        fd = os.open(file, os.O_RDONLY)  # type: ignore[arg-type]
        try:
            body = os.pread(fd, end - start, start)
        finally:
            os.close(fd)
        return web.Response(status=status, body=body, headers=headers)


def _changed_since(http_date: str, mtime: int) -> bool:
    """RFC 9110 If-Unmodified-Since: the object changed after the given date (an unparsable date is ignored)."""
    try:
        since = email.utils.parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return False
    return mtime > int(since.timestamp())


@functools.lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    return email.utils.formatdate(seconds, usegmt=True)


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``[start, end)`` of a single ``bytes=`` range, or None when it is unsatisfiable (416).

    Forms: ``a-b`` (inclusive, clipped to the object), ``a-`` (to the end), ``-n`` (the last n bytes).
    """
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    try:
        if not first:
            n = int(last)
            return (max(size - n, 0), size) if n > 0 and size > 0 else None
        start = int(first)
        end = size if not last else min(int(last) + 1, size)
    except ValueError:
        return None
    if start >= size or end <= start:
        return None
    return start, end


class S3Server:
    """moto's S3 on 127.0.0.1 (a free port), with helpers to fill buckets and build stores for it.

    Credentials are dummies; moto does not check signatures. Buckets are shared by every test in the
    process, so ``make_bucket()`` without a name makes a unique one.
    """

    region = "us-east-1"
    access_key_id = "testing"
    secret_access_key = "testing"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._client: Any = None

    def start(self) -> S3Server:
        if self._server is not None:
            return self
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> S3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def client(self) -> Any:
        """A boto3 S3 client for this server (for setup: buckets, uploads, overwrites)."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3", endpoint_url=self.endpoint, region_name=self.region,
                aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
            )
        return self._client

    def make_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a unique ``test-<hex>`` one when ``name`` is None) and return its name."""
        name = name or f"test-{uuid.uuid4().hex[:16]}"
        self.client.create_bucket(Bucket=name)
        return name

    def upload(self, bucket: str, key: str, data: bytes | str | os.PathLike[str]) -> str:
        """Put ``data`` (bytes, or the contents of a local file) at ``s3://bucket/key``; returns that URL."""
        body = data if isinstance(data, bytes) else Path(data).read_bytes()
        self.client.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def upload_dir(self, bucket: str, directory: str | os.PathLike[str], prefix: str = "") -> list[str]:
        """Upload every file under ``directory`` (keys keep their relative paths under ``prefix``)."""
        root = Path(directory)
        urls = []
        for file in sorted(p for p in root.rglob("*") if p.is_file()):
            key = "/".join(p for p in (prefix.strip("/"), file.relative_to(root).as_posix()) if p)
            urls.append(self.upload(bucket, key, file))
        return urls

    def store_config(self) -> dict[str, Any]:
        """``S3Store`` keywords (besides the bucket) that reach this server."""
        return {
            "endpoint": self.endpoint,
            "region": self.region,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "virtual_hosted_style_request": False,
            "client_options": {"allow_http": True},
        }

    def store(self, bucket: str, *, prefix: str | None = None, retries: int | None = None, **kwargs: Any) -> Any:
        """An obstore ``S3Store`` for ``bucket`` on this server (path-style, plain HTTP, dummy keys)."""
        from datetime import timedelta

        from obstore.store import S3Store

        config = {**self.store_config(), **kwargs}
        if retries is not None:
            config["retry_config"] = {"max_retries": retries,
                                      "backoff": {"init_backoff": timedelta(milliseconds=10),
                                                  "max_backoff": timedelta(milliseconds=100), "base": 2}}
        return S3Store(bucket, prefix=prefix, **config)

    def registry(self, *buckets: str, **store_kwargs: Any) -> Any:
        """An ``ObjectStoreRegistry`` with one store per bucket, registered for ``s3://bucket``."""
        from obspec_utils.registry import ObjectStoreRegistry

        return ObjectStoreRegistry({f"s3://{b}": self.store(b, **store_kwargs) for b in buckets})

    def icechunk_store_kwargs(self) -> dict[str, Any]:
        """Keywords of ``icechunk.s3_store(...)`` for a virtual chunk container on this server."""
        return {"region": self.region, "endpoint_url": self.endpoint, "allow_http": True,
                "s3_compatible": True, "force_path_style": True}

    def icechunk_credentials(self) -> Any:
        """``icechunk.s3_static_credentials`` for this server's dummy keys."""
        import icechunk

        return icechunk.s3_static_credentials(access_key_id=self.access_key_id,
                                              secret_access_key=self.secret_access_key)
