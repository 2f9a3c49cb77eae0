"""Smoke run of scripts/compare_tools.py (the docs/comparison.md table) on two of its nine files.

What can fail here: the script crashing, a file key going missing, or virtual-geotiff no longer decoding a
COG with a predictor and a short-strip file exactly like rasterio (the other tools' cells are reported by the
script, not asserted here: they depend on the other tools' releases).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.support.paths import REPO

pytest.importorskip("virtual_tiff")
pytest.importorskip("kerchunk")
pytest.importorskip("rasterio")
pytest.importorskip("tifffile")

SCRIPT = REPO / "scripts" / "compare_tools.py"


@pytest.fixture(scope="module")
def compare_tools():
    spec = importlib.util.spec_from_file_location("compare_tools", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_tools"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("compare_tools", None)


def test_compare_tools_two_files(tmp_path, compare_tools, capsys):
    table = tmp_path / "table.md"
    assert compare_tools.main(["--only", "cog-deflate-pred2,lzw-strips-short", "--markdown", str(table)]) == 0
    text = table.read_text()
    assert capsys.readouterr().out == text
    lines = text.splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert header[:2] == ["File (writer, features)", "virtual-geotiff"] and len(header) == 5
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:] if line.startswith("| ")]
    assert [row[0] for row in rows] == ["COG, Deflate + predictor 2 (GDAL)", "LZW strips, last strip short (tifffile)"]
    assert [row[1] for row in rows] == ["exact", "exact"]
    assert lines[-1].startswith("Versions: python") and "GDAL" in lines[-1]


def test_verdict_names_the_largest_difference(compare_tools):
    import numpy as np

    want = np.zeros((1, 2, 3), "uint8")
    got = want[0].copy()
    assert compare_tools.verdict(got, want, None, "kerchunk") == "exact"
    got[1, 2] = 7
    assert compare_tools.verdict(got, want, None, "kerchunk") == "differs from GDAL by up to 7 levels"
    assert compare_tools.error_cell(ValueError("bad | thing\nmore")) == "error: `ValueError: bad \\| thing`"


def test_compare_tools_refuses_unknown_key(compare_tools, capsys):
    with pytest.raises(SystemExit) as exit_info:
        compare_tools.main(["--only", "no-such-file"])
    assert exit_info.value.code == 2 and "unknown file key(s) no-such-file" in capsys.readouterr().err
