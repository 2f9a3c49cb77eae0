"""The issue 6 acceptance script (scripts/acceptance/cube_s3.py) on a small archive: every check passes.

It runs in a subprocess, as a user runs it: moto S3, open_virtual_cube, Icechunk, a fresh icechunk + xarray
reader compared with rasterio via /vsis3/, drift and append. What can fail: any of its checks (it exits 1
and prints FAIL), or a crash.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO

pytest.importorskip("moto.server")
pytest.importorskip("rasterio")
pytest.importorskip("icechunk")

SCRIPT = REPO / "scripts" / "acceptance" / "cube_s3.py"


@pytest.mark.slow
def test_acceptance_script_small(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--files", "20", "--seed", "3",
                             "--workdir", str(tmp_path / "work")], capture_output=True, text=True, timeout=120)
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-3000:]
    assert "ALL PASS (13 checks)" in out, out[-4000:]
    for check in ("stitched == rasterio", "time-stacked == rasterio", "verify lists exactly the changed object",
                  "earlier snapshot reads as before", "reader never imported virtual_geotiff"):
        assert check in out


def test_acceptance_script_refuses_bad_file_count(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--files", "15"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "multiple of 10" in result.stderr
