"""The README's first command runs ``scripts/quickstart.py``: keep it true by running it here."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import numpy as np

from tests.support.paths import REPO

SCRIPT = REPO / "scripts" / "quickstart.py"


def test_quickstart_checks_pass(tmp_path):
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "qs")], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    out = result.stdout
    assert "All checks passed." in out and "MISMATCH" not in out
    assert "data{'time': 2, 'y': 512, 'x': 1024}" in out  # one cube: 2 months stacked, 2 tiles stitched
    assert "all 4 source file(s) match their published checksums" in out  # verify found no drift
    assert (tmp_path / "qs" / "icechunk-repo").is_dir()


def test_quickstart_fails_on_a_wrong_pixel(tmp_path, monkeypatch, capsys):
    """The script's checks can fail: one pixel off in the reference read makes it exit non-zero."""
    spec = importlib.util.spec_from_file_location("quickstart_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    honest = module.rasterio_read

    def off_by_one(path, window=None, overview_level=None):
        want = honest(path, window, overview_level)
        if path.name.endswith("_east.tif") and window is None and overview_level is None:
            want[0, 0] = np.float32(want[0, 0] + 1)
        return want

    monkeypatch.setattr(module, "rasterio_read", off_by_one)
    assert module.main(["--out", str(tmp_path / "qs")]) == 1
    captured = capsys.readouterr()
    assert "MISMATCH" in captured.out and "_east.tif: pixels" in captured.err
