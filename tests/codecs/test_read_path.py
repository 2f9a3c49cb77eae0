"""Read-path speed-ups must not change a single byte: libdeflate for ``numcodecs.zlib``, threaded predictor."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import tifffile
import xarray as xr
import zarr

from tests.support.helpers import make_registry
from virtual_geotiff import VirtualTIFF
from virtual_geotiff.codecs.predictor import _cumsum
from virtual_geotiff.fastread import use_default_decoders, use_fast_decoders
from virtual_geotiff.fastread.zlib import QUALNAME, LibdeflateZlib


def _open(path):
    store = VirtualTIFF(ifd=0)(path.as_uri(), make_registry())
    return xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"].values


@pytest.mark.parametrize("rowsperstrip", [None, 10])  # tiles, and strips with a short last strip
@pytest.mark.parametrize("predictor", [False, True])
def test_fast_zlib_decodes_what_tifffile_does(tmp_path, rowsperstrip, predictor):
    data = np.random.default_rng(3).integers(0, 60000, (3, 37, 53), dtype=np.uint16)
    path = tmp_path / "a.tif"
    kw = {"rowsperstrip": rowsperstrip} if rowsperstrip else {"tile": (16, 16)}
    tifffile.imwrite(path, data, compression="zlib", predictor=predictor, planarconfig="separate", **kw)
    use_fast_decoders()
    try:
        assert zarr.registry.get_codec_class("numcodecs.zlib") is LibdeflateZlib
        fast = _open(path)
    finally:
        use_default_decoders()
    assert zarr.registry.get_codec_class("numcodecs.zlib") is not LibdeflateZlib
    np.testing.assert_array_equal(fast, data)
    np.testing.assert_array_equal(fast, _open(path))


def test_fast_zlib_keeps_the_standard_name_and_falls_back_like_zlib():
    codec = LibdeflateZlib.from_dict({"name": "numcodecs.zlib", "configuration": {"level": 6}})
    assert codec.to_dict() == {"name": "numcodecs.zlib", "configuration": {"level": 6}}
    assert QUALNAME.endswith(LibdeflateZlib.__qualname__)
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.dtype import parse_data_type

    spec = ArraySpec(shape=(4,), dtype=parse_data_type("uint8", zarr_format=3), fill_value=0,
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
    proto = default_buffer_prototype().buffer
    # More output than the chunk holds: libdeflate refuses, Python's zlib decodes it (zarr's behaviour).
    long = zlib.compress(bytes(range(10)))
    assert codec._decode_sync(proto.from_bytes(long), spec).to_bytes() == bytes(range(10))
    with pytest.raises(zlib.error):
        codec._decode_sync(proto.from_bytes(long[:-3]), spec)


@pytest.mark.parametrize("dtype", ["u1", "u2", "u4", "u8"])
def test_predictor_sum_wraps_like_numpy(dtype):
    words = np.random.default_rng(0).integers(0, np.iinfo(dtype).max, (3, 5, 9), dtype=dtype, endpoint=True)
    before = words.copy()
    np.testing.assert_array_equal(_cumsum(words, -1), np.cumsum(words, axis=-1, dtype=words.dtype))
    np.testing.assert_array_equal(words, before)  # input untouched
    view = np.swapaxes(words, 0, -1)
    np.testing.assert_array_equal(_cumsum(view, -1), np.cumsum(view, axis=-1, dtype=words.dtype))
