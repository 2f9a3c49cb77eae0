"""Per-reader readability (``virtual_geotiff.readers``): in ``inspect`` and in every store's attribute, and
consistent with the codecs the JavaScript package and the entry points really provide."""

from __future__ import annotations

import json
import re
import tomllib

import numpy as np
import tifffile
import virtualizarr

from tests.support.cli import run_cli
from tests.support.helpers import make_registry
from tests.support.paths import REPO as ROOT
from virtual_geotiff import VirtualTIFF
from virtual_geotiff.readers import JS_CODECS, PYTHON_CODECS, describe, readable_by

PRED2 = [{"name": "virtual_geotiff.horizontal_predictor", "configuration": {"axis": -1}},
         {"name": "bytes", "configuration": {"endian": "little"}},
         {"name": "numcodecs.zlib", "configuration": {"level": 6}}]


def test_python_codecs_are_the_entry_points():
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["zarr.codecs"]
    assert set(entry_points) == PYTHON_CODECS


def test_js_codecs_are_the_js_package_codecs():
    source = (ROOT / "js" / "src" / "index.js").read_text()
    block = source[source.index("export const CODECS"):source.index("});", source.index("export const CODECS"))]
    assert set(re.findall(r'"(virtual_geotiff\.[a-z0-9_]+)"', block)) == JS_CODECS


def test_deflate_predictor2_needs_addons_and_is_not_for_zarrs_or_gdal():
    got = readable_by([PRED2])
    assert got["zarr-python"] == {"readable": True, "requires": "pip install virtual-geotiff"}
    assert got["zarrita.js"] == {"readable": True, "requires": "npm install @virtual-geotiff/zarr-codecs"}
    assert got["zarrs"] == {"readable": False, "requires": None,
                            "unsupported": ["virtual_geotiff.horizontal_predictor"]}
    assert got["GDAL"]["readable"] is False and "kerchunk" in got["GDAL"]["via"]
    assert describe(got).startswith("zarr-python yes (pip install virtual-geotiff); zarrita.js yes (npm install")


def test_portable_chain_needs_nothing_and_transpose_is_not_for_gdal():
    got = readable_by([PRED2[1:]])
    assert all(e["readable"] and e["requires"] is None for e in got.values())
    rgb = readable_by([[{"name": "transpose", "configuration": {"order": [1, 2, 0]}}, {"name": "bytes"}]])
    assert rgb["GDAL"]["unsupported"] == ["transpose"] and rgb["zarrs"]["readable"]


def test_python_only_codecs_and_12bit_jpeg_are_not_for_zarrita():
    lerc = readable_by([[{"name": "bytes"}, {"name": "virtual_geotiff.lerc"}]])
    assert lerc["zarrita.js"]["unsupported"] == ["virtual_geotiff.lerc"] and lerc["zarr-python"]["readable"]
    jpeg12 = {"name": "virtual_geotiff.jpeg", "configuration": {"tables": None, "colorspace": None,
                                                                 "outcolorspace": None, "bits": 12}}
    assert not readable_by([[{"name": "bytes"}, jpeg12]])["zarrita.js"]["readable"]
    assert readable_by([[{"name": "bytes"}, {**jpeg12, "configuration": {**jpeg12["configuration"], "bits": 8}}]])[
        "zarrita.js"]["readable"]


def test_store_attribute_and_inspect_say_who_reads(tmp_path):
    path = tmp_path / "lzw.tif"
    tifffile.imwrite(path, np.arange(32 * 32, dtype="u2").reshape(32, 32), compression="lzw", tile=(16, 16))
    vds = virtualizarr.open_virtual_dataset(path.as_uri(), registry=make_registry(), parser=VirtualTIFF(ifd=0))
    attr = vds.attrs["virtual_geotiff"]["readable_by"]
    assert attr["zarrita.js"] == {"readable": True, "requires": "npm install @virtual-geotiff/zarr-codecs"}
    assert attr["zarrs"]["unsupported"] == ["virtual_geotiff.lzw"]
    result = run_cli("inspect", str(path), "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["ifds"][0]["readable_by"] == attr
    human = run_cli("inspect", str(path), timeout=120).stdout
    assert "readable by: zarr-python yes (pip install virtual-geotiff); zarrita.js yes (npm install " \
           "@virtual-geotiff/zarr-codecs); GDAL no (virtual_geotiff.lzw); zarrs no (virtual_geotiff.lzw)" in human


def test_libtiff_and_complex_int_chains_name_their_install():
    """libtiff chunks need the [libtiff] extra (rasterio) in Python and have no JavaScript decoder."""
    from virtual_geotiff.codecs.libtiff import INSTALL_HINT

    fax4 = readable_by([[{"name": "virtual_geotiff.libtiff", "configuration": {"width": 8}}]])
    assert fax4["zarr-python"] == {"readable": True, "requires": INSTALL_HINT}
    assert fax4["zarrita.js"]["unsupported"] == ["virtual_geotiff.libtiff"]
    assert "zarr-python yes (pip install 'virtual-geotiff[libtiff]')" in describe(fax4)
    cint = readable_by([[{"name": "virtual_geotiff.complex_int", "configuration": {"bits": 16}}]])
    assert cint["zarr-python"]["requires"] == "pip install virtual-geotiff"
    assert cint["zarrita.js"]["unsupported"] == ["virtual_geotiff.complex_int"]
