"""The benchmark suite's smoke run: every section on a tiny archive, as CI runs it (numbers not checked).

What can fail here: a section crashing, a contender's decoded pixels differing from rasterio (the reads
section compares them before timing), or a COG header costing more than one request.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.paths import REPO

pytest.importorskip("virtual_tiff")
pytest.importorskip("moto")

SCRIPT = REPO / "scripts" / "bench" / "run.py"


def test_bench_smoke(tmp_path):
    table = tmp_path / "table.md"
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--cache", str(tmp_path / "cache"),
                             "--tmp", str(tmp_path), "--markdown", str(table)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = table.read_text().splitlines()
    sections = {row.split("|")[1].strip() for row in rows[2:]}
    assert {"local", "http 0 ms", "http 20 ms", "s3 (moto) 0 ms", "s3 (moto) 20 ms", "requests", "icechunk",
            "reads", "memory"} <= sections
    cog_requests = next(r for r in rows if "COG 1024 px: requests per header" in r)
    assert "| 1 req |" in cog_requests, cog_requests
