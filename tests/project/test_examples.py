"""Every script in ``scripts/examples/`` runs as a user runs it, and what it prints matches rasterio."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.paths import REPO

rasterio = pytest.importorskip("rasterio")

EXAMPLES = REPO / "scripts" / "examples"


def run_example(name: str, *args: str) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def printed_sum(stdout: str) -> float:
    return float(re.findall(r"sum=([0-9.e+-]+)", stdout)[-1])


def rasterio_sum(path: Path, window, overview_level: int | None = None) -> float:
    with rasterio.open(path, overview_level=overview_level) as src:
        return float(src.read(1, window=window).sum(dtype="float64"))


def test_read_window(tmp_path):
    out = run_example("read_window.py", "--out", str(tmp_path))
    window = rasterio.windows.Window(col_off=200, row_off=100, width=256, height=300)
    assert "window (300, 256) float32" in out
    assert printed_sum(out) == rasterio_sum(tmp_path / "sample.tif", window)


def test_publish_icechunk(tmp_path):
    out = run_example("publish_icechunk.py", "--out", str(tmp_path))
    assert "committed snapshot" in out and (tmp_path / "repo").is_dir()
    assert "all 3 source file(s) match their published checksums" in out
    last = tmp_path / "stack" / "scene_2.tif"
    assert printed_sum(out) == rasterio_sum(last, rasterio.windows.Window(0, 0, 256, 256))
    # The repository holds references, not pixels: far smaller than the TIFFs it points into.
    repo_bytes = sum(p.stat().st_size for p in (tmp_path / "repo").rglob("*") if p.is_file())
    assert repo_bytes < last.stat().st_size


def test_quicklook_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = run_example("quicklook_png.py", "--out", str(tmp_path), "--overview-level", "1")
    png = tmp_path / "quicklook_overview1.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert printed_sum(out) == rasterio_sum(tmp_path / "sample.tif", None, overview_level=1)
    assert "256 x 256 px" in out and np.isfinite(printed_sum(out))
