"""Requests per second the test HTTP range server sustains on loopback.

The server runs as tests use it (a thread of this process); the load comes from a concurrent aiohttp
client in a child process, so client and server do not share one interpreter lock.

    python scripts/http_server_load.py --seconds 5 --concurrency 64 --range-bytes 16384
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import tempfile
import time


def _client(url: str, seconds: float, concurrency: int, range_bytes: int, size: int, out: mp.Queue) -> None:
    import aiohttp

    async def run() -> tuple[int, int, int]:
        done = errors = nbytes = 0
        deadline = time.perf_counter() + seconds
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker(k: int) -> None:
                nonlocal done, errors, nbytes
                start = (k * 7919) % max(size - range_bytes, 1)
                while time.perf_counter() < deadline:
                    headers = {"Range": f"bytes={start}-{start + range_bytes - 1}"}
                    async with session.get(url, headers=headers) as resp:
                        body = await resp.read()
                        if resp.status == 206 and len(body) == range_bytes:
                            done += 1
                            nbytes += len(body)
                        else:
                            errors += 1
                    start = (start + 104729) % max(size - range_bytes, 1)

            await asyncio.gather(*(worker(k) for k in range(concurrency)))
        return done, errors, nbytes

    t0, c0 = time.perf_counter(), time.process_time()
    done, errors, nbytes = asyncio.run(run())
    out.put((done, errors, nbytes, time.perf_counter() - t0, time.process_time() - c0))


def _cpu() -> float:
    """CPU seconds this process (the server thread; the main thread only waits) has used."""
    t = os.times()
    return t.user + t.system


def main() -> None:
    from virtual_geotiff.testing import RangeHTTPServer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--range-bytes", type=int, default=16384)
    ap.add_argument("--size", type=int, default=16 * 1024 * 1024)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "data.bin"), "wb") as fh:
            fh.write(os.urandom(args.size))
        with RangeHTTPServer(tmp, record=False) as server:
            ctx = mp.get_context("spawn")
            out: mp.Queue = ctx.Queue()
            proc = ctx.Process(
                target=_client,
                args=(server.url_for("data.bin"), args.seconds, args.concurrency, args.range_bytes, args.size, out),
            )
            cpu0 = _cpu()
            proc.start()
            done, errors, nbytes, elapsed, client_cpu = out.get()
            proc.join()
            served = server.request_count
            server_cpu = _cpu() - cpu0
    print(f"{done / elapsed:.0f} req/s ({done} range GETs of {args.range_bytes} B in {elapsed:.2f} s, "
          f"concurrency {args.concurrency}, {errors} errors, {nbytes / elapsed / 1e6:.0f} MB/s, "
          f"server counted {served})")
    print(f"server CPU {server_cpu:.2f} s = {server_cpu / max(served, 1) * 1e6:.0f} us/request "
          f"-> {served / max(server_cpu, 1e-9):.0f} req per server CPU-second; client CPU {client_cpu:.2f} s")


if __name__ == "__main__":
    main()
