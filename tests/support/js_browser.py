"""Headless Chromium for tests: open a page, wait for its title, take a screenshot (DevTools protocol over
aiohttp's websocket client), and a range server that serves a page cross-origin isolated.

Why the DevTools protocol and not ``chromium --screenshot``: the page reads data asynchronously (WASM, workers,
range requests); the test waits until the page says it is done (its title) and only then takes the picture.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from virtual_geotiff.testing import RangeHTTPServer

#: Debian's package name; the flags keep a headless run quiet and offline.
CHROMIUM = "chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--force-color-profile=srgb",
         "--force-device-scale-factor=1", "--hide-scrollbars"]

_MIME = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
         ".wasm": "application/wasm", ".json": "application/json"}


class IsolatedRangeServer(RangeHTTPServer):
    """The range server, plus the headers a page using SharedArrayBuffer needs (COOP/COEP) and MIME types
    browsers require for module scripts and WASM."""

    def _answer(self, request: Any, method: str, path: str, rng: str | None) -> Any:
        response = super()._answer(request, method, path, rng)
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Cross-Origin-Embedder-Policy"] = "require-corp"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
        mime = _MIME.get(Path(path).suffix)
        if mime and response.status in (200, 206):
            response.headers["Content-Type"] = mime
        return response


def chromium_available() -> bool:
    return shutil.which(CHROMIUM) is not None


def screenshot(url: str, *, width: int, height: int, done_prefix: str, timeout: float = 180.0) -> tuple[bytes, str]:
    """PNG bytes of the page at ``url`` (a ``width`` x ``height`` viewport) once its title starts with
    ``done_prefix``; also returns the final title. Raises TimeoutError with the page's title otherwise."""
    # Chromium's helper processes may still write into the profile after the browser exits: the whole process
    # group is ended, and a profile file that appears during clean-up is not an error.
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
                                 f"--window-size={width},{height}", "about:blank"], start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            return asyncio.run(_capture(port, url, width, height, done_prefix, timeout))
        finally:
            _end_group(proc)


def _end_group(proc: subprocess.Popen) -> None:
    """Terminate Chromium and every helper process it started (its own session), then reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(10)
            time.sleep(0.2)  # helpers leave after the browser
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        proc.wait(10)


async def _capture(port: int, url: str, width: int, height: int, done_prefix: str,
                   timeout: float) -> tuple[bytes, str]:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as resp:
            targets = await resp.json(content_type=None)
        page = next(t for t in targets if t.get("type") == "page")
        async with http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            ids = iter(range(1, 1_000_000))

            async def call(method: str, **params: Any) -> dict:
                msg_id = next(ids)
                await ws.send_str(json.dumps({"id": msg_id, "method": method, "params": params}))
                while True:
                    msg = json.loads((await ws.receive()).data)
                    if msg.get("id") == msg_id:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return msg["result"]

            await call("Page.enable")
            await call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                       mobile=False)
            await call("Page.navigate", url=url)
            deadline = time.monotonic() + timeout
            title = ""
            while time.monotonic() < deadline:
                title = (await call("Runtime.evaluate", expression="document.title"))["result"].get("value", "")
                if title.startswith(done_prefix):
                    break
                await asyncio.sleep(0.25)
            else:
                raise TimeoutError(f"the page did not finish within {timeout} s (title {title!r})")
            shot = await call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
            return base64.b64decode(shot["data"]), title
