"""Servers for the network benchmarks, each in its own process so they never share the client's GIL.

- ``http_server(root, latency)``: ``virtual_geotiff.testing.servers.RangeHTTPServer`` (aiohttp, thousands of
  requests/s on loopback) with its per-request latency.
- ``s3_server()``: moto's S3 (``ThreadedMotoServer``), and ``latency_proxy(port, latency)``: a TCP proxy that
  holds every chunk of each request ``latency`` seconds before passing it on (the issue's "moto behind a
  proxy adding 20 ms per request"); responses flow back untouched.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator

_HTTP = """
import sys
from virtual_geotiff.testing.servers import RangeHTTPServer
s = RangeHTTPServer(sys.argv[1], latency=float(sys.argv[2]), record=False).start()
print(s.port, flush=True)
for line in sys.stdin:  # "latency SECONDS" changes the per-request latency (read by every request)
    s.latency = float(line.split()[1])
    print("ok", flush=True)
"""

_S3 = """
import sys
from virtual_geotiff.testing.servers import S3Server
s = S3Server().start()
print(s.port, flush=True)
sys.stdin.read()
"""

_PROXY = """
import asyncio, sys
target, latency = int(sys.argv[1]), float(sys.argv[2])

async def delayed(reader, writer, loop):
    queue = asyncio.Queue()
    async def read():
        while data := await reader.read(1 << 16):
            queue.put_nowait((loop.time() + latency, data))
        queue.put_nowait((0, b""))
    task = asyncio.ensure_future(read())
    while True:
        due, data = await queue.get()
        if not data:
            break
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        writer.write(data)
        await writer.drain()
    await task
    writer.close()

async def plain(reader, writer):
    while data := await reader.read(1 << 16):
        writer.write(data)
        await writer.drain()
    writer.close()

async def handle(creader, cwriter):
    loop = asyncio.get_running_loop()
    try:
        ureader, uwriter = await asyncio.open_connection("127.0.0.1", target)
        await asyncio.gather(delayed(creader, uwriter, loop), plain(ureader, cwriter))
    except (ConnectionError, OSError):
        cwriter.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


class HttpServer:
    """A running server process: ``base`` URL, and ``set_latency`` without a restart (imports are slow)."""

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.base = proc, f"http://127.0.0.1:{port}"

    def set_latency(self, seconds: float) -> None:
        self.proc.stdin.write(f"latency {seconds}\n")
        self.proc.stdin.flush()
        if self.proc.stdout.readline().strip() != "ok":
            raise RuntimeError("benchmark HTTP server did not take the new latency")


@contextlib.contextmanager
def _process(code: str, *args: object) -> Iterator[int]:
    """Run ``code`` in a child Python; yields the port it prints; closing its stdin ends it."""
    with _popen(code, *args) as (_, port):
        yield port


@contextlib.contextmanager
def _popen(code: str, *args: object) -> Iterator[tuple[subprocess.Popen, int]]:
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.strip():
            raise RuntimeError(f"benchmark server did not start: {code.splitlines()[2]}")
        yield proc, int(line)
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def http_server(root: str, latency: float = 0.0) -> Iterator[HttpServer]:
    with _popen(_HTTP, root, latency) as (proc, port):
        yield HttpServer(proc, port)


@contextlib.contextmanager
def s3_server() -> Iterator[int]:
    with _process(_S3) as port:
        yield port


@contextlib.contextmanager
def latency_proxy(port: int, latency: float) -> Iterator[int]:
    if latency <= 0:
        yield port
        return
    with _process(_PROXY, port, latency) as proxy_port:
        yield proxy_port
