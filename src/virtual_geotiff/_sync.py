"""Run the library's async I/O from synchronous entry points, also where a loop already runs.

Jupyter and dask workers may already run an event loop in the calling thread; ``asyncio.run`` would
fail there, so the coroutine then runs on a fresh loop in a helper thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run_sync[T](coro: Coroutine[Any, Any, T]) -> T:
    """``coro``'s result, from a fresh event loop (in a helper thread when this thread already runs one)."""
    box: list[T] = []

    async def main() -> None:
        # The main task returns None and the result travels beside it: when asyncio.run restores the SIGINT
        # handler it formats a repr of that handler, which holds the main task and so its result (a whole
        # build's headers, whose repr grows with the number of files).
        box.append(await coro)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(main())
        return box[0]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="virtual-geotiff") as pool:
        pool.submit(asyncio.run, main()).result()
    return box[0]
