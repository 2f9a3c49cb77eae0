"""Every codec test vector in spec/vectors decodes, through zarr-python and our codecs, to its expected bytes.

The vectors' encoded chunks come from tifffile, GDAL and imagecodecs encoders (scripts/make_codec_vectors.py), and
the JavaScript package in js/ checks itself against the same files, so both implementations answer to one spec.
Each vector is read the way a store is read: a one-chunk Zarr v3 array with the vector's codec chain.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from pathlib import Path

import numpy as np
import pytest
import zarr
from zarr.storage import MemoryStore

from tests.support.paths import REPO
from virtual_geotiff.errors import TiffFormatError

VECTORS = REPO / "spec" / "vectors"
CASES = sorted(VECTORS.glob("*/*.json"))
CODEC_NAMES = {
    "virtual_geotiff.horizontal_predictor", "virtual_geotiff.floating_point_predictor", "virtual_geotiff.pad",
    "virtual_geotiff.lzw", "virtual_geotiff.packbits", "virtual_geotiff.jpeg", "virtual_geotiff.webp",
    "virtual_geotiff.jpegxl", "virtual_geotiff.png", "virtual_geotiff.lerc", "virtual_geotiff.jpeg2000",
    "virtual_geotiff.bitunpack", "virtual_geotiff.bitorder", "virtual_geotiff.mask_8bit",
    "virtual_geotiff.complex_int", "virtual_geotiff.libtiff",
}
#: Codecs that decode through an optional dependency: their vectors are skipped when it is missing.
NEEDS = {"virtual_geotiff.libtiff": ("rasterio", "the 'libtiff' extra (pip install 'virtual-geotiff[libtiff]')")}


def _array(meta: dict, chunk: bytes) -> zarr.Array:
    """A one-chunk Zarr v3 array holding ``chunk`` under the vector's metadata."""
    z = meta["zarr"]
    doc = {
        "zarr_format": 3, "node_type": "array", "shape": z["shape"], "data_type": z["data_type"],
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": z["shape"]}},
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": z["fill_value"], "codecs": z["codecs"], "attributes": {},
    }
    key = "c/" + "/".join("0" for _ in z["shape"])
    store = MemoryStore({"zarr.json": zarr.core.buffer.cpu.Buffer.from_bytes(json.dumps(doc).encode()),
                         key: zarr.core.buffer.cpu.Buffer.from_bytes(chunk)})
    return zarr.open_array(store, mode="r")


def _load(path: Path) -> tuple[dict, bytes, np.ndarray]:
    meta = json.loads(path.read_text())
    encoded = (path.parent / meta["encoded"]).read_bytes()
    decoded = (path.parent / meta["decoded"]).read_bytes()
    assert hashlib.sha256(encoded).hexdigest() == meta["encoded_sha256"]
    assert hashlib.sha256(decoded).hexdigest() == meta["decoded_sha256"]
    dtype = np.dtype(meta["zarr"]["data_type"]).newbyteorder("<")
    return meta, encoded, np.frombuffer(decoded, dtype=dtype).reshape(meta["zarr"]["shape"])


def test_every_codec_has_vectors():
    covered = {json.loads(p.read_text())["codec"] for p in CASES}
    assert covered == CODEC_NAMES


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_vector_decodes_exactly(path: Path):
    meta, encoded, expected = _load(path)
    if meta["codec"] in NEEDS:
        module, extra = NEEDS[meta["codec"]]
        pytest.importorskip(module, reason=f"{meta['codec']} needs {extra}")
    got = _array(meta, encoded)[...]
    assert got.dtype == expected.dtype.newbyteorder("=")
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected, strict=True)


@pytest.mark.parametrize("path", [p for p in CASES if p.parent.name in ("lzw", "packbits", "pad", "complex_int")],
                         ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_truncated_vector_is_refused_or_short(path: Path):
    """Half a chunk never reads as a full one: the codec raises or (pad with min_bytes) refuses the short chunk."""
    meta, encoded, expected = _load(path)
    if len(encoded) < 8:
        pytest.skip("too small to truncate meaningfully")
    try:
        got = _array(meta, encoded[: len(encoded) // 2])[...]
    except (TiffFormatError, ValueError, RuntimeError, zlib.error):
        return
    assert not np.array_equal(got, expected)
