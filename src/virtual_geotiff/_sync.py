"""Run the library's async I/O from synchronous entry points, also where a loop already runs.

Jupyter and dask workers may already run an event loop in the calling thread; ``asyncio.run`` would
fail there, so the coroutine then runs on a fresh loop in a helper thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="virtual-geotiff") as pool:
        return pool.submit(asyncio.run, coro).result()
