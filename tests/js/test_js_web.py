"""The static web page docs/examples/web, checked once in headless Chromium: it opens a cube published to
Icechunk (virtual chunks over HTTP) with @earthmover/icechunk's WASM build, zarrita and our codecs, draws a
quick-look of one time step, and the screenshot's pixels equal the quick-look rendered from rasterio's reads.

Set ``VG_WEB_SCREENSHOT=<path.png>`` to keep the screenshot (the docs show one made this way).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import imagecodecs
import numpy as np
import pytest

from tests.support.js_browser import IsolatedRangeServer, chromium_available, screenshot
from tests.support.js_node import ROOT, require_node

ic = pytest.importorskip("icechunk")
rasterio = pytest.importorskip("rasterio")

from rasterio.transform import from_origin  # noqa: E402

from virtual_geotiff import icechunk as vic  # noqa: E402
from virtual_geotiff.cube import open_virtual_cube  # noqa: E402

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.slow]
WEB = ROOT / "docs" / "examples" / "web"
DATES = ("20240101", "20240102")
TILE = 64


def build_page(out: Path) -> None:
    """npm ci (once) and the esbuild bundle of the page into ``out``."""
    require_node()
    if not (WEB / "node_modules").is_dir():
        result = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True,
                                timeout=600, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stdout + result.stderr
    result = subprocess.run(["node", "build.mjs", str(out)], cwd=WEB, capture_output=True, text=True, timeout=600,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr


def write_grid(www: Path) -> list[Path]:
    """2 x 2 Deflate + Predictor 2 tiles per date, uint16, 32 x 32 blocks: the quick start's COG setting."""
    paths = []
    for s, date in enumerate(DATES):
        for r in range(2):
            for c in range(2):
                y, x = np.mgrid[0:TILE, 0:TILE]
                data = ((y + r * TILE) * 97 + (x + c * TILE) * 13 * (s + 1) + (x * y) % 7 * 300) % 60_000
                path = www / f"grid_{date}_r{r}_c{c}.tif"
                with rasterio.open(path, "w", driver="GTiff", width=TILE, height=TILE, count=1, dtype="uint16",
                                   crs="EPSG:32633", transform=from_origin(500_000 + c * TILE * 10,
                                                                           5_000_000 - r * TILE * 10, 10, 10),
                                   tiled=True, blockxsize=32, blockysize=32, compress="deflate",
                                   predictor=2) as dst:
                    dst.write(data.astype("u2"), 1)
                paths.append(path)
    return paths


def rasterio_quicklook(paths: list[Path], date: str) -> np.ndarray:
    """The page's quick-look computed from rasterio's reads: floor((v - min) * 255 / (max - min))."""
    mosaic = np.zeros((2 * TILE, 2 * TILE), "i8")
    for path in paths:
        if date not in path.name:
            continue
        r, c = int(path.stem[-4]), int(path.stem[-1])
        with rasterio.open(path) as src:
            mosaic[r * TILE:(r + 1) * TILE, c * TILE:(c + 1) * TILE] = src.read(1)
    lo, hi = mosaic.min(), mosaic.max()
    return ((mosaic - lo) * 255 // max(hi - lo, 1)).astype("u1")


@pytest.mark.skipif(not chromium_available(), reason="chromium is not installed (apt-get install chromium)")
def test_web_page_quicklook_matches_rasterio(tmp_path):
    build_page(tmp_path / "web")
    www = tmp_path / "www"
    www.mkdir()
    paths = write_grid(www)
    with IsolatedRangeServer(tmp_path) as server:
        reg = server.registry()
        urls = [server.url_for(p) for p in paths]
        built = open_virtual_cube(urls, reg, stack_values=r"_(\d{8})_", stack_format="%Y%m%d")
        repo = vic.create_repository(ic.local_filesystem_storage(str(tmp_path / "repo")), urls, registry=reg)
        vic.publish(built, repo, registry=reg)
        containers = "&".join(f"container={c}" for c in repo.config.virtual_chunk_containers)
        url = f"{server.url_for(tmp_path / 'web' / 'index.html')}?repo=../repo&{containers}&array=/data&t=1"
        png, title = screenshot(url, width=2 * TILE + 72, height=2 * TILE + 40, done_prefix="quicklook")
    assert title == "quicklook ready", title
    if os.environ.get("VG_WEB_SCREENSHOT"):
        shutil.copyfile(_save(tmp_path, png), os.environ["VG_WEB_SCREENSHOT"])
    pixels = imagecodecs.png_decode(png)
    expected = rasterio_quicklook(paths, DATES[1])
    drawn = pixels[: 2 * TILE, : 2 * TILE, :3]
    for channel in range(3):
        np.testing.assert_array_equal(drawn[..., channel], expected)
    assert not np.array_equal(expected, rasterio_quicklook(paths, DATES[0]))  # t=1 really is another picture


def _save(tmp_path: Path, png: bytes) -> Path:
    path = tmp_path / "screenshot.png"
    path.write_bytes(png)
    return path
