"""Round trip through a real on-disk Icechunk repository.

``open_virtual_dataset(..., parser=VirtualTIFF(ifd=0))`` -> ``vds.vz.to_icechunk`` -> commit -> a new
read-only session -> ``xr.open_zarr``: the pixels must equal tifffile's decode of the source file. The
virtual chunks point at the TIFF in ``tmp_path/data`` through a ``file://<tmp_path>/data/`` virtual chunk
container (Icechunk refuses a bare ``file:///`` prefix: "Url prefix for file:// containers must include a
path").
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.support.helpers import (
    TILE,
    WIDTH,
    Case,
    assert_same,
    blank_chunks,
    expected_array,
    file_url,
    make_registry,
    write_case,
)
from tests.support.tiff_edit import zero_entries
from virtual_geotiff import VirtualTIFF

icechunk = pytest.importorskip("icechunk")
virtualizarr = pytest.importorskip("virtualizarr")

# (case, chunks to blank out by zeroing their offsets and byte counts)
CASES = [
    pytest.param(Case("uint16", "zlib", "strips-partial", predictor=2), set(), id="deflate-pred2-strips-partial"),
    pytest.param(Case("uint8", "zstd", "tiles", samples=3), set(), id="zstd-tiles-rgb"),
    pytest.param(Case("int16", "lzw", "strips-partial", samples=3, planar="separate"), set(), id="lzw-planar"),
    pytest.param(Case("float32", "zlib", "tiles", predictor=3), set(), id="float32-pred3"),
    pytest.param(Case("int32", "zlib", "tiles", samples=3, predictor=2, byteorder=">"), set(), id="big-endian"),
    pytest.param(Case("uint16", "zstd", "tiles"), {0, 5, 11}, id="sparse"),
    pytest.param(Case("uint8", "jpeg", "tiles", samples=3, photometric="rgb", subsampling=(2, 2)), set(),
                 id="jpeg-ycbcr"),
]


def _repository(path, data_dir, *, create: bool):
    container = f"file://{data_dir}/"
    storage = icechunk.local_filesystem_storage(str(path))
    credentials = icechunk.containers_credentials({container: None})
    if not create:
        return icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(
        icechunk.VirtualChunkContainer(container, icechunk.local_filesystem_store(str(data_dir)))
    )
    return icechunk.Repository.create(storage, config, authorize_virtual_chunk_access=credentials)


def _source(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    return data_dir, data_dir / "source.tif"


@pytest.mark.parametrize(("case", "missing"), CASES)
def test_icechunk_roundtrip(tmp_path, case, missing):
    data_dir, source = _source(tmp_path)
    data = write_case(case, source)
    if missing:
        kind = "Tile" if case.layout == "tiles" else "Strip"
        zero_entries(source, f"{kind}Offsets", missing)
        zero_entries(source, f"{kind}ByteCounts", missing)
        chunk = TILE if case.layout == "tiles" else (case.rowsperstrip, WIDTH)
        np.testing.assert_array_equal(expected_array(source), blank_chunks(data, False, chunk, missing))
    expected = expected_array(source)

    vds = virtualizarr.open_virtual_dataset(file_url(source), registry=make_registry(),
                                            parser=VirtualTIFF(ifd=0))
    assert list(vds.data_vars) == ["0"]
    repo = _repository(tmp_path / "repo", data_dir, create=True)
    session = repo.writable_session("main")
    vds.vz.to_icechunk(session.store)
    session.commit(f"virtual {case.id}")

    readonly = _repository(tmp_path / "repo", data_dir, create=False).readonly_session("main")
    ds = xr.open_zarr(readonly.store, zarr_format=3, consolidated=False)
    assert list(ds.data_vars) == ["0"]
    assert_same(ds["0"], expected)
    chunks = _chunk_keys(readonly)
    grid = [-(-s // c) for s, c in zip(ds["0"].shape, ds["0"].encoding["chunks"])]
    # Missing chunks are not written as references at all: they read as the fill value.
    assert len(chunks) == int(np.prod(grid)) - len(missing)
    if missing:
        assert "0/c/0/0" not in chunks


def _chunk_keys(session) -> list[str]:
    import asyncio

    async def collect() -> list[str]:
        return [key async for key in session.store.list_prefix("0") if key.startswith("0/c/")]

    return asyncio.run(collect())


def test_icechunk_requires_authorized_container(tmp_path):
    """Without authorising the container, Icechunk refuses to read the virtual chunks (nothing silent)."""
    data_dir, source = _source(tmp_path)
    write_case(Case("uint16", "zlib", "tiles"), source)
    vds = virtualizarr.open_virtual_dataset(file_url(source), registry=make_registry(), parser=VirtualTIFF(ifd=0))
    repo = _repository(tmp_path / "repo", data_dir, create=True)
    session = repo.writable_session("main")
    vds.vz.to_icechunk(session.store)
    session.commit("virtual")
    unauthorised = icechunk.Repository.open(icechunk.local_filesystem_storage(str(tmp_path / "repo")))
    ds = xr.open_zarr(unauthorised.readonly_session("main").store, zarr_format=3, consolidated=False)
    with pytest.raises(icechunk.IcechunkError, match=r"authorize\s+the\s+virtual\s+chunk\s+container"):
        ds["0"].values  # noqa: B018
