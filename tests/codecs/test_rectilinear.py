"""Short last strips without the ``virtual_geotiff.pad`` codec: a rectilinear chunk grid (issue 15).

The experiment behind docs/how-it-works.md, "Short last strips: pad codec or rectilinear grid?". A stripped
GeoTIFF whose height is not a multiple of RowsPerStrip (37 rows, 8 per strip: the last strip holds 5) is
published to Icechunk twice by hand, with the parser's own references and codecs minus ``pad``:

- on the regular grid the parser uses, the short strip cannot decode without ``pad`` (why the codec exists);
- on a rectilinear grid (row edges 8, 8, 8, 8, 5) it decodes exactly, with only portable codecs.

What this test pins down (each assertion fails when the ecosystem changes, so the decision gets revisited):
zarr needs ``array.rectilinear_chunks`` to write *and* to read such metadata; Icechunk 2.3 stores and serves
virtual references for it; xarray reads it under the flag; VirtualiZarr 2.8's ``ManifestArray`` refuses it;
zarrs reads it (when installed); GDAL's Zarr driver refuses it. The parser keeps ``pad`` + a regular grid.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
import xarray as xr
import zarr
from rasterio.transform import from_origin
from zarr.core.metadata.v3 import RectilinearChunksDisabledError

from tests.support.helpers import make_registry
from virtual_geotiff import VirtualTIFF
from virtual_geotiff._upstream import manifest_group

icechunk = pytest.importorskip("icechunk")

HEIGHT, WIDTH, ROWS = 37, 53, 8
EDGES = (ROWS,) * (HEIGHT // ROWS) + (HEIGHT % ROWS,)  # 8, 8, 8, 8, 5
RECTILINEAR = {"array.rectilinear_chunks": True}


@pytest.fixture(params=["none", "deflate"])
def stripped(request, tmp_path) -> tuple[Path, np.ndarray]:
    """A stripped GeoTIFF with a short last strip, and rasterio's decode of it."""
    path = tmp_path / f"strips-{request.param}.tif"
    data = np.random.default_rng(3).integers(0, 60_000, (HEIGHT, WIDTH), dtype="uint16")
    with rasterio.open(path, "w", driver="GTiff", width=WIDTH, height=HEIGHT, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500_000, 4_000_000, 10, 10), blockysize=ROWS,
                       compress=request.param) as dst:
        dst.write(data, 1)
    with rasterio.open(path) as src:
        assert src.block_shapes == [(ROWS, WIDTH)]  # strips: one block is RowsPerStrip full rows
        expected = src.read(1)
    return path, expected


def parsed(path: Path):
    """The parser's virtual array for IFD 0 (what ``VirtualTIFF`` publishes today)."""
    registry = make_registry()
    store = VirtualTIFF(ifd=0)(url="file://" + str(path), registry=registry)
    return manifest_group(store).arrays["0"]


def references(marr) -> tuple[list[str], np.ndarray, np.ndarray]:
    entries = [marr.manifest.get_entry((i, 0)) for i in range(marr.manifest.shape_chunk_grid[0])]
    return ([e["path"] for e in entries], np.array([e["offset"] for e in entries], dtype=np.uint64),
            np.array([e["length"] for e in entries], dtype=np.uint64))


def codecs_without_pad(marr) -> list[dict]:
    codecs = [c for c in marr.metadata.to_dict()["codecs"] if c["name"] != "virtual_geotiff.pad"]
    assert {c["name"] for c in codecs} <= {"bytes", "numcodecs.zlib"}  # portable names only
    return codecs


def new_repo(root: Path):
    config = icechunk.RepositoryConfig.default()
    prefix = "file://" + str(root) + "/"
    container = icechunk.VirtualChunkContainer(prefix, icechunk.local_filesystem_store(str(root)))
    config.set_virtual_chunk_container(container)
    storage = icechunk.in_memory_storage()
    repo = icechunk.Repository.create(storage, config)
    credentials = icechunk.containers_credentials({prefix: icechunk.credentials.LocalFileSystemAccess})
    return repo, lambda: icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)


def publish(path: Path, chunks: Any) -> Callable[[], Any]:
    """Write the parser's references under ``chunks`` (a regular shape or rectilinear edges) without ``pad``;
    return a function giving a read-only store of the commit."""
    marr = parsed(path)
    paths, offsets, lengths = references(marr)
    repo, reopen = new_repo(path.parent)
    session = repo.writable_session("main")
    meta = marr.metadata.to_dict()
    zarr.create_array(session.store, name="0", shape=(HEIGHT, WIDTH), chunks=chunks, dtype="uint16",
                      serializer=codecs_without_pad(marr)[0], compressors=codecs_without_pad(marr)[1:],
                      fill_value=0, dimension_names=("y", "x"), attributes=meta["attributes"])
    session.store.set_virtual_refs_arr("0", (len(paths), 1), paths, offsets, lengths)
    session.commit("stripped GeoTIFF")
    return lambda: reopen().readonly_session(branch="main").store


def test_parser_pads_the_short_last_strip(stripped):
    """Today's default: a regular grid of full strips and ``pad``, the only non-portable codec here."""
    path, _ = stripped
    marr = parsed(path)
    meta = marr.metadata.to_dict()
    assert meta["chunk_grid"] == {"name": "regular", "configuration": {"chunk_shape": (ROWS, WIDTH)}}
    assert "virtual_geotiff.pad" in [c["name"] for c in meta["codecs"]]
    if "numcodecs.zlib" not in [c["name"] for c in meta["codecs"]]:  # uncompressed: the strip is 5 rows long
        assert marr.manifest.get_entry((len(EDGES) - 1, 0))["length"] == EDGES[-1] * WIDTH * 2


def test_regular_grid_without_pad_cannot_read_the_last_strip(stripped):
    path, expected = stripped
    with zarr.config.set(RECTILINEAR):  # not needed here; the same settings as the rectilinear case
        store = publish(path, (ROWS, WIDTH))()
        arr = zarr.open_array(store, path="0", mode="r")
        np.testing.assert_array_equal(arr[: HEIGHT - EDGES[-1]], expected[: HEIGHT - EDGES[-1]])
        with pytest.raises(ValueError, match=f"cannot reshape array of size {EDGES[-1] * WIDTH}"):
            arr[HEIGHT - 1]


def test_rectilinear_grid_reads_exactly_with_portable_codecs(stripped):
    path, expected = stripped
    with zarr.config.set(RECTILINEAR):
        opened = publish(path, [list(EDGES), [WIDTH]])
        arr = zarr.open_array(opened(), path="0", mode="r")
        assert arr.metadata.to_dict()["chunk_grid"]["name"] == "rectilinear"
        np.testing.assert_array_equal(arr[:], expected)
        np.testing.assert_array_equal(arr[30:37, 10:20], expected[30:37, 10:20])  # across the short strip
        ds = xr.open_zarr(opened(), zarr_format=3, consolidated=False)
        np.testing.assert_array_equal(ds["0"].values, expected)


def test_readers_must_opt_in(stripped):
    """zarr refuses rectilinear metadata both ways unless ``array.rectilinear_chunks`` is set. When this starts
    failing, readers no longer need to opt in: reconsider making the rectilinear grid the default."""
    path, _ = stripped
    assert zarr.config.get("array.rectilinear_chunks") is False
    with pytest.raises(RectilinearChunksDisabledError):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(HEIGHT, WIDTH), chunks=[list(EDGES), [WIDTH]],
                          dtype="uint16")
    with zarr.config.set(RECTILINEAR):
        opened = publish(path, [list(EDGES), [WIDTH]])
    with pytest.raises(RectilinearChunksDisabledError):
        zarr.open_array(opened(), path="0", mode="r")
    with pytest.raises(RectilinearChunksDisabledError):
        xr.open_zarr(opened(), zarr_format=3, consolidated=False)


def test_virtualizarr_manifest_array_refuses_rectilinear_grids(stripped):
    path, _ = stripped
    from virtualizarr.manifests import ManifestArray
    from zarr.core.metadata.v3 import ArrayV3Metadata

    marr = parsed(path)
    meta = marr.metadata.to_dict()
    meta["chunk_grid"] = {"name": "rectilinear", "configuration": {"kind": "inline", "chunk_shapes": [list(EDGES),
                                                                                                       [WIDTH]]}}
    with zarr.config.set(RECTILINEAR):
        metadata = ArrayV3Metadata.from_dict(meta)
        with pytest.raises(NotImplementedError, match="RegularChunkGrid"):
            ManifestArray(metadata=metadata, chunkmanifest=marr.manifest)


def native_copy(tmp_path: Path, expected: np.ndarray) -> Path:
    """The same array written natively (zarr-python, rectilinear grid) to a local store other readers open."""
    root = tmp_path / "native.zarr"
    with zarr.config.set(RECTILINEAR):
        arr = zarr.create_array(zarr.storage.LocalStore(root), name="0", shape=(HEIGHT, WIDTH),
                                chunks=[list(EDGES), [WIDTH]], dtype="uint16",
                                compressors=[{"name": "numcodecs.zlib", "configuration": {"level": 6}}], fill_value=0)
        arr[:] = expected
    return root


def test_zarrs_reads_rectilinear_grids(stripped, tmp_path):
    """zarrs (Rust) decodes the rectilinear array itself (strict: no fallback to zarr-python's pipeline); the
    metadata still goes through zarr-python, so the opt-in applies. zarrs-python reads local/fsspec/obstore
    stores only, not Icechunk, hence a native copy."""
    pytest.importorskip("zarrs")
    _, expected = stripped
    root = native_copy(tmp_path, expected)
    with zarr.config.set({**RECTILINEAR, "codec_pipeline.path": "zarrs.ZarrsCodecPipeline",
                          "codec_pipeline.strict": True}):
        arr = zarr.open_array(zarr.storage.LocalStore(root), path="0", mode="r")
        assert type(arr._async_array.codec_pipeline).__module__.startswith("zarrs")
        np.testing.assert_array_equal(arr[:], expected)


def test_gdal_zarr_driver_refuses_rectilinear_grids(stripped, tmp_path):
    _, expected = stripped
    root = native_copy(tmp_path, expected)
    with pytest.raises(rasterio.errors.RasterioIOError, match="regular"):
        rasterio.open(f'ZARR:"{root}":/0')
