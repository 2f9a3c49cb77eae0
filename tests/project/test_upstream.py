"""The private zarr and VirtualiZarr APIs the package relies on still exist and still behave as it assumes.

``virtual_geotiff._upstream`` (ManifestStore internals, zarr's synchronous codec chain) and
``virtual_geotiff.manifest.references`` (ChunkManifest's arrays) reach into private upstream names. When an
upgrade renames or removes one, some of these reaches would only fall back silently (the grouped read
becomes zarr's per-chunk read) and others would fail deep in a read; here each one fails at once, with a
message naming the upstream attribute and the function to mend.
"""

from __future__ import annotations

import asyncio
import inspect
import zlib
from pathlib import Path

import numpy as np
import obstore.store
import pytest
import tifffile
import virtualizarr.manifests.store as vz_store
import virtualizarr.manifests.utils as vz_utils
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup, ManifestStore
from virtualizarr.manifests.utils import create_v3_array_metadata
from zarr.codecs import BytesCodec
from zarr.codecs.numcodecs import Zlib
from zarr.core.array_spec import ArrayConfig, ArraySpec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.codec_pipeline import BatchedCodecPipeline
from zarr.core.dtype import get_data_type_from_native_dtype

from virtual_geotiff import VirtualTIFF, use_default_decoders, use_fast_decoders
from virtual_geotiff._upstream import (
    chunk_index,
    decodes_synchronously,
    deepest_node,
    has_manifest_internals,
    manifest_group,
    path_in_store,
    store_registry,
    sync_decode_chain,
)
from virtual_geotiff.codecs.predictor import HorizontalPredictorCodec
from virtual_geotiff.fastread.pipeline import GroupedReadPipeline, _batched_getter, _manifest_get_many
from virtual_geotiff.manifest import references

SHAPE, TILE = (48, 40), 16


def _tiff(tmp_path: Path) -> tuple[Path, np.ndarray]:
    data = np.arange(np.prod(SHAPE), dtype="<u2").reshape(SHAPE)
    path = tmp_path / "tiles.tif"
    tifffile.imwrite(path, data, tile=(TILE, TILE), compression="zlib")
    return path, data


def _registry(prefix: Path | None = None) -> ObjectStoreRegistry:
    if prefix is None:
        return ObjectStoreRegistry({"file://": obstore.store.LocalStore()})
    return ObjectStoreRegistry({prefix.as_uri(): obstore.store.LocalStore(prefix=prefix)})


def _chunk_keys(array: str = "0") -> list[str]:
    rows, cols = -(-SHAPE[0] // TILE), -(-SHAPE[1] // TILE)
    return [f"{array}/c/{i}/{j}" for i in range(rows) for j in range(cols)]


def _small_group() -> tuple[ManifestGroup, ManifestArray, ManifestArray]:
    meta = create_v3_array_metadata(shape=(4, 4), data_type=np.dtype("uint8"), chunk_shape=(2, 2),
                                    codecs=[{"name": "bytes"}])
    manifest = ChunkManifest({"0.0": {"path": "file:///data/a.bin", "offset": 8, "length": 4}})
    a = ManifestArray(metadata=meta, chunkmanifest=manifest)
    b = ManifestArray(metadata=meta, chunkmanifest=manifest)
    return ManifestGroup(arrays={"a": a}, groups={"g": ManifestGroup(arrays={"b": b})}), a, b


# -- VirtualiZarr: ManifestStore ----------------------------------------------------------------------


def test_manifest_store_keeps_its_group():
    group, _, _ = _small_group()
    store = ManifestStore(group)
    assert hasattr(store, "_group"), (
        "virtualizarr's ManifestStore no longer has `_group` (its root ManifestGroup): mend "
        "virtual_geotiff._upstream.manifest_group (used by GeoManifestStore and the grouped read)")
    assert manifest_group(store) is group


def test_manifest_store_keeps_its_registry():
    group, _, _ = _small_group()
    registry = _registry()
    store = ManifestStore(group, registry=registry)
    assert hasattr(store, "_registry"), (
        "virtualizarr's ManifestStore no longer has `_registry` (its ObjectStoreRegistry): mend "
        "virtual_geotiff._upstream.store_registry")
    assert store_registry(store) is registry
    obj_store, _ = store_registry(store).resolve("file:///data/a.bin")
    assert isinstance(obj_store, obstore.store.LocalStore), "ObjectStoreRegistry.resolve no longer gives (store, path)"


def test_manifest_store_helpers_are_importable():
    assert hasattr(vz_store, "_get_deepest_group_or_array"), (
        "virtualizarr.manifests.store._get_deepest_group_or_array is gone: mend virtual_geotiff._upstream.deepest_node"
        " (until then the grouped read silently falls back to one ManifestStore.get per chunk)")
    assert hasattr(vz_utils, "parse_manifest_index"), (
        "virtualizarr.manifests.utils.parse_manifest_index is gone: mend virtual_geotiff._upstream.chunk_index")
    group, _, _ = _small_group()
    assert has_manifest_internals(ManifestStore(group)), (
        "virtual_geotiff._upstream.has_manifest_internals is False for a plain ManifestStore: the grouped read "
        "falls back to one ManifestStore.get per chunk")


def test_deepest_node_follows_keys_as_manifest_store_get_does():
    group, a, b = _small_group()
    assert deepest_node(group, "a/c/0/1") == (a, "c/0/1")
    assert deepest_node(group, "g/b/c/1/0") == (b, "c/1/0")
    assert deepest_node(group, "zarr.json") == (group, "zarr.json")
    node, suffix = deepest_node(group, "g/zarr.json")
    assert node is group.groups["g"] and suffix == "zarr.json"


def test_chunk_index_parses_chunk_keys():
    assert chunk_index("a/c/1/2", "/") == (1, 2), "virtualizarr parse_manifest_index changed for '/' keys"
    assert chunk_index("a/c.1.2", ".") == (1, 2), "virtualizarr parse_manifest_index changed for '.' keys"
    assert chunk_index("a/c", "/") == (), "virtualizarr parse_manifest_index changed for scalar arrays"


@pytest.mark.parametrize("prefixed", [False, True], ids=["plain", "prefixed-store"])
def test_grouped_fetch_returns_what_manifest_store_get_returns(tmp_path, prefixed):
    """``_manifest_get_many`` mirrors ``ManifestStore.get`` (lookup, registry, prefix rule): same bytes per key."""
    path, _ = _tiff(tmp_path)
    store = VirtualTIFF(ifd=0)(path.as_uri(), _registry(tmp_path if prefixed else None))
    assert _batched_getter(store) is _manifest_get_many, "the parser's store is no longer read by grouped fetches"
    keys = [*_chunk_keys(), "0/zarr.json", "zarr.json"]
    prototype = default_buffer_prototype()

    async def both():
        grouped = await _manifest_get_many(store, keys, prototype)
        single = [await store.get(key, prototype) for key in keys]
        return grouped, single

    grouped, single = asyncio.run(both())
    for key, got, want in zip(keys, grouped, single, strict=True):
        assert want is not None and got is not None, key
        assert got.to_bytes() == want.to_bytes(), (
            f"the grouped fetch of {key!r} differs from ManifestStore.get: virtualizarr changed what get does; "
            "mend virtual_geotiff._upstream (path_in_store, chunk_index) and fastread.pipeline._manifest_get_many")


def test_path_in_store_is_manifest_store_gets_prefix_rule(tmp_path):
    url = (tmp_path / "sub" / "f.tif").as_uri()
    assert path_in_store(obstore.store.LocalStore(), url) == url.removeprefix("file:///")
    assert path_in_store(obstore.store.LocalStore(prefix=tmp_path), url) == "sub/f.tif"


def test_grouped_fetch_of_inlined_chunks():
    """ManifestStore.get serves chunks held in the manifest itself (path '__inlined__'); so must the grouped
    fetch (it hands them to ``get``)."""
    raw = bytes(range(4))
    manifest = ChunkManifest({"0": {"path": "", "offset": 0, "length": 4, "data": raw}})
    meta = create_v3_array_metadata(shape=(4,), data_type=np.dtype("uint8"), chunk_shape=(4,),
                                    codecs=[{"name": "bytes"}])
    store = ManifestStore(ManifestGroup(arrays={"a": ManifestArray(metadata=meta, chunkmanifest=manifest)}))
    got = asyncio.run(_manifest_get_many(store, ["a/c/0"], default_buffer_prototype()))
    assert got[0] is not None and got[0].to_bytes() == raw


# -- zarr: the codec pipeline ---------------------------------------------------------------------------


def _spec(shape: tuple[int, ...], dtype: str) -> ArraySpec:
    return ArraySpec(shape=shape, dtype=get_data_type_from_native_dtype(np.dtype(dtype)), fill_value=0,
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())


def test_codecs_decode_synchronously():
    for codec in (BytesCodec(), Zlib(level=6), HorizontalPredictorCodec()):
        assert decodes_synchronously(codec), (
            f"{type(codec).__name__} has no `_decode_sync`: zarr renamed its synchronous decode step; mend "
            "virtual_geotiff._upstream (until then GroupedReadPipeline hands every array to BatchedCodecPipeline)")


def test_sync_decode_chain_decodes_in_zarr_order():
    assert hasattr(BatchedCodecPipeline, "_codecs_with_resolved_metadata_batched"), (
        "zarr's BatchedCodecPipeline._codecs_with_resolved_metadata_batched is gone: mend "
        "virtual_geotiff._upstream.sync_decode_chain")
    want = (np.arange(64, dtype="<u2").reshape(8, 8) * 37) % 1000
    stored = zlib.compress(np.diff(want, axis=-1, prepend=0).astype("<u2").tobytes())
    pipeline = BatchedCodecPipeline.from_codecs([HorizontalPredictorCodec(), BytesCodec(endian="little"),
                                                 Zlib(level=6)])
    chain = sync_decode_chain(pipeline, _spec((8, 8), "<u2"))
    assert len(chain) == 3
    decoded = default_buffer_prototype().buffer.from_bytes(stored)
    for decode, spec in chain:
        decoded = decode(decoded, spec)
    np.testing.assert_array_equal(decoded.as_numpy_array(), want)


def test_grouped_pipeline_overrides_zarrs_read():
    ours = list(inspect.signature(GroupedReadPipeline.read).parameters)
    zarrs = list(inspect.signature(BatchedCodecPipeline.read).parameters)
    assert ours == zarrs, (
        f"zarr's BatchedCodecPipeline.read takes {zarrs}, GroupedReadPipeline.read {ours}: zarr changed the read "
        "protocol; mend virtual_geotiff.fastread.pipeline")


def test_grouped_read_reports_each_chunks_status(tmp_path):
    """zarr's pipeline ``read`` returns one GetResult per chunk, which zarr reads when
    ``array.read_missing_chunks`` is False: the grouped pipeline must return them too."""
    path, data = _tiff(tmp_path)
    store = VirtualTIFF(ifd=0)(path.as_uri(), _registry())
    use_fast_decoders()
    try:
        with zarr.config.set({"array.read_missing_chunks": False}):
            arr = zarr.open_group(store, mode="r", zarr_format=3)["0"]
            np.testing.assert_array_equal(arr[:], data)
    finally:
        use_default_decoders()


def test_grouped_read_reports_missing_chunks_as_zarr_does(tmp_path):
    """With ``array.read_missing_chunks`` False a sparse file's missing tile is an error in zarr's own pipeline;
    the grouped pipeline must report it the same way, not hide it behind the fill value."""
    from tests.support.helpers import file_url, make_registry, write_sparse

    path = tmp_path / "sparse.tif"
    write_sparse(path, "uint8", "zlib", 1, "contig", missing={1})
    outcomes = []
    for fast in (False, True):
        store = VirtualTIFF(ifd=0)(file_url(path), make_registry())
        if fast:
            use_fast_decoders()
        try:
            with zarr.config.set({"array.read_missing_chunks": False}):
                arr = zarr.open_group(store, mode="r", zarr_format=3)["0"]
                with pytest.raises(Exception) as info:
                    arr[:]
                outcomes.append(type(info.value))
        finally:
            use_default_decoders()
    assert outcomes[0] is outcomes[1], f"zarr raises {outcomes[0]}, the grouped pipeline {outcomes[1]}"


# -- VirtualiZarr: ChunkManifest's arrays (virtual_geotiff.manifest.references) ---------------------------


def test_manifest_references_reads_the_chunk_manifest_arrays(tmp_path):
    plain = ChunkManifest({"0.0": {"path": "file:///x", "offset": 0, "length": 1}})
    for name in ("_paths", "_offsets", "_lengths"):
        assert hasattr(plain, name), (
            f"virtualizarr's ChunkManifest no longer has `{name}`: mend virtual_geotiff.manifest.references")
    path, _ = _tiff(tmp_path)
    store = VirtualTIFF(ifd=0)(path.as_uri(), _registry())
    manifest = manifest_group(store).arrays["0"].manifest
    refs = references(manifest)
    assert refs.paths.shape == refs.offsets.shape == refs.lengths.shape == manifest.shape_chunk_grid
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offsets, lengths = list(page.dataoffsets), list(page.databytecounts)
    assert refs.offsets.ravel().tolist() == offsets, "ChunkManifest._offsets no longer holds the byte offsets"
    assert refs.lengths.ravel().tolist() == lengths, "ChunkManifest._lengths no longer holds the byte lengths"
    assert set(refs.paths.ravel().tolist()) == {path.as_uri()}, "ChunkManifest._paths no longer holds the URLs"
    for index in np.ndindex(manifest.shape_chunk_grid):
        entry = manifest.get_entry(index)
        assert (entry["path"], int(entry["offset"]), int(entry["length"])) == (
            refs.paths[index], int(refs.offsets[index]), int(refs.lengths[index]))
