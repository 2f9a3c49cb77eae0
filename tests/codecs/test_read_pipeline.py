"""``GroupedReadPipeline`` and the fused Deflate + predictor decoder must not change a single byte.

Every conformance and sparse case is read through zarr with ``use_fast_decoders()`` (libdeflate, grouped
fetch, one-pass Deflate + Predictor=2) and compared with tifffile's decode, whole and through windows
that cut chunks; the committed-Icechunk and plain-zarr paths (missing chunks, sharding) are checked too.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import tifffile
import zarr

from tests.support.cases import CASES, SPARSE
from tests.support.helpers import expected_array, file_url, make_registry, write_case, write_sparse
from virtual_geotiff import VirtualTIFF, use_default_decoders, use_fast_decoders
from virtual_geotiff.fastread import pipeline
from virtual_geotiff.fastread.fused import fused_decoder
from virtual_geotiff.fastread.pipeline import GroupedReadPipeline


@pytest.fixture
def fast():
    use_fast_decoders()
    try:
        yield
    finally:
        use_default_decoders()
    assert zarr.config.get("codec_pipeline.path") == pipeline.ZARR_PIPELINE


def _array(path, ifd: int = 0) -> zarr.Array:
    return zarr.open_group(VirtualTIFF(ifd=ifd)(file_url(path), make_registry()), mode="r", zarr_format=3)["0"]


def _check(arr: zarr.Array, want: np.ndarray) -> None:
    """Whole array, then windows that start and end inside chunks (edge chunks included)."""
    assert isinstance(arr._async_array.codec_pipeline, GroupedReadPipeline)
    np.testing.assert_array_equal(arr[:], want, strict=True)
    h, w = want.shape[-2:]
    for y0, x0, y1, x1 in ((3, 5, h - 2, w - 7), (h // 2, w // 3, h, w), (0, 0, 1, w)):
        np.testing.assert_array_equal(arr[..., y0:y1, x0:x1], want[..., y0:y1, x0:x1], strict=True)


def _native(a: np.ndarray) -> np.ndarray:
    return a.astype(a.dtype.newbyteorder("="))


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_conformance_cases_through_the_pipeline(case, tmp_path, fast):
    path = tmp_path / "case.tif"
    write_case(case, path)
    _check(_array(path), _native(expected_array(path)))


@pytest.mark.parametrize(("dtype", "compression", "samples", "planar", "missing"), SPARSE)
def test_sparse_tiles_through_the_pipeline(tmp_path, dtype, compression, samples, planar, missing, fast):
    path = tmp_path / "sparse.tif"
    write_sparse(path, dtype, compression, samples, planar, missing)
    _check(_array(path), _native(expected_array(path)))


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_deflate_predictor_many_small_tiles(tmp_path, dtype, byteorder, fast):
    """The Sentinel-2 chain (Deflate + Predictor=2, many tiles, ragged edges) equals tifffile, wrapping sums
    included; big-endian files take the codec chain (the fused path only takes native byte order)."""
    rng = np.random.default_rng(7)
    info = np.iinfo(dtype)
    data = rng.integers(info.min, info.max, (150, 170), dtype=dtype, endpoint=True)
    path = tmp_path / "s2.tif"
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib", predictor=2, byteorder=byteorder)
    want = tifffile.imread(path)
    np.testing.assert_array_equal(want, data)
    _check(_array(path), _native(want))


def test_fused_decoder_matches_the_chain_and_declines_what_it_cannot_take(tmp_path, fast):
    data = np.random.default_rng(1).integers(0, 65535, (64, 64), dtype=np.uint16)
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, data, tile=(64, 64), compression="zlib", predictor=2)
    arr = _array(path)
    pipe = arr._async_array.codec_pipeline
    from zarr.core.array_spec import ArrayConfig, ArraySpec
    from zarr.core.buffer import default_buffer_prototype

    spec = ArraySpec(shape=(64, 64), dtype=arr._async_array.metadata.data_type, fill_value=0,
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())
    found = fused_decoder(pipe.array_array_codecs, pipe.array_bytes_codec, pipe.bytes_bytes_codecs, spec)
    assert found is not None
    decode, nbytes = found
    assert nbytes == data.nbytes
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        with open(path, "rb") as fh:
            fh.seek(page.dataoffsets[0])
            stored = fh.read(page.databytecounts[0])
    buf = default_buffer_prototype().buffer.from_bytes
    scratch = np.empty(nbytes, np.uint8)
    np.testing.assert_array_equal(decode(buf(stored), scratch), data)
    # Too little output, too much output, garbage: declined (None), the codec chain decides.
    assert decode(buf(zlib.compress(b"\0" * (nbytes - 2))), scratch) is None
    assert decode(buf(zlib.compress(b"\0" * (nbytes + 2))), scratch) is None
    assert decode(buf(b"not a zlib stream"), scratch) is None
    # Chains it does not fuse: zarr's own zlib class, or another codec after bytes.
    from zarr.codecs import TransposeCodec

    assert fused_decoder((TransposeCodec(order=(1, 0)),), pipe.array_bytes_codec, pipe.bytes_bytes_codecs,
                         spec) is None
    assert fused_decoder(pipe.array_array_codecs, pipe.array_bytes_codec, (), spec) is None


def test_corrupt_chunk_fails_as_without_the_pipeline(tmp_path):
    data = np.random.default_rng(2).integers(0, 65535, (64, 64), dtype=np.uint16)
    path = tmp_path / "bad.tif"
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib", predictor=2)
    with tifffile.TiffFile(path) as tif:
        offset = tif.pages[0].dataoffsets[1]
    with open(path, "r+b") as fh:
        fh.seek(offset + 2)
        fh.write(b"\xff" * 8)
    errors = []
    for fast_reads in (False, True):
        if fast_reads:
            use_fast_decoders()
        try:
            with pytest.raises(Exception) as info:
                _array(path)[:]
            errors.append(type(info.value))
        finally:
            use_default_decoders()
    assert errors[0] is errors[1]


def test_plain_zarr_missing_chunks_and_sharding(tmp_path, fast):
    """Arrays that are not TIFFs: missing chunks read as the fill value, sharded arrays use zarr's path."""
    data = np.arange(100 * 90, dtype="int32").reshape(100, 90)
    plain = zarr.create_array(tmp_path / "p.zarr", shape=data.shape, chunks=(16, 16), dtype="int32",
                              fill_value=-7, compressors=None)
    plain[:48, :] = data[:48, :]
    sharded = zarr.create_array(tmp_path / "s.zarr", shape=data.shape, chunks=(10, 10), shards=(20, 30),
                                dtype="int32")
    sharded[:] = data
    want = data.copy()
    want[48:, :] = -7
    reopened = zarr.open_array(tmp_path / "p.zarr", mode="r")
    _check(reopened, want)
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "s.zarr", mode="r")[5:95, 7:80], data[5:95, 7:80])


def test_committed_icechunk_reads_through_the_pipeline(tmp_path, fast):
    import icechunk as ic

    from virtual_geotiff.cube import open_virtual_cube
    from virtual_geotiff.icechunk import create_repository, open_repository, publish

    data = np.random.default_rng(4).integers(0, 65535, (130, 150), dtype=np.uint16)
    path = tmp_path / "a.tif"
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib", predictor=2)
    reg = make_registry()
    cube = open_virtual_cube([file_url(path)], reg)
    storage = ic.local_filesystem_storage(str(tmp_path / "repo"))
    publish(cube.dataset, create_repository(storage, cube.sources, registry=reg), sources=cube.sources, registry=reg)
    session = open_repository(storage, registry=reg).readonly_session("main")
    arr = zarr.open_group(session.store, mode="r", zarr_format=3)["data"]
    _check(arr, data.reshape(arr.shape))

    # An Icechunk array with chunks never written: the batched fetch falls back, missing reads as fill.
    repo = ic.Repository.create(ic.in_memory_storage())
    writable = repo.writable_session("main")
    native = zarr.create_array(writable.store, name="n", shape=(64, 64), chunks=(16, 16), dtype="uint16",
                               fill_value=9)
    native[:16, :] = data[:16, :64]
    want = np.full((64, 64), 9, np.uint16)
    want[:16] = data[:16, :64]
    _check(zarr.open_array(writable.store, path="n", mode="r"), want)


def test_group_size():
    assert pipeline.group_size(1) == 1
    assert pipeline.group_size(10**6) == pipeline.MAX_GROUP
    assert 1 <= pipeline.group_size(25) <= 25


def _s2_like(path, shape=(150, 170), tile=(32, 32)) -> np.ndarray:
    data = np.random.default_rng(5).integers(0, 65535, shape, dtype=np.uint16)
    tifffile.imwrite(path, data, tile=tile, compression="zlib", predictor=2)
    return data


def test_http_reads_batch_ranges_per_file(tmp_path, http_server, fast):
    """Over HTTP a group's chunks go to the store as one ``get_ranges`` call: fewer requests than chunks
    (adjacent tiles coalesce), and the same pixels."""
    data = _s2_like(tmp_path / "a.tif")
    store = VirtualTIFF(ifd=0)(http_server.url_for("a.tif"), http_server.registry())
    arr = zarr.open_group(store, mode="r", zarr_format=3)["0"]
    _check(arr, data)
    http_server.clear()
    np.testing.assert_array_equal(arr[:], data)
    gets = [r for r in http_server.records if r.method == "GET"]
    assert 0 < len(gets) <= -(-30 // pipeline.group_size(30, 32 * 32 * 2))  # 30 chunks, one call per group


def test_s3_reads_through_the_pipeline(tmp_path, s3_server, fast):
    data = _s2_like(tmp_path / "a.tif")
    bucket = s3_server.make_bucket()
    [url] = s3_server.upload_dir(bucket, tmp_path, prefix="p")
    store = VirtualTIFF(ifd=0)(url, s3_server.registry(bucket))
    _check(zarr.open_group(store, mode="r", zarr_format=3)["0"], data)


def test_icechunk_changed_source_still_fails_the_read(tmp_path, fast):
    """A batched Icechunk fetch that fails (here: the source changed since publishing) is retried per key,
    so the read fails with Icechunk's own checksum error, as under zarr's pipeline."""
    import time

    import icechunk as ic

    from virtual_geotiff.cube import open_virtual_cube
    from virtual_geotiff.icechunk import create_repository, open_repository, publish

    path = tmp_path / "a.tif"
    _s2_like(path)
    reg = make_registry()
    cube = open_virtual_cube([file_url(path)], reg)
    storage = ic.local_filesystem_storage(str(tmp_path / "repo"))
    publish(cube.dataset, create_repository(storage, cube.sources, registry=reg), sources=cube.sources, registry=reg)
    time.sleep(1.1)  # Icechunk checks local files by last-modified, in whole seconds
    data = np.random.default_rng(6).integers(0, 65535, (150, 170), dtype=np.uint16)
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib", predictor=2)
    arr = zarr.open_group(open_repository(storage, registry=reg).readonly_session("main").store, mode="r",
                          zarr_format=3)["data"]
    assert isinstance(arr._async_array.codec_pipeline, GroupedReadPipeline)
    with pytest.raises(ic.IcechunkError, match="checksum of the object owning the virtual chunk has changed"):
        arr[:]
