"""The ``virtual-geotiff inspect`` command, run as a subprocess the way users run it."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from tests.support.cli import run_cli


def test_inspect_json_reports_layout_and_codecs(tmp_path):
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, np.zeros((37, 53), "u2"), compression="lzw", tile=(16, 16))
    result = run_cli("inspect", str(path), "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    ifd = info["ifds"][0]
    assert ifd["shape"] == [37, 53] and ifd["chunks"] == [16, 16] and ifd["dtype"] == "uint16"
    assert ifd["codecs"] == ["bytes", "virtual_geotiff.lzw"]
    assert ifd["portable"] is False and ifd["custom_codecs"] == ["virtual_geotiff.lzw"]
    assert info["header_requests"] == 1


def test_inspect_human_output_and_unsupported_ifd(tmp_path):
    path = tmp_path / "b.tif"
    tifffile.imwrite(path, np.zeros((8, 8), "u1"), compression="zlib")
    result = run_cli("inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert "readable by: zarr-python yes; zarrita.js yes; GDAL yes; zarrs yes" in result.stdout


def test_missing_file_exit_code_and_one_line_error(tmp_path):
    result = run_cli("inspect", str(tmp_path / "missing.tif"))
    assert result.returncode == 3
    assert "error: " in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr


def test_not_a_tiff_exit_code(tmp_path):
    path = tmp_path / "c.tif"
    path.write_bytes(b"hello world, not a tiff at all")
    result = run_cli("inspect", str(path))
    assert result.returncode == 1
    assert "not a TIFF" in result.stderr


def test_errors_say_what_to_do_next(tmp_path):
    """Damaged files and unsupported features name a next step (re-copy, gdal_translate), not just the fault."""
    import pytest

    from tests.support.helpers import make_registry
    from virtual_geotiff import TiffFormatError, UnsupportedTiffError, VirtualTIFF

    registry = make_registry()
    good = tmp_path / "good.tif"
    tifffile.imwrite(good, np.zeros((64, 64), "u2"), compression="zlib", tile=(32, 32))
    data = good.read_bytes()
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(data[:20])  # header + the start of IFD 0
    with pytest.raises(TiffFormatError, match=r"re-copy the file from its source.*gdal_translate -of COG"):
        VirtualTIFF()(url=truncated.as_uri(), registry=registry)

    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) - 100])  # tiles end past the end of the object
    with pytest.raises(TiffFormatError, match="re-copy the file"):
        VirtualTIFF()(url=cut.as_uri(), registry=registry)

    jpegxr = tmp_path / "jpegxr.tif"
    tifffile.imwrite(jpegxr, np.zeros((8, 8), "u1"), compression="jpegxr")  # no JPEG-XR decoder is wired in
    with pytest.raises(UnsupportedTiffError, match="gdal_translate"):
        VirtualTIFF()(url=jpegxr.as_uri(), registry=registry)
